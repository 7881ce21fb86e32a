/**
 * The container's health probe (Dockerfile HEALTHCHECK): exits 0 when this node's /healthz answers
 * 200 within PROBE_TIMEOUT_MS, 1 otherwise. Slim images have no curl; this is Node's own fetch, and
 * it reads HOST/PORT through loadConfig so it finds the hub exactly where the hub listens.
 */
import { loadConfig } from './config.js';

// Below the HEALTHCHECK --timeout, so the probe reports its own failure rather than being killed.
const PROBE_TIMEOUT_MS = 2000;

async function probe(): Promise<boolean> {
  const config = loadConfig();
  // A hub listening on every interface is reachable on loopback.
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${config.port}/healthz`;
  const res = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  return res.status === 200;
}

probe().then(
  (healthy) => process.exit(healthy ? 0 : 1),
  (err: unknown) => {
    process.stderr.write(`ssehub healthcheck: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
