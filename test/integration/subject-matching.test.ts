/**
 * Our subject matching against the real thing: a real nats-server decides which subscriptions get
 * which subjects, and subjectMatches / PatternIndex must agree with it on every pair.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { subjectMatches } from '../../src/topics/subject.js';
import { PatternIndex } from '../../src/topics/pattern-index.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';

const PATTERNS = ['a', 'a.b', 'a.*', 'a.>', '*', '>', '*.b', '*.*', '*.>', 'a.*.c', 'a.b.>', '*.*.*', 'a.*.>', 'b.>', 'a.b.c.d'];
const SUBJECTS = ['a', 'b', 'a.b', 'a.c', 'b.b', 'a.b.c', 'a.x.c', 'a.b.d', 'a.b.c.d', 'b.a.c', 'x.y.z.w', 'a.b.c.d.e'];

describe('subject matching agrees with nats-server [nats]', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.[Symbol.asyncDispose]();
  });

  it('on every pattern/subject pair', async () => {
    const delivered = new Map<string, Set<string>>(PATTERNS.map((p) => [p, new Set()]));
    for (const pattern of PATTERNS) {
      nc.subscribe(`t.${pattern}`, { callback: (_err, msg) => delivered.get(pattern)!.add(msg.subject.slice(2)) });
    }
    await nc.flush();
    for (const subject of SUBJECTS) nc.publish(`t.${subject}`);
    // One connection publishes and subscribes: the server sends every message it routes to this
    // connection before the PONG that ends flush(), so all deliveries are in once flush() resolves.
    await nc.flush();

    const index = new PatternIndex<string>();
    for (const p of PATTERNS) index.add(p, p);
    for (const pattern of PATTERNS) {
      const byServer = SUBJECTS.filter((s) => delivered.get(pattern)!.has(s));
      const byUs = SUBJECTS.filter((s) => subjectMatches(pattern, s));
      const byIndex = SUBJECTS.filter((s) => index.match(s).includes(pattern));
      expect({ pattern, subjects: byUs }).toEqual({ pattern, subjects: byServer });
      expect({ pattern, subjects: byIndex }).toEqual({ pattern, subjects: byServer });
    }
  });
});
