/**
 * The integration suites run once per bus: the embedded bus, core NATS and JetStream, each NATS one
 * against a real nats-server started for the suite. Test names carry the bus tag ("[memory]",
 * "[nats]", "[jetstream]") so CI can check that the NATS runs happened.
 */
import { jetstreamEnv } from './jetstream-env.js';
import { startNatsServer, type NatsServer } from './nats-server.js';

export interface BusKind {
  readonly name: 'memory' | 'nats' | 'jetstream';
  /** Environment for startTestHub; starts the nats-server on first use. */
  env(): Promise<Record<string, string>>;
  /** The running nats-server (nats kind only). */
  nats(): NatsServer;
  dispose(): Promise<void>;
}

export function busKinds(): BusKind[] {
  let server: NatsServer | undefined;
  let jsServer: NatsServer | undefined;
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
    {
      name: 'jetstream',
      async env() {
        jsServer ??= await startNatsServer({ jetstream: true });
        return jetstreamEnv(jsServer);
      },
      nats() {
        if (!jsServer) throw new Error('nats-server not started yet');
        return jsServer;
      },
      async dispose() {
        await jsServer?.[Symbol.asyncDispose]();
        jsServer = undefined;
      },
    },
  ];
}
