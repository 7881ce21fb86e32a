/**
 * The hub's stdout is a pipe to whatever collects its logs. A reader that goes away (a log sidecar
 * dying, `| head -2`) must not keep the hub from exiting on SIGTERM, and with a healthy reader every
 * line logged before exit reaches it, "stopped" last.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { spawnHub } from '../helpers/hub-process.js';
import { freePort } from '../helpers/net.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

const SHUTDOWN_TIMEOUT_MS = 2000;
/** Start-up of a tsx process on a shared machine, and the hub's own bounded wait for its last lines. */
const EXIT_MARGIN_MS = 5000;
const ENV = { HUB_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) };

async function listening(port: number): Promise<void> {
  await waitFor('the hub to answer /healthz', () => fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false), 20_000, 50);
}

describe('the hub and its stdout [lifecycle]', () => {
  it('exits on SIGTERM when its stdout reader has gone (broken pipe)', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const child = spawnHub(ENV, port);
    const exited = once(child, 'exit');
    try {
      // `| head -2`: read two lines, then close the pipe, so every later write fails with EPIPE.
      const lines = createInterface({ input: child.stdout! });
      let read = 0;
      await withTimeout(
        'two log lines',
        new Promise<void>((resolve) => lines.on('line', () => ++read === 2 && resolve())),
        20_000,
      );
      lines.close();
      child.stdout!.destroy();
      await listening(port);
      child.kill('SIGTERM');
      const [code, signal] = (await withTimeout('the hub to exit after SIGTERM', exited, SHUTDOWN_TIMEOUT_MS + EXIT_MARGIN_MS)) as [number | null, string | null];
      expect({ code, signal }).toEqual({ code: 0, signal: null });
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('writes every line before it exits: "stopped" is always the last one', { timeout: 120_000 }, async () => {
    for (let run = 1; run <= 5; run++) {
      const port = await freePort();
      const child = spawnHub(ENV, port);
      try {
        const lines: string[] = [];
        createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
        const ended = once(child.stdout!, 'end');
        const exited = once(child, 'exit');
        await listening(port);
        child.kill('SIGTERM');
        const [code] = (await withTimeout('the hub to exit after SIGTERM', exited, SHUTDOWN_TIMEOUT_MS + EXIT_MARGIN_MS)) as [number | null];
        await withTimeout('the end of its stdout', ended, 5000);
        const messages = lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
        expect({ run, code, last: messages.at(-1), signalled: messages.includes('shutting down') }).toEqual({ run, code: 0, last: 'stopped', signalled: true });
      } finally {
        child.kill('SIGKILL');
      }
    }
  });
});
