import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { Access } from '../../src/auth/access.js';

/** A real pino logger writing JSON lines into an array. */
function capturingLogger(): { log: pino.Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

describe('Access modes', () => {
  it('with no key, says loudly that the hub is open', () => {
    const { log, lines } = capturingLogger();
    const access = new Access(loadConfig({}), log);
    expect(access.isOpen).toBe(true);
    expect(lines).toEqual([expect.objectContaining({ level: 40, msg: expect.stringMatching(/^OPEN MODE/) })]);
  });

  it('with a key, logs its sources and the public patterns, never the secret', () => {
    const { log, lines } = capturingLogger();
    const secret = 's'.repeat(40);
    const access = new Access(loadConfig({ HUB_AUTH_HS256_SECRET: secret, HUB_ANONYMOUS_SUBSCRIBE: 'news.>' }), log);
    expect(access.isOpen).toBe(false);
    expect(lines).toEqual([expect.objectContaining({ level: 30, msg: 'token authorization on', sources: ['HS256 secret'], anonymousSubscribe: ['news.>'] })]);
    expect(JSON.stringify(lines)).not.toContain(secret);
  });
});
