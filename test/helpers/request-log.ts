/** What a hub in this process was asked, for checking what a client sent (its reconnects, its Last-Event-ID). */
import type { Server } from 'node:http';

/** Every request URL (path and query) the hub's server sees from now on, in arrival order. */
export function recordRequests(hub: { readonly server: Server }): string[] {
  const urls: string[] = [];
  hub.server.on('request', (req) => urls.push(req.url ?? ''));
  return urls;
}
