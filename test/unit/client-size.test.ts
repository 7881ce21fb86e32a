/**
 * The client library's weight in a page, measured as `npm run client:size` does: the built, minified
 * files (the library and its SharedWorker) in the codings the hub sends. A budget, not a timing: it fails when the library grows past it,
 * so growth is a decision. And the one place that quotes the figures, docs/client.md, must quote
 * this measurement: change the client, run `npm run client:size`, update the line and its date.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { measureClient } from '../helpers/client-size.js';

// 4 KB for the whole client, connection sharing (and its SharedWorker) included.
const BUDGET_GZIPPED_BYTES = 4096;
const QUOTED_IN = 'docs/client.md';
const QUOTE = /\*\*(\d+) bytes gzipped\*\* \((\d+) with Brotli, (\d+) minified; measured (\d{4}-\d{2}-\d{2}) with `npm run client:size`\)/;

describe('client size', () => {
  const size = measureClient();

  it(`stays under ${BUDGET_GZIPPED_BYTES} bytes minified and gzipped`, () => {
    expect(size.minifiedBytes).toBeGreaterThan(500);
    expect(size.brotliBytes).toBeLessThan(size.gzippedBytes);
    expect(size.gzippedBytes).toBeLessThan(BUDGET_GZIPPED_BYTES);
  });

  it(`is quoted in ${QUOTED_IN} as measured`, () => {
    const quote = QUOTE.exec(readFileSync(QUOTED_IN, 'utf8'));
    expect(quote, `${QUOTED_IN} quotes the size as "**N bytes gzipped** (N with Brotli, N minified; measured YYYY-MM-DD with \`npm run client:size\`)"`).not.toBeNull();
    const [, gzipped, brotli, minified] = quote!.map(Number);
    expect({ gzippedBytes: gzipped, brotliBytes: brotli, minifiedBytes: minified }, `${QUOTED_IN} is out of date: run npm run client:size and update it`).toEqual(size);
  });
});
