/**
 * One /metrics answer for the whole pod when HUB_WORKERS > 1. Each worker keeps its own registry
 * (src/metrics.ts) and node:cluster hands each scrape to whichever worker is next, so a worker
 * alone would answer with its share only. Instead the worker that took the scrape asks the primary
 * over the cluster IPC channel; the primary asks every worker for its registry as JSON, waits at
 * most WORKER_ANSWER_DEADLINE_MS, combines them with prom-client's AggregatorRegistry.aggregate (each
 * metric by its `aggregator`) and sends the result back. A single process (HUB_WORKERS=1) answers
 * from its own registry, with no IPC.
 *
 * prom-client's clusterMetrics() is not used: it reads the global registry only, and after 5 s it
 * fails the whole scrape where one slow worker should be left out.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import type { Config } from './config.js';
import { ErrorCode, HubError } from './errors.js';
import type { Logger } from './log.js';

/**
 * How long the primary waits for each worker. Well inside Prometheus's default 10 s scrape timeout;
 * a worker that cannot read its registry in 1.5 s has an event loop stalled far worse than any
 * scrape should wait for.
 */
export const WORKER_ANSWER_DEADLINE_MS = 1500;
// The primary answers right after its own deadline; past this it is gone or wedged.
const PRIMARY_ANSWER_DEADLINE_MS = WORKER_ANSWER_DEADLINE_MS + 1000;

type MetricJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>[number];
type Sample = MetricJson['values'][number] & { readonly metricName?: string };

const MessageType = {
  /** worker → primary: a scrape came in, send me the pod's metrics. */
  Scrape: 'ssehub:metrics-scrape',
  /** primary → every worker: send me your registry. */
  Collect: 'ssehub:metrics-collect',
  /** worker → primary: my registry, for that round. */
  Collected: 'ssehub:metrics-collected',
  /** primary → the asking worker: the pod's metrics. */
  Pod: 'ssehub:metrics-pod',
} as const;

type Message =
  | { readonly type: typeof MessageType.Scrape; readonly id: number }
  | { readonly type: typeof MessageType.Collect; readonly round: number }
  | { readonly type: typeof MessageType.Collected; readonly round: number; readonly metrics: MetricJson[] }
  | { readonly type: typeof MessageType.Pod; readonly id: number; readonly metrics: MetricJson[] };

const isMessage = (message: unknown): message is Message =>
  typeof message === 'object' && message !== null && Object.values<unknown>(MessageType).includes((message as { type?: unknown }).type);

/** The metrics a scrape answers with: this process's registry, or the pod's. */
export interface PodMetrics {
  read(): Promise<Registry>;
}

let workerChannel: PrimaryChannel | undefined;

/** Where /metrics and /demo/stats read from, decided once per route at start. */
export function podMetrics(registry: Registry, config: Config, log: Logger): PodMetrics {
  // The same test main.ts makes: a worker of our own primary, which answers on the IPC channel.
  if (config.workers <= 1 || !cluster.isWorker) return { read: () => Promise.resolve(registry) };
  workerChannel ??= new PrimaryChannel(registry, log);
  if (workerChannel.registry !== registry) throw new Error('a cluster worker runs one hub: its registry is the one the primary collects');
  return workerChannel;
}

/** A worker's end of the IPC channel: answers the primary's rounds, asks it for the pod's metrics. */
class PrimaryChannel implements PodMetrics {
  private lastId = 0;
  private readonly waiting = new Map<number, (metrics: MetricJson[]) => void>();

  constructor(
    readonly registry: Registry,
    private readonly log: Logger,
  ) {
    process.on('message', (message) => {
      if (!isMessage(message)) return;
      if (message.type === MessageType.Collect) this.answer(message.round);
      else if (message.type === MessageType.Pod) this.waiting.get(message.id)?.(message.metrics);
    });
  }

  async read(): Promise<Registry> {
    const id = ++this.lastId;
    const metrics = await new Promise<MetricJson[] | undefined>((resolve) => {
      const timer = setTimeout(() => settle(undefined), PRIMARY_ANSWER_DEADLINE_MS);
      const settle = (answer: MetricJson[] | undefined): void => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(answer);
      };
      this.waiting.set(id, settle);
      this.send({ type: MessageType.Scrape, id });
    });
    if (!metrics) throw new HubError(ErrorCode.Internal, `the cluster primary did not answer for the pod's metrics within ${PRIMARY_ANSWER_DEADLINE_MS} ms`);
    // Already combined by the primary: aggregating one set only turns it back into a registry to render.
    return AggregatorRegistry.aggregate([metrics]);
  }

  private answer(round: number): void {
    this.registry.getMetricsAsJSON().then(
      (metrics) => this.send({ type: MessageType.Collected, round, metrics }),
      (err: unknown) => this.log.error({ err }, 'could not read this worker\'s metrics for a pod scrape'),
    );
  }

  private send(message: Message): void {
    // The channel closes when the primary goes; the worker is ending then, and the scrape times out.
    if (process.connected) process.send!(message, undefined, {}, (err) => err && this.log.debug({ err }, 'metrics message to the primary not sent'));
  }
}

/**
 * The primary's side: one round at a time (scrapes that come in meanwhile share it), every live
 * worker asked, the answers combined with each worker's last counters where it gave none.
 *
 * A counter that drops is a reset to Prometheus: rate() then counts its whole value again. So a
 * worker that misses the deadline still counts with the counters and histograms of its last answer
 * (its gauges are left out: an old gauge would be a wrong one), and a worker that exits leaves its
 * last counters to the pod's. Only what a worker counted since its last answer before exiting is
 * lost, as with a process restart; the pod's counters never go down while the primary runs.
 */
