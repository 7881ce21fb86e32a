/**
 * The client library's weight in a page, measured as `npm run client:size` does (esbuild minify, gzip -9).
 * A budget, not a timing: it fails when the library grows past it, so growth is a decision.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const BUDGET_GZIPPED_BYTES = 2048;

describe('client size', () => {
  it(`stays under ${BUDGET_GZIPPED_BYTES} bytes minified and gzipped`, () => {
    const out = execFileSync(process.execPath, ['scripts/client-size.mjs', '--json'], { encoding: 'utf8', timeout: 20_000 });
    const size = JSON.parse(out) as { minifiedBytes: number; gzippedBytes: number };
    expect(size.minifiedBytes).toBeGreaterThan(500);
    expect(size.gzippedBytes).toBeLessThan(BUDGET_GZIPPED_BYTES);
  });
});
