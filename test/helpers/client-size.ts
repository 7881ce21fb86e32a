/** The client library's size as `npm run client:size` reports it (scripts/client-size.mjs, run as a user would). */
import { execFileSync } from 'node:child_process';

export interface ClientSize {
  readonly minifiedBytes: number;
  readonly gzippedBytes: number;
  readonly brotliBytes: number;
}

/** Measures client/dist/ssehub.js as built (the test run builds it first: `npm run build:client`). */
export function measureClient(): ClientSize {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/client-size.mjs', '--json'], { encoding: 'utf8', timeout: 20_000 });
  return JSON.parse(out) as ClientSize;
}
