/**
 * What one acknowledged JetStream publish costs, the client's `js.publish` against the hub's own
 * AckedPublisher (src/bus/jetstream/publisher.ts): N publishes of 128 B to a file stream on a fresh
 * nats-server, `inFlight` at a time, CPU per publish of this process and of nats-server (/proc).
 *
 *   node --import tsx loadtest/jetstream-acks.ts [--events 20000] [--in-flight 16]
 */
import { parseArgs } from 'node:util';
import { connect, type NatsConnection } from 'nats';
import { AckedPublisher } from '../src/bus/jetstream/publisher.js';
import { startNatsServer } from '../test/helpers/nats-server.js';
import { treeCpuMs } from './lib/proc.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '20000' }, 'in-flight': { type: 'string', default: '16' }, rounds: { type: 'string', default: '3' } } });
const events = Number(values.events);
const inFlight = Number(values['in-flight']);
const data = new Uint8Array(128).fill(120);

type Publish = (i: number) => Promise<unknown>;

async function run(name: string, nc: NatsConnection, natsPid: number, publish: Publish): Promise<void> {
  const cpu0 = process.cpuUsage();
  const server0 = treeCpuMs([natsPid]);
  const t0 = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < events) await publish(next++);
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const clientUs = (cpu.user + cpu.system) / events;
  const serverUs = ((treeCpuMs([natsPid]) - server0) * 1000) / events;
  console.log(`${name.padEnd(16)} ${inFlight} in flight: ${Math.round(events / (ms / 1000))}/s, client ${clientUs.toFixed(1)} µs, nats-server ${serverUs.toFixed(1)} µs per publish`);
  void nc;
}

const nats = await startNatsServer({ jetstream: true });
try {
  const nc = await connect({ servers: nats.url });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: 'ACKS', subjects: ['acks.>'], duplicate_window: 120_000_000_000 });
  const js = nc.jetstream();
  const own = new AckedPublisher(nc, 5000, () => !nc.isClosed());
  let round = 0;
  for (let r = 0; r < Number(values.rounds); r++) {
    const tag = `${++round}-`;
    await run('js.publish', nc, nats.pid()!, (i) => js.publish('acks.a', data, { msgID: `js${tag}${i}` }));
    await run('AckedPublisher', nc, nats.pid()!, (i) => own.publish('acks.a', data, { msgId: `own${tag}${i}` }));
  }
  own.close();
  await nc.close();
} finally {
  await nats[Symbol.asyncDispose]();
}
