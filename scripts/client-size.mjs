// Prints the client library's size as the hub sends it: client/dist/ssehub.js and its SharedWorker,
// client/dist/ssehub-worker.js, as `npm run build:client` leaves them (minified by esbuild), summed,
// and in each coding the hub offers (each file compressed on its own, as it is served), compressed by the
// hub's own code (src/http/content-coding.ts). docs/client.md quotes these figures;
// test/unit/client-size.test.ts keeps the quote equal to them and under a budget.
// Usage: npm run client:size [-- --json]   (it builds the client first; it imports TypeScript, hence tsx)
import { readFileSync } from 'node:fs';
import { compressAll } from '../src/http/content-coding.ts';

export const CLIENT_FILES = ['ssehub.js', 'ssehub-worker.js'].map((name) => new URL(`../client/dist/${name}`, import.meta.url));

export function measureClient() {
  const size = { minifiedBytes: 0, gzippedBytes: 0, brotliBytes: 0 };
  for (const file of CLIENT_FILES) {
    let body;
    try {
      body = readFileSync(file);
    } catch (cause) {
      throw new Error(`${file.pathname} is not built: run "npm run build:client"`, { cause });
    }
    // The hub sends a coding only when it is smaller than the file (the worker's few bytes are not).
    const coded = Object.fromEntries(compressAll(body).map(({ coding, body: bytes }) => [coding, Math.min(bytes.byteLength, body.byteLength)]));
    size.minifiedBytes += body.byteLength;
    size.gzippedBytes += coded.gzip;
    size.brotliBytes += coded.br;
  }
  return size;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const size = measureClient();
  if (process.argv.includes('--json')) console.log(JSON.stringify(size));
  else console.log(`client/dist/ssehub.js + ssehub-worker.js: ${size.minifiedBytes} bytes minified, ${size.gzippedBytes} gzipped, ${size.brotliBytes} with Brotli`);
}
