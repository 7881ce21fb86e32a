/**
 * GET /healthz: the process answers. GET /readyz: the bus is connected and the node is not draining.
 * Both answer for the worker that took the request; GET /metrics answers for the pod.
 */
import type { Context } from 'hono';
import { podMetrics } from '../pod-metrics.js';
import type { HttpDeps } from './deps.js';

export function healthHandler() {
  return (c: Context): Response => c.json({ status: 'ok' });
}

export function readyHandler({ hub }: HttpDeps) {
  return (c: Context): Response => {
    const body = { status: hub.isReady ? 'ready' : 'not ready', bus: hub.bus.isConnected() ? 'connected' : 'disconnected', shuttingDown: hub.isClosing };
    return c.json(body, hub.isReady ? 200 : 503);
  };
}

/** GET /metrics: the whole pod's, whichever worker takes the scrape (src/pod-metrics.ts). */
export function metricsHandler({ hub, config, log }: HttpDeps) {
  const pod = podMetrics(hub.metrics.registry, config, log);
  return async (c: Context): Promise<Response> => {
    const registry = await pod.read();
    return c.text(await registry.metrics(), 200, { 'Content-Type': registry.contentType });
  };
}
