import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { Access, Action } from '../../src/auth/access.js';
import { HubError } from '../../src/errors.js';
import { HS256_SECRET, mint } from '../helpers/tokens.js';

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

  it('with only an auth hook, is not open and names the hook as its source [hook]', async () => {
    const { log, lines } = capturingLogger();
    const access = new Access(loadConfig({ HUB_AUTH_HOOK_URL: 'http://127.0.0.1:9/auth' }), log);
    expect(access.isOpen).toBe(false);
    expect(lines).toEqual([expect.objectContaining({ level: 30, sources: ['auth hook'] })]);
    // Publishing never asks the hook, so without a token it is refused here, before any call.
    expect(await access.authorize(request({ cookie: 'session=1' }), Action.Publish, ['a'])).toMatchObject({ code: 'unauthorized' });
  });
});

/** What authorize() reads of a request, from plain header and query maps. */
function request(headers: Record<string, string>, query: Record<string, string> = {}) {
  return { header: (name: string) => headers[name], query: (name: string) => query[name] };
}

describe('Access: a grant never reaches further than its pattern', () => {
  // What the hub calls for every subscribe and publish is authorize(), so the escalation cases are
  // checked there, not only in patternCovers: a grant of `rooms.*` must not open `rooms.>`.
  const cases: Array<[grant: string, requested: string, allowed: boolean]> = [
    ['rooms.*', 'rooms.>', false],
    ['rooms.*', 'rooms.*', true],
    ['rooms.*', 'rooms.7', true],
    ['rooms.*', 'rooms.7.chat', false],
    ['rooms.7.>', 'rooms.*.chat', false],
    ['rooms.>', 'rooms.*.chat', true],
    ['*', '>', false],
  ];
  const access = new Access(loadConfig({ HUB_AUTH_HS256_SECRET: HS256_SECRET }), pino({ level: 'silent' }));

  it.each(cases)('a token granted %s asking for %s: allowed %s (subscribe and publish)', async (grant, requested, allowed) => {
    for (const action of [Action.Subscribe, Action.Publish]) {
      const token = await mint({ [action]: [grant] });
      const answer = await access.authorize(request({ authorization: `Bearer ${token}` }), action, [requested]);
      if (allowed) expect(answer, action).not.toBeInstanceOf(HubError);
      else expect(answer, action).toMatchObject({ code: 'forbidden_topic', status: 403 });
    }
  });

  it('anonymous patterns obey the same rule', async () => {
    const open = new Access(loadConfig({ HUB_AUTH_HS256_SECRET: HS256_SECRET, HUB_ANONYMOUS_SUBSCRIBE: 'news.*' }), pino({ level: 'silent' }));
    expect(await open.authorize(request({}), Action.Subscribe, ['news.today'])).not.toBeInstanceOf(HubError);
    expect(await open.authorize(request({}), Action.Subscribe, ['news.>'])).toMatchObject({ code: 'unauthorized', status: 401 });
  });
});
