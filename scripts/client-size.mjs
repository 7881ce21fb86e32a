// Prints the client library's size as the hub sends it: client/dist/ssehub.js as `npm run build:client`
// leaves it (minified by esbuild), and that file in each coding the hub offers, compressed by the
// hub's own code (src/http/content-coding.ts). docs/client.md quotes these figures;
// test/unit/client-size.test.ts keeps the quote equal to them and under a budget.
// Usage: npm run client:size [-- --json]   (it builds the client first; it imports TypeScript, hence tsx)
import { readFileSync } from 'node:fs';
import { compressAll } from '../src/http/content-coding.ts';

export const CLIENT_FILE = new URL('../client/dist/ssehub.js', import.meta.url);

export function measureClient() {
  let body;
  try {
    body = readFileSync(CLIENT_FILE);
  } catch (cause) {
    throw new Error('client/dist/ssehub.js is not built: run "npm run build:client"', { cause });
  }
  const coded = Object.fromEntries(compressAll(body).map(({ coding, body: bytes }) => [coding, bytes.byteLength]));
  return { minifiedBytes: body.byteLength, gzippedBytes: coded.gzip, brotliBytes: coded.br };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const size = measureClient();
  if (process.argv.includes('--json')) console.log(JSON.stringify(size));
  else console.log(`client/dist/ssehub.js: ${size.minifiedBytes} bytes minified, ${size.gzippedBytes} gzipped, ${size.brotliBytes} with Brotli`);
}
