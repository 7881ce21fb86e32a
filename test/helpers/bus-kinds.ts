/**
 * The integration suites run once per bus: the embedded bus, and core NATS against a real
 * nats-server started for the suite. Test names carry the bus tag ("[memory]", "[nats]") so CI can
 * check that the NATS runs happened.
 */
import { startNatsServer, type NatsServer } from './nats-server.js';

export interface BusKind {
  readonly name: 'memory' | 'nats';
  /** Environment for startTestHub; starts the nats-server on first use. */
  env(): Promise<Record<string, string>>;
  /** The running nats-server (nats kind only). */
  nats(): NatsServer;
  dispose(): Promise<void>;
}

export function busKinds(): BusKind[] {
  let server: NatsServer | undefined;
  return [
    { name: 'memory', env: async () => ({}), nats: () => { throw new Error('no nats-server for the memory bus'); }, dispose: async () => {} },
    {
      name: 'nats',
      async env() {
        server ??= await startNatsServer();
        return { NATS_URL: server.url };
      },
      nats() {
        if (!server) throw new Error('nats-server not started yet');
        return server;
      },
      async dispose() {
        await server?.[Symbol.asyncDispose]();
        server = undefined;
      },
    },
  ];
}
