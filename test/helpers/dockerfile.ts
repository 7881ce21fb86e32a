/**
 * Reads this project's Dockerfile and .dockerignore well enough to replay a build without a Docker
 * engine (test/integration/container.test.ts). It covers the instructions the Dockerfile uses and
 * throws on anything else, so a new instruction fails the test until the replay understands it.
 */
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface Instruction {
  readonly keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly name: string;
  /** Image or earlier stage, with build ARGs substituted. */
  readonly from: string;
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  readonly args: ReadonlyMap<string, string>;
  readonly stages: readonly Stage[];
}

const KNOWN = new Set(['ARG', 'FROM', 'WORKDIR', 'COPY', 'RUN', 'ENV', 'USER', 'EXPOSE', 'HEALTHCHECK', 'STOPSIGNAL', 'CMD', 'LABEL']);

export function parseDockerfile(text: string): Dockerfile {
  const args = new Map<string, string>();
  const stages: { name: string; from: string; instructions: Instruction[] }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    while (line.endsWith('\\')) line = `${line.slice(0, -1).trim()} ${lines[++i]!.trim()}`;
    const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (!KNOWN.has(upper)) throw new Error(`Dockerfile line ${start + 1}: ${keyword} is not replayed by test/helpers/dockerfile.ts`);
    const substituted = rest.replace(/\$\{(\w+)\}/g, (whole, name: string) => args.get(name) ?? whole);
    if (upper === 'ARG' && stages.length === 0) {
      const [name, value = ''] = rest.split('=', 2) as [string, string?];
      args.set(name.trim(), value.trim());
    } else if (upper === 'FROM') {
      const [, from = '', name = `stage${stages.length}`] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(substituted) ?? [];
      stages.push({ name, from, instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`Dockerfile line ${start + 1}: ${keyword} before FROM`);
      stage.instructions.push({ keyword: upper, args: substituted, line: start + 1 });
    }
  }
  return { args, stages };
}

/** The Node major of an official `node:<major>-<variant>` base image, e.g. 24 for node:24-bookworm-slim. */
export function nodeImageMajor(image: string): number {
  const m = /^node:(\d+)-[\w.-]+(@sha256:[0-9a-f]{64})?$/.exec(image);
  if (!m) throw new Error(`base image ${image} is not node:<major>-<variant>: the replay cannot tell which Node it ships`);
  return Number(m[1]);
}

/** Splits leading `--flag=value` options from the rest of an instruction's arguments. */
export function splitFlags(args: string): { flags: Map<string, string>; rest: string } {
  const flags = new Map<string, string>();
  let rest = args;
  for (let m = /^--([\w-]+)(?:=(\S*))?\s+/.exec(rest); m; m = /^--([\w-]+)(?:=(\S*))?\s+/.exec(rest)) {
    flags.set(m[1]!, m[2] ?? '');
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

/** A JSON-array (exec form) argument list, e.g. CMD ["node", "dist/main.js"]; undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  return JSON.parse(args) as string[];
}

// --- .dockerignore --------------------------------------------------------------------------------

interface IgnoreRule {
  readonly negate: boolean;
  readonly pattern: string;
  readonly regex: RegExp;
}

function toRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function parseDockerignore(text: string): IgnoreRule[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, '');
      return { negate, pattern, regex: toRegex(pattern) };
    });
}

/** Docker's rule: the last rule that matches the path or one of its parent directories decides. */
export function isIgnored(path: string, rules: readonly IgnoreRule[]): boolean {
  const parts = path.split('/');
  const selfAndParents = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) if (selfAndParents.some((p) => rule.regex.test(p))) ignored = !rule.negate;
  return ignored;
}

/** Copies what a `docker build` would send as context: `root` filtered through its .dockerignore rules. */
export function copyBuildContext(root: string, rules: readonly IgnoreRule[], into: string): string[] {
  const copied: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(root, rel))) {
      const path = rel === '' ? entry : `${rel}/${entry}`;
      const isDir = statSync(join(root, path)).isDirectory();
      if (isIgnored(path, rules)) {
        // An ignored directory is still walked when a later "!" rule may bring back something inside.
        if (isDir && rules.some((r) => r.negate && r.pattern.startsWith(`${path}/`))) walk(path);
        continue;
      }
      if (isDir) walk(path);
      else {
        cpSync(join(root, path), join(into, path));
        copied.push(path);
      }
    }
  };
  walk('');
  return copied;
}
