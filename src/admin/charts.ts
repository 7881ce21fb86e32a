/**
 * The admin view (`GET /admin` on the admin listener; docs/operations.md): a page of live charts
 * drawn by the browser with plain SVG from client/admin/ (no build step, nothing from a CDN), and
 * the small JSON it polls, `GET /admin/stats`. The server keeps no history: each answer is the
 * hub's counters now (cumulative, as Prometheus has them), and the page keeps the last minutes of
 * answers itself and works out rates and latency percentiles from differences of them.
 *
 * `nodes` is a list so that one page can draw one line per node. Today it holds this process only:
 * the admin listener needs HUB_WORKERS=1 (config/admin.ts), and gathering the other pods' figures
 * over the bus belongs with the hub's control channel on the bus, not with a second one of its own.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { ServerResponse } from 'node:http';
import type { Histogram } from 'prom-client';
import type { Hub } from '../hub/hub.js';

// Same relative path from src/admin/ (tsx, tests) and from dist/admin/ (npm start), as src/http/browser.ts.
const PAGE_DIR = new URL('../../client/admin/', import.meta.url);

/** How often the page asks, and how much it keeps: 300 readings, five minutes a line. */
export const POLL_MS = 1000;
export const HISTORY_READINGS = 300;

/** One node's counters at one moment. */
export interface NodeReading {
  /** `host/pid`: tells apart the processes of several pods, and a restarted process from its predecessor. */
  readonly node: string;
  readonly streams: number;
  /** Events taken by POST /publish on this node. */
  readonly published: number;
  /** Events received from the bus and fanned out (events in). */
  readonly received: number;
  /** Event frames queued to streams (events out). */
  readonly delivered: number;
  readonly slowConsumerCloses: number;
  readonly resets: number;
  /**
   * ssehub_publish_to_write_seconds as Prometheus has it: the finite bucket bounds (seconds), the
   * cumulative count at each, and the count of all observations (the +Inf bucket).
   */
  readonly latency: { readonly le: readonly number[]; readonly counts: readonly number[]; readonly count: number };
}

export interface AdminStats {
  /** Epoch ms of the reading. */
  readonly at: number;
  readonly pollMs: number;
  readonly historyReadings: number;
  readonly bus: string;
  readonly nodes: readonly NodeReading[];
}

const NODE = `${hostname()}/${process.pid}`;

export async function adminStats(hub: Hub): Promise<AdminStats> {
  return { at: Date.now(), pollMs: POLL_MS, historyReadings: HISTORY_READINGS, bus: hub.bus.kind, nodes: [await readNode(hub)] };
}

async function readNode(hub: Hub): Promise<NodeReading> {
  const { eventsPublished, eventsReceived, eventsDelivered, slowConsumers, resetsSent, publishToWrite } = hub.metrics;
  const total = async (metric: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> =>
    (await metric.get()).values.reduce((sum, sample) => sum + sample.value, 0);
  return {
    node: NODE,
    streams: hub.connectionCount,
    published: await total(eventsPublished),
    received: await total(eventsReceived),
    delivered: await total(eventsDelivered),
    slowConsumerCloses: await total(slowConsumers),
    resets: await total(resetsSent),
    latency: await buckets(publishToWrite),
  };
}

async function buckets(histogram: Histogram): Promise<NodeReading['latency']> {
  const le: number[] = [];
  const counts: number[] = [];
  let count = 0;
  for (const sample of (await histogram.get()).values) {
    if (sample.metricName?.endsWith('_bucket') !== true) continue;
    if (sample.labels.le === '+Inf') {
      count = sample.value;
      continue;
    }
    le.push(Number(sample.labels.le));
    counts.push(sample.value);
  }
  return { le, counts, count };
}

/** A file of the page, read once when the admin listener starts; undefined when it is missing. */
function pageFile(name: string): Buffer | undefined {
  try {
    return readFileSync(new URL(name, PAGE_DIR));
  } catch {
    return undefined;
  }
}

// The page loads only its own files and asks only this listener.
const PAGE_HEADERS = { 'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'", 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache' };

/** The page's three files, by admin path. */
export function pageFiles(): ReadonlyMap<string, { readonly body: Buffer | undefined; readonly type: string }> {
  return new Map([
    ['/admin', { body: pageFile('index.html'), type: 'text/html; charset=utf-8' }],
    ['/admin/admin.js', { body: pageFile('admin.js'), type: 'text/javascript; charset=utf-8' }],
    ['/admin/admin.css', { body: pageFile('admin.css'), type: 'text/css; charset=utf-8' }],
  ]);
}

export function sendPageFile(res: ServerResponse, body: Buffer, type: string): void {
  res.writeHead(200, { ...PAGE_HEADERS, 'Content-Type': type, 'Content-Length': body.length });
  res.end(body);
}
