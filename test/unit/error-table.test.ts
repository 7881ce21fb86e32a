/**
 * One place for each fact, kept in step: docs/security.md's error table lists every code of
 * src/errors.ts with the status ERROR_STATUS gives it, and nothing else.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_STATUS } from '../../src/errors.js';

const security = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');

/** code -> status from the rows `| <status> | `code`, `code` | when |` of the table under "## Errors". */
function documentedStatuses(): Record<string, number> {
  const section = /^## Errors\n([\s\S]*?)^## /m.exec(security)?.[1];
  if (!section) throw new Error('docs/security.md has no "## Errors" section');
  const statuses: Record<string, number> = {};
  for (const [, status, codes] of section.matchAll(/^\| (\d{3}) \| ([^|]+) \|/gm)) {
    for (const [, code] of codes!.matchAll(/`([a-z_]+)`/g)) {
      if (code! in statuses) throw new Error(`docs/security.md lists ${code} twice`);
      statuses[code!] = Number(status);
    }
  }
  return statuses;
}

describe('docs/security.md error table [docs]', () => {
  it('[docs] lists exactly the codes of src/errors.ts, each with its status', () => {
    expect(documentedStatuses()).toEqual({ ...ERROR_STATUS });
  });
});
