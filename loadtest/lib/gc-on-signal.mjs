// Preloaded into a hub by loadtest/stream-memory.mjs (node --expose-gc --import this): on SIGUSR2,
// a full GC, then process.memoryUsage() written as JSON to $SSEHUB_MEMORY_OUT. So RSS and heap are
// read in the hub after garbage is gone, not whenever the collector last ran.
import { writeFileSync } from 'node:fs';

process.on('SIGUSR2', () => {
  globalThis.gc();
  globalThis.gc();
  writeFileSync(process.env.SSEHUB_MEMORY_OUT, JSON.stringify(process.memoryUsage()));
});
