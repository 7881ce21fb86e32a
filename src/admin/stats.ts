/**
 * /debug/stats: how the process and the hub are doing right now. Event-loop delay (the latency every
 * stream pays on top of the network), GC pauses, how full the streams' buffers are and how old the
 * streams are, the replay buffer against its bounds, and a round trip to the bus.
 */
import { monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';
import type { Bus } from '../bus/bus.js';
import type { Hub } from '../hub/hub.js';

// Enough pauses for stable p99 over the last minutes of a busy process, at a fixed cost.
const GC_WINDOW = 1024;
// The event-loop histogram's sampling step: finer costs timer wake-ups, coarser hides short stalls.
const LOOP_RESOLUTION_MS = 10;
// A bus round trip that takes longer is reported as missing rather than holding the answer up.
const BUS_RTT_TIMEOUT_MS = 2000;
const NS_PER_MS = 1e6;

/** Percentiles of a sample, by the nearest-rank method; zeros for an empty one. */
export interface Distribution {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export function distribution(values: readonly number[]): Distribution {
  if (values.length === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(values).sort();
  const rank = (p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
  return { count: sorted.length, p50: rank(0.5), p90: rank(0.9), p99: rank(0.99), max: sorted[sorted.length - 1]! };
}

/** The monitors that must run between two reads (event loop, GC); started with the admin listener. */
export class RuntimeMonitor {
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  private loopSince = Date.now();
  /** The last GC_WINDOW pause durations (ms), as a ring. */
  private readonly gcPauses = new Float64Array(GC_WINDOW);
  private gcCount = 0;
  private readonly gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) this.gcPauses[this.gcCount++ % GC_WINDOW] = entry.duration;
  });

  constructor() {
    this.loop.enable();
    this.gc.observe({ entryTypes: ['gc'] });
  }

  /** Event-loop delay since the previous read (then the histogram starts over), in ms. */
  takeLoopDelay(now = Date.now()): Distribution & { readonly sinceMs: number; readonly mean: number } {
    const h = this.loop;
    const seen = h.count > 0;
    const ms = (ns: number): number => (seen ? ns / NS_PER_MS : 0);
    const delay = { sinceMs: now - this.loopSince, count: h.count, mean: ms(h.mean), p50: ms(h.percentile(50)), p90: ms(h.percentile(90)), p99: ms(h.percentile(99)), max: ms(h.max) };
    h.reset();
    this.loopSince = now;
    return delay;
  }

  /** GC pauses: how many since start, and the distribution of the last GC_WINDOW, in ms. */
  gcPausesMs(): Distribution & { readonly total: number; readonly window: number } {
    const recent = this.gcPauses.subarray(0, Math.min(this.gcCount, GC_WINDOW));
    return { ...distribution(Array.from(recent)), total: this.gcCount, window: GC_WINDOW };
  }

  stop(): void {
    this.loop.disable();
    this.gc.disconnect();
  }
}

export async function collectStats(hub: Hub, monitor: RuntimeMonitor): Promise<object> {
  const { streams, maxBufferedBytes, replay } = hub.inspect();
  return {
    eventLoopDelayMs: monitor.takeLoopDelay(),
    gcPauseMs: monitor.gcPausesMs(),
    streams: {
      open: streams.length,
      bufferedBytes: { ...distribution(streams.map((s) => s.bufferedBytes)), limit: maxBufferedBytes },
      ageMs: distribution(streams.map((s) => s.ageMs)),
    },
    replay: { ...replay, eventsFill: fill(replay.events, replay.maxEvents), bytesFill: fill(replay.bytes, replay.maxBytes) },
    bus: { kind: hub.bus.kind, connected: hub.bus.isConnected(), roundTripMs: await busRoundTrip(hub.bus) },
    memory: process.memoryUsage(),
    uptimeSec: process.uptime(),
  };
}

function fill(used: number, bound: number): number {
  return bound > 0 ? used / bound : 0;
}

/** Null when the bus has no server (embedded), is away, or does not answer within BUS_RTT_TIMEOUT_MS. */
async function busRoundTrip(bus: Bus): Promise<number | null> {
  if (!bus.roundTripMs || !bus.isConnected()) return null;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), BUS_RTT_TIMEOUT_MS)));
  try {
    return await Promise.race([bus.roundTripMs().catch(() => null), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
