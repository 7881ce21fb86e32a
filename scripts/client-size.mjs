// Prints the client library's size as a browser would fetch it from a bundler build:
// minified with esbuild, then gzipped (level 9). Usage: npm run client:size [-- --json]
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export async function measureClient() {
  const result = await build({
    entryPoints: ['client/ssehub.ts'],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  return { minifiedBytes: code.byteLength, gzippedBytes: gzipSync(code, { level: 9 }).byteLength };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const size = await measureClient();
  if (process.argv.includes('--json')) console.log(JSON.stringify(size));
  else console.log(`client/ssehub.ts: ${size.minifiedBytes} bytes minified, ${size.gzippedBytes} bytes minified+gzipped`);
}
