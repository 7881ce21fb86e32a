/**
 * 10,000 streams opened and dropped leave the hub where it started: no connection, no bus
 * subscription, and (after GC) no memory left behind. The streams come from a child process.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { busKinds } from '../helpers/bus-kinds.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { sleep, waitFor, withTimeout } from '../helpers/wait.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const SWARM = fileURLToPath(new URL('../helpers/connection-swarm.mjs', import.meta.url));
const STREAMS = 10_000;
const TOPICS = 100;

async function swarm(hub: TestHub): Promise<void> {
  const child = spawn(process.execPath, [SWARM, String(hub.port), String(STREAMS), String(TOPICS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const opened = await withTimeout('the swarm to open', lines.next(), 60_000);
    expect(opened.value).toBe(`open ${STREAMS}`);
    await waitFor('every stream to be attached', () => hub.hub.connectionCount === STREAMS, 10_000);
    expect(hub.hub.subscriptionCount).toBe(TOPICS);
    child.stdin!.write('drop\n');
    await withTimeout('the swarm to drop', once(child, 'exit'), 10_000);
    await waitFor('every stream to be torn down', () => hub.hub.connectionCount === 0, 20_000);
    await waitFor('every bus subscription to be released', () => hub.hub.subscriptionCount === 0, 5000);
  } finally {
    child.kill('SIGKILL');
  }
}

async function settledHeap(): Promise<number> {
  // Closed sockets finish their teardown over a few turns of the loop; then collect everything.
  await sleep(300);
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed;
}

for (const kind of busKinds()) {
  describe(`teardown [${kind.name}]`, () => {
    it(`leaves nothing behind after ${STREAMS} streams open and drop`, { timeout: 180_000 }, async () => {
      const hub = await startTestHub({ ...(await kind.env()), HUB_INTEREST_LINGER_MS: '0', HUB_MAX_CONNECTIONS: '20000' });
      try {
        await swarm(hub); // warm-up: JIT, pools and caches reach their steady size
        const before = await settledHeap();
        await swarm(hub);
        const after = await settledHeap();
        const perStream = (after - before) / STREAMS;
        console.log(`[${kind.name}] heap before ${(before / 1048576).toFixed(1)} MiB, after ${(after / 1048576).toFixed(1)} MiB: ${perStream.toFixed(0)} bytes per stream`);
        // A leak of even one small object per stream would show as hundreds of bytes per stream.
        expect(perStream).toBeLessThan(100);
      } finally {
        await hub.shutdown();
        await kind.dispose();
      }
    });
  });
}
