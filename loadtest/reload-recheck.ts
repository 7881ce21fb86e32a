/**
 * What a key rotation costs a node: Access.revoked() over N open streams, each with its own HS256
 * token (the worst case: streams that share a token are verified once), after the secret changed.
 * Prints the wall time, the CPU time (per token too) and the longest event-loop stall meanwhile,
 * which says whether other streams keep flowing during the re-check. A figure, never an assertion.
 *
 *   node --import tsx loadtest/reload-recheck.ts [N=10000]
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino } from 'pino';
import { Access } from '../src/auth/access.js';
import { loadConfig } from '../src/config.js';
import { HS256_SECRET, mint } from '../test/helpers/tokens.js';

const streams = Number(process.argv[2] ?? 10_000);
const access = new Access(loadConfig({ HUB_AUTH_HS256_SECRET: HS256_SECRET }), pino({ level: 'silent' }));
const credentials = [];
for (let i = 0; i < streams; i++) credentials.push({ token: await mint({ subscribe: ['orders.>'] }, { subject: `user-${i}` }), topics: ['orders.1'] });
access.reconfigure(loadConfig({ HUB_AUTH_HS256_SECRET: 'a-rotated-secret-of-at-least-32-characters' }));

const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
const cpuBefore = process.cpuUsage();
const start = performance.now();
const revoked = await access.revoked(credentials);
const wallMs = performance.now() - start;
const cpu = process.cpuUsage(cpuBefore);
loop.disable();
const cpuUs = cpu.user + cpu.system;
console.log(JSON.stringify({ streams, revoked: revoked.size, wallMs: Math.round(wallMs), cpuMs: Math.round(cpuUs / 1000), cpuUsPerToken: Math.round(cpuUs / streams), loopDelayMaxMs: Math.round(loop.max / 1e6) }));
