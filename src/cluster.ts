/**
 * Several hub processes on one port, so a pod uses all its cores (HUB_WORKERS > 1). node:cluster's
 * primary accepts connections and hands them to the workers in turn; each worker is a whole hub
 * (its own streams, bus subscriptions, replay buffer and id epoch) and the primary carries no
 * events. Workers learn of every event from NATS, which is why config/server.ts requires NATS_URL here.
 * The primary also answers the workers' /metrics for the whole pod (src/pod-metrics.ts).
 */
import cluster, { type Worker } from 'node:cluster';
import type { Config } from './config.js';
import { exitAfterLogs, type Logger } from './log.js';
import { PodMetricsCollector } from './pod-metrics.js';

// A worker that keeps dying is a bug or a bad environment, not bad luck: stop restarting it.
const RESTART_WINDOW_MS = 60_000;
const MAX_RESTARTS_PER_WINDOW = 5;

/** What main.ts does with the primary on SIGHUP. */
export interface Supervisor {
  /** Pass a reload on to every worker: each re-reads the settings and applies them itself. */
  readonly reload: () => void;
}

/** Run the primary: fork the workers, replace any that die, stop them all on SIGTERM/SIGINT. */
export function superviseWorkers(config: Config, log: Logger): Supervisor {
  let stopping = false;
  const restarts: number[] = [];
  const fork = (): Worker => cluster.fork();
  // Before the first fork, so no worker's scrape finds the primary deaf.
  new PodMetricsCollector(log);
  for (let i = 0; i < config.workers; i++) fork();
  log.info({ workers: config.workers }, 'cluster primary started');

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) exitAfterLogs(log, 0);
      return;
    }
    const now = Date.now();
    while (restarts.length > 0 && restarts[0]! < now - RESTART_WINDOW_MS) restarts.shift();
    if (restarts.length >= MAX_RESTARTS_PER_WINDOW) {
      log.fatal({ pid: worker.process.pid, code, signal }, `workers died ${MAX_RESTARTS_PER_WINDOW} times within ${RESTART_WINDOW_MS / 1000} s; giving up`);
      exitAfterLogs(log, 1);
      return;
    }
    restarts.push(now);
    log.error({ pid: worker.process.pid, code, signal }, 'worker died; starting another');
    fork();
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping workers');
      // Each worker shuts down gracefully on its own timeout; this is the backstop.
      setTimeout(() => exitAfterLogs(log, 0), config.shutdownTimeoutMs + 2000).unref();
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    });
  }

  return {
    // The primary holds no keys, limits or streams: the workers do. A worker forked later reads the
    // settings as they are then, so it needs no signal of its own.
    reload() {
      if (stopping) return;
      const workers = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && !worker.isDead());
      log.info({ workers: workers.length }, 'SIGHUP: reloading every worker');
      for (const worker of workers) worker.process.kill('SIGHUP');
    },
  };
}
