/** The pieces of a reload that need no process: the env file, which rows are live, LiveConfig, and re-checking stream credentials. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Access } from '../../src/auth/access.js';
import { loadConfig } from '../../src/config.js';
import { parseEnvFile, readEnvironment } from '../../src/config/env-file.js';
import { FIXED_ROWS, fixedChanges, LIVE_KEYS, LiveConfig } from '../../src/config/live.js';
import { ConfigError } from '../../src/errors.js';
import { HS256_SECRET, mint } from '../helpers/tokens.js';

const log = pino({ level: 'silent' });
const OTHER_SECRET = 'another-secret-that-is-at-least-32-characters';

describe('HUB_CONFIG_FILE', () => {
  it('reads NAME=value lines, skips comments and blanks, drops one pair of quotes', () => {
    expect(parseEnvFile('# a comment\n\nHUB_RETRY_MS=500\r\nHUB_CORS_ORIGINS = "https://a.example, https://b.example"\nLOG_LEVEL=\'debug\'\n')).toEqual({
      HUB_RETRY_MS: '500',
      HUB_CORS_ORIGINS: 'https://a.example, https://b.example',
      LOG_LEVEL: 'debug',
    });
  });

  it('refuses a line that is not NAME=value, a name that is not a setting, and a file naming another', () => {
    const problem = (text: string) => {
      try {
        parseEnvFile(text);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).variable).toBe('HUB_CONFIG_FILE');
        return (err as Error).message;
      }
      return undefined;
    };
    expect(problem('HUB_RETRY_MS=1\njust words')).toMatch(/line 2: expected NAME=value/);
    expect(problem('HUB_RETRY=1')).toMatch(/line 1: HUB_RETRY is not a setting/);
    expect(problem('HUB_CONFIG_FILE=/x')).toMatch(/cannot name another config file/);
  });

  it('lays the file over the environment, and names the variable when the file cannot be read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssehub-env-'));
    try {
      const path = join(dir, 'hub.env');
      writeFileSync(path, 'HUB_RETRY_MS=700\n');
      expect(readEnvironment({ HUB_CONFIG_FILE: path, HUB_RETRY_MS: '100', PORT: '9' })).toMatchObject({ HUB_RETRY_MS: '700', PORT: '9' });
      expect(() => readEnvironment({ HUB_CONFIG_FILE: join(dir, 'missing') })).toThrow(/^HUB_CONFIG_FILE cannot be read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('live settings', () => {
  it('are the keys, patterns, CORS, limits, log level, heartbeat and retry; port and bus are not', () => {
    expect([...LIVE_KEYS].sort()).toEqual(
      ['anonymousManage', 'anonymousPresence', 'anonymousPublish', 'anonymousSubscribe', 'auth', 'corsCredentials', 'corsOrigins', 'heartbeatMs', 'logLevel', 'maxConnections', 'maxConnectionsPerAddress', 'publishBurst', 'publishRate', 'rateLimitMaxKeys', 'retryMs'].sort(),
    );
    const fixed = FIXED_ROWS.map((row) => row.env);
    for (const env of ['PORT', 'HOST', 'NATS_URL', 'HUB_WORKERS', 'HUB_AUTH_HOOK_URL', 'HUB_REPLAY_MAX_EVENTS']) expect(fixed).toContain(env);
    expect(fixedChanges({ PORT: '1', HUB_RETRY_MS: '5' }, { PORT: '2', HUB_RETRY_MS: '6' })).toEqual(['PORT']);
  });

  it('LiveConfig takes only the live values of a new Config and tells its listeners which changed', () => {
    const live = new LiveConfig(loadConfig({ PORT: '8080', HUB_RETRY_MS: '1000' }));
    const seen: string[][] = [];
    live.onChange((_config, changed) => seen.push([...changed]));
    expect([...live.apply(loadConfig({ PORT: '9090', HUB_RETRY_MS: '2000' }))]).toEqual(['retryMs']);
    expect(live.current.port).toBe(8080);
    expect(live.current.retryMs).toBe(2000);
    expect(live.apply(loadConfig({ PORT: '9090', HUB_RETRY_MS: '2000' })).size).toBe(0);
    expect(seen).toEqual([['retryMs']]);
  });
});

describe('Access after a reload', () => {
  it('revokes the credentials the new keys or patterns refuse, verifying each token once', async () => {
    const access = new Access(loadConfig({ HUB_AUTH_HS256_SECRET: HS256_SECRET, HUB_ANONYMOUS_SUBSCRIBE: 'news.>,weather.>' }), log);
    const oldToken = await mint({ subscribe: ['orders.>'] });
    const newToken = await mint({ subscribe: ['orders.>'] }, { key: new TextEncoder().encode(OTHER_SECRET) });
    const byOld = [{ token: oldToken, topics: ['orders.1'] }, { token: oldToken, topics: ['orders.2'] }];
    const weather = { token: undefined, topics: ['weather.now'] };
    const news = { token: undefined, topics: ['news.today'] };
    access.reconfigure(loadConfig({ HUB_AUTH_HS256_SECRET: OTHER_SECRET, HUB_ANONYMOUS_SUBSCRIBE: 'news.>' }));
    const byNew = { token: newToken, topics: ['orders.1'] };
    const revoked = await access.revoked([...byOld, weather, news, byNew]);
    expect([...revoked]).toEqual([...byOld, weather]);
  });

  it('cannot be switched into or out of open mode', () => {
    const access = new Access(loadConfig({ HUB_AUTH_HS256_SECRET: HS256_SECRET }), log);
    expect(() => access.reconfigure(loadConfig({}))).toThrow(/open mode/);
  });
});
