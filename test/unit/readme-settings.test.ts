/** One place for each fact: README's settings tables are the schema's (names, defaults and docs). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfig } from '../../src/config.js';
import { withSettingsTables } from '../../scripts/settings-tables.js';
import { OPEN_ON_PURPOSE } from '../helpers/open-mode.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README settings', () => {
  it('documents every variable config.ts reads', () => {
    const missing = Object.keys(DEFAULTS).filter((name) => !readme.includes(`| \`${name}\` |`));
    expect(missing).toEqual([]);
  });

  it('has exactly the tables the schema makes (run `npm run docs:settings` after changing a setting)', () => {
    expect(readme).toBe(withSettingsTables(readme));
  });

  it('lists every variable loadConfig reads, JetStream and auth included', () => {
    const read = new Set<string>();
    const env = new Proxy<Record<string, string | undefined>>(
      { NATS_URL: 'nats://127.0.0.1:4222', HUB_JETSTREAM: '1', ...OPEN_ON_PURPOSE },
      {
        get(target, name) {
          if (typeof name === 'string') read.add(name);
          return Reflect.get(target, name);
        },
      },
    );
    loadConfig(env);
    expect([...read].filter((name) => !(name in DEFAULTS))).toEqual([]);
    expect(Object.keys(DEFAULTS).filter((name) => !read.has(name))).toEqual([]);
  });
});
