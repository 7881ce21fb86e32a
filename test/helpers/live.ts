/** Live subscriptions from a test: a stream's id and key from its hub.open, and the control routes. */
import type { Subscriber } from './sse-client.js';
import { REQUEST_TIMEOUT_MS } from './http.js';
import { waitFor } from './wait.js';

export interface StreamHandle {
  readonly stream: string;
  readonly key: string;
}

export interface JsonAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** The id and key the `count`-th hub.open of `sub` gave (the stream it is on now). */
export async function streamOf(sub: Subscriber, count = 1): Promise<StreamHandle> {
  await sub.open(count);
  const open = sub.events.filter((e) => e.type === 'hub.open')[count - 1]!;
  return JSON.parse(open.data) as StreamHandle;
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonAnswer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** POST /streams/<id>/topics at `hubUrl` (any node). */
export function changeTopics(hubUrl: string, stream: string, body: { key: string; add?: string[]; remove?: string[] }, headers?: Record<string, string>): Promise<JsonAnswer> {
  return postJson(`${hubUrl}/streams/${encodeURIComponent(stream)}/topics`, body, headers);
}

/** The seq part of an event id (`<epoch>-<seq>`). */
export function seqOf(id: string): number {
  return Number(id.slice(id.lastIndexOf('-') + 1));
}

/** Resolves once `sub` has received the hub.topics event `count` times. */
export async function topicsEvents(sub: Subscriber, count = 1): Promise<void> {
  await waitFor(`hub.topics #${count}`, () => sub.events.filter((e) => e.type === 'hub.topics').length >= count);
}

/** A hub node of a multi-node test: its URL and how it stops (a process can be SIGKILLed). */
export interface HubNode {
  readonly url: string;
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<unknown>;
}

/**
 * `n` hubs on `env` (one NATS server): the first `processes` as their own processes, to be
 * SIGKILLed; the others in this process (each with its own NATS connection, so a node of its
 * own), which start in a fraction of a process's time on a loaded machine. Stopped on dispose.
 */
export async function startNodes(env: Record<string, string>, n: number, processes = 0): Promise<HubNode[] & AsyncDisposable> {
  const { startHubProcess } = await import('./hub-process.js');
  const { startTestHub } = await import('./hub.js');
  const nodes: HubNode[] = [];
  const stopAll = async () => void (await Promise.all(nodes.map((node) => node.stop().catch(() => {}))));
  try {
    for (let i = 0; i < n; i++) {
      if (i < processes) nodes.push(await startHubProcess(env));
      else {
        const hub = await startTestHub(env);
        nodes.push({ url: hub.url, stop: () => hub.shutdown() });
      }
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  return Object.assign(nodes, { [Symbol.asyncDispose]: stopAll });
}