export class PodMetricsCollector {
  /** The primary's own figures, added to every answer. */
  private readonly registry = new Registry();
  private readonly timeouts = new Counter({
    name: 'ssehub_cluster_scrape_timeouts_total',
    help: `Worker answers missing from a /metrics scrape (none within ${WORKER_ANSWER_DEADLINE_MS} ms): that worker's gauges were left out of it and its counters taken from its last answer.`,
    registers: [this.registry],
  });
  private lastRound = 0;
  private current: { readonly round: number; readonly answer: (workerId: number, metrics: MetricJson[]) => void } | undefined;
  private inFlight: Promise<MetricJson[]> | undefined;
  /** Each worker's counters and histograms from its last answer, by worker id. */
  private readonly lastCounters = new Map<number, MetricJson[]>();
  /** The last counters of every worker that exited, summed. */
  private retired: MetricJson[] = [];

  constructor(private readonly log: Logger) {
    new Gauge({ name: 'ssehub_cluster_workers', help: 'Hub worker processes running in this pod (HUB_WORKERS > 1 only).', registers: [this.registry], collect() { this.set(liveWorkers().length); } });
    cluster.on('message', (worker, message) => this.onMessage(worker, message));
    cluster.on('exit', (worker) => this.retire(worker.id));
  }

  /** The pod's metrics, as JSON: every worker's, combined, and the primary's own. */
  collect(): Promise<MetricJson[]> {
    return (this.inFlight ??= this.round().finally(() => (this.inFlight = undefined)));
  }

  private onMessage(worker: Worker, message: unknown): void {
    if (!isMessage(message)) return;
    if (message.type === MessageType.Collected) {
      if (this.current?.round === message.round) this.current.answer(worker.id, message.metrics);
    } else if (message.type === MessageType.Scrape) {
      this.collect().then(
        (metrics) => this.send(worker, { type: MessageType.Pod, id: message.id, metrics }),
        (err: unknown) => this.log.error({ err }, 'could not combine the workers\' metrics'),
      );
    }
  }

  private async round(): Promise<MetricJson[]> {
    const round = ++this.lastRound;
    const asked = liveWorkers();
    const answers = new Map<number, MetricJson[]>();
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.current = undefined;
        resolve();
      };
      const timer = setTimeout(done, WORKER_ANSWER_DEADLINE_MS);
      this.current = {
        round,
        answer: (workerId, metrics) => {
          answers.set(workerId, metrics);
          // At once, not when the round ends: a worker that exits meanwhile leaves these to `retired`.
          if (cluster.workers?.[workerId]?.isDead() === false) this.lastCounters.set(workerId, countersOf(metrics));
          if (answers.size === asked.length) done();
        },
      };
      for (const worker of asked) this.send(worker, { type: MessageType.Collect, round });
      if (asked.length === 0) done();
    });

    const parts: MetricJson[][] = [this.retired];
    for (const [workerId, counters] of this.lastCounters) {
      // A worker that answered and then exited is in `retired` alone: counting its answer too would count it twice.
      parts.push(answers.get(workerId) ?? counters);
    }
    for (const worker of asked) {
      if (answers.has(worker.id) || worker.isDead()) continue;
      this.timeouts.inc();
      this.log.warn({ pid: worker.process.pid, deadlineMs: WORKER_ANSWER_DEADLINE_MS }, 'a worker did not answer a metrics scrape in time: its gauges are left out, its counters are from its last answer');
    }
    parts.push(await this.registry.getMetricsAsJSON());
    return AggregatorRegistry.aggregate(parts).getMetricsAsJSON();
  }

  private send(worker: Worker, message: Message): void {
    // A worker may go between being asked and being answered; without a callback a failed send
    // would be an 'error' event the primary does not handle.
    if (worker.isConnected()) worker.send(message, undefined, {}, (err) => err && this.log.debug({ err, pid: worker.process.pid }, 'metrics message to a worker not sent'));
  }

  private retire(workerId: number): void {
    const last = this.lastCounters.get(workerId);
    this.lastCounters.delete(workerId);
    if (last) this.retired = addSamples(this.retired, last);
  }
}

function liveWorkers(): Worker[] {
  return Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && worker.isConnected());
}

// prom-client's types say MetricType; the objects carry its name ('counter', 'histogram', ...).
const MONOTONIC_TYPES: ReadonlySet<string> = new Set(['counter', 'histogram']);

/** The counters and histograms of a registry's JSON: what only goes up, and so may stand in for a worker. */
export function countersOf(metrics: readonly MetricJson[]): MetricJson[] {
  return metrics.filter((metric) => MONOTONIC_TYPES.has(String(metric.type)));
}

/**
 * `a` plus `b`, sample by sample (same metric, sample name and labels), for counters and histograms.
 * AggregatorRegistry.aggregate would do it, but asynchronously: a worker's exit must move its
 * counters in one step, so that no round sees them twice or not at all.
 */
export function addSamples(a: readonly MetricJson[], b: readonly MetricJson[]): MetricJson[] {
  const copy = (metric: MetricJson): MetricJson => ({ ...metric, values: metric.values.map((sample) => ({ ...sample })) });
  const sum = new Map(a.map((metric) => [metric.name, copy(metric)]));
  for (const metric of b) {
    const into = sum.get(metric.name);
    if (!into) {
      sum.set(metric.name, copy(metric));
      continue;
    }
    for (const sample of metric.values) {
      const same = into.values.find((v) => sampleKey(v) === sampleKey(sample));
      if (same) same.value += sample.value;
      else into.values.push({ ...sample });
    }
  }
  return [...sum.values()];
}

const sampleKey = (sample: Sample): string => `${sample.metricName ?? ''}${JSON.stringify(Object.entries(sample.labels).sort(([x], [y]) => (x < y ? -1 : 1)))}`;
