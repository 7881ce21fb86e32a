/** Starting a node:http listener, as both the main and the admin listener do. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listen on `host:port` (0 picks a free port); resolves with the port, rejects on a bind error. */
export async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** A host as a URL names it: an IPv6 address in brackets. */
export function asUrlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
