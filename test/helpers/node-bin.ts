/**
 * A directory whose `node` is of a given major, for steps that must run on another Node than the one
 * running the tests (the container replay runs the image's Node). This process's own Node when the
 * major matches; else the one scripts/ensure-node.sh installs from the npm registry (once, cached).
 */
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

export function nodeBinDir(major: number): string {
  if (Number(process.versions.node.split('.')[0]) === major) return dirname(process.execPath);
  const run = spawnSync('bash', ['scripts/ensure-node.sh', String(major)], { cwd: REPO, encoding: 'utf8', timeout: 300_000 });
  if (run.status !== 0) throw new Error(`scripts/ensure-node.sh ${major} failed (${run.status ?? run.signal}): ${run.stderr.slice(-2000)}`);
  return run.stdout.trim();
}
