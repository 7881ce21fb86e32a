/**
 * CPU profiles of this process through node:inspector: Profiler.start, wait, Profiler.stop. The
 * result is V8's Profile object, which is what a `.cpuprofile` file holds (Chrome DevTools'
 * Performance panel and speedscope open it as is). One at a time: a second profiler session would
 * double the sampling cost and neither profile would show the hub alone.
 */
import { Session } from 'node:inspector';
import type { Profiler } from 'node:inspector';
import { ErrorCode, HubError } from '../errors.js';

/** How long a profile runs when `seconds` is not given. */
export const DEFAULT_PROFILE_SECONDS = 10;
/** The longest profile: sampling costs a few percent of CPU, and the result grows with time. */
export const MAX_PROFILE_SECONDS = 60;

/** `seconds` from the query: absent means the default; anything but 1..60 is refused. */
export function profileSeconds(query: string | null): number {
  if (query === null) return DEFAULT_PROFILE_SECONDS;
  const seconds = /^\d{1,3}$/.test(query) ? Number(query) : NaN;
  if (!(seconds >= 1 && seconds <= MAX_PROFILE_SECONDS)) {
    throw new HubError(ErrorCode.BadProfileSeconds, `seconds must be a whole number from 1 to ${MAX_PROFILE_SECONDS}, got ${JSON.stringify(query)}`);
  }
  return seconds;
}

export class CpuProfiler {
  private running = false;

  /**
   * Profile for `seconds`, or until `signal` aborts (the client left, the hub stops): then the
   * profile stops early and what was sampled is returned.
   */
  async take(seconds: number, signal: AbortSignal): Promise<Profiler.Profile> {
    if (this.running) throw new HubError(ErrorCode.ProfileInProgress, 'a CPU profile is already being taken; try again when it ends');
    this.running = true;
    const session = new Session();
    try {
      session.connect();
      await post(session, 'Profiler.enable');
      await post(session, 'Profiler.start');
      await untilTimeOrAbort(seconds * 1000, signal);
      const { profile } = (await post(session, 'Profiler.stop')) as Profiler.StopReturnType;
      return profile;
    } finally {
      session.disconnect();
      this.running = false;
    }
  }
}

function post(session: Session, method: string): Promise<object | undefined> {
  return new Promise((resolve, reject) => session.post(method, (err, result) => (err ? reject(err) : resolve(result))));
}

function untilTimeOrAbort(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
