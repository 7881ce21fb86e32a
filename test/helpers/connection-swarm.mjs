// A child process that opens many event streams on raw sockets (its own fd limit, not the test's),
// says "open N" once every stream has sent its first bytes, and drops them all on "drop".
// Usage: node connection-swarm.mjs PORT COUNT TOPICS
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

const [port, count, topics] = process.argv.slice(2).map(Number);
const BATCH = 500; // the server's listen backlog is 511
const sockets = [];

function open(i) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(15_000, () => reject(new Error(`stream ${i} sent nothing in 15 s`)));
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`GET /events?topic=swarm.${i % topics} HTTP/1.1\r\nHost: hub\r\n\r\n`));
    socket.once('data', () => {
      socket.setTimeout(0);
      socket.on('data', () => {}); // keep reading so the hub never sees a slow consumer
      resolve(socket);
    });
    sockets.push(socket);
  });
}

for (let start = 0; start < count; start += BATCH) {
  await Promise.all(Array.from({ length: Math.min(BATCH, count - start) }, (_, k) => open(start + k)));
}
process.stdout.write(`open ${sockets.length}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'drop') {
    for (const socket of sockets) socket.destroy();
    process.stdout.write('dropped\n');
    process.exit(0);
  }
}
