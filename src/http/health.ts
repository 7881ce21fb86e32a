/** GET /healthz: the process answers. GET /readyz: the bus is connected and the node is not draining. */
import type { Context } from 'hono';
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

export function metricsHandler({ hub }: HttpDeps) {
  return async (c: Context): Promise<Response> => {
    const text = await hub.metrics.registry.metrics();
    return c.text(text, 200, { 'Content-Type': hub.metrics.registry.contentType });
  };
}
