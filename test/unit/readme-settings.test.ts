/** One place for each fact: every setting in src/config.ts's DEFAULTS is documented in the README. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';

describe('README settings', () => {
  it('documents every variable config.ts reads', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const missing = Object.keys(DEFAULTS).filter((name) => !readme.includes(`| \`${name}\` |`));
    expect(missing).toEqual([]);
  });
});
