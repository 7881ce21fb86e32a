/** The import-cycle finder (test/helpers/import-graph.ts) on small fixture trees. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildImportGraph, findCycles, formatCycle, moduleSpecifiers, readImportGraph, resolveSpecifier } from '../helpers/import-graph.js';

const graphOf = (sources: Record<string, string>) => buildImportGraph(new Map(Object.entries(sources)));

describe('module specifiers', () => {
  it('reads every kind of import and re-export, type-only ones included, and nothing in comments or strings', () => {
    const source = [
      "import { a } from './a.js';",
      "import type { B } from './b.js';",
      "import { type C, c } from './c.js';",
      "import './side-effect.js';",
      "import * as d from './d.js';",
      "export { e } from './e.js';",
      "export type { F } from './f.js';",
      "export * from './g.js';",
      "import h = require('./h.js');",
      "type I = import('./i.js').I;",
      "const j = () => import('./j.js');",
      "import { pino } from 'pino';",
      "// import { k } from './k.js';",
      "/** export { l } from './l.js'; */",
      "const m = \"import { m } from './m.js'\";",
    ].join('\n');
    expect(moduleSpecifiers(source)).toEqual(['./a.js', './b.js', './c.js', './side-effect.js', './d.js', './e.js', './f.js', './g.js', './h.js', './i.js', './j.js', 'pino']);
  });
});

describe('resolving a specifier', () => {
  const modules = new Set(['config.ts', 'log.ts', 'bus/jetstream.ts', 'bus/index.ts', 'bus/kinds/index.ts']);

  it('maps ".js" to ".ts" and a folder to its index, relative to the importing module', () => {
    expect(resolveSpecifier('config.ts', './bus/jetstream.js', modules)).toBe('bus/jetstream.ts');
    expect(resolveSpecifier('bus/jetstream.ts', '../log.js', modules)).toBe('log.ts');
    expect(resolveSpecifier('config.ts', './bus', modules)).toBe('bus/index.ts');
    expect(resolveSpecifier('config.ts', './bus/index.js', modules)).toBe('bus/index.ts');
    expect(resolveSpecifier('bus/jetstream.ts', './kinds/', modules)).toBe('bus/kinds/index.ts');
    expect(resolveSpecifier('bus/jetstream.ts', './jetstream.ts', modules)).toBe('bus/jetstream.ts');
  });

  it('leaves packages and paths outside the tree alone, and refuses a path inside it that names no module', () => {
    expect(resolveSpecifier('config.ts', 'nats', modules)).toBeUndefined();
    expect(resolveSpecifier('config.ts', 'node:os', modules)).toBeUndefined();
    expect(resolveSpecifier('config.ts', '../client/ssehub.js', modules)).toBeUndefined();
    expect(() => resolveSpecifier('config.ts', './errors.js', modules)).toThrow('config.ts: cannot resolve "./errors.js" (tried errors.ts)');
  });
});

describe('finding import cycles', () => {
  it('finds none in a tree that only imports downwards', () => {
    const graph = graphOf({
      'main.ts': "import { a } from './a.js';\nimport { b } from './b/index.js';",
      'a.ts': "import type { B } from './b/index.js';",
      'b/index.ts': "import { c } from '../c.js';",
      'c.ts': "import { pino } from 'pino';",
    });
    expect(graph.get('main.ts')).toEqual(['a.ts', 'b/index.ts']);
    expect(findCycles(graph)).toEqual([]);
  });

  it('finds a cycle closed by type-only imports, and names its shortest path and every module in the knot', () => {
    // The shape src/ had: settings import a bus type, the bus imports the logger, the logger a settings type.
    const graph = graphOf({
      'main.ts': "import { loadConfig } from './config.js';",
      'config.ts': "import type { JetStreamSettings } from './bus/jetstream.js';",
      'log.ts': "import type { LogLevel } from './config.js';",
      'bus/jetstream.ts': "import type { Logger } from '../log.js';\nimport { natsHeaders } from './nats.js';\nimport { connectNats } from './nats-connection.js';",
      'bus/nats.ts': "import type { Logger } from '../log.js';\nimport { connectNats } from './nats-connection.js';",
      'bus/nats-connection.ts': "import type { Logger } from '../log.js';",
    });
    const cycles = findCycles(graph);
    expect(cycles).toEqual([
      {
        members: ['bus/jetstream.ts', 'bus/nats-connection.ts', 'bus/nats.ts', 'config.ts', 'log.ts'],
        path: ['bus/jetstream.ts', 'log.ts', 'config.ts', 'bus/jetstream.ts'],
      },
    ]);
    expect(formatCycle(cycles[0]!, 'src/')).toBe(
      'src/bus/jetstream.ts → src/log.ts → src/config.ts → src/bus/jetstream.ts (the same knot also ties in src/bus/nats-connection.ts, src/bus/nats.ts)',
    );
  });

  it('finds each separate cycle once, and a module that imports itself', () => {
    const graph = graphOf({
      'a.ts': "import { b } from './b.js';",
      'b.ts': "export { a } from './a.js';",
      'c.ts': "import { d } from './d.js';\nimport { a } from './a.js';",
      'd.ts': "import { e } from './e.js';",
      'e.ts': "import type { C } from './c.js';",
      'self.ts': "import type { Self } from './self.js';",
    });
    expect(findCycles(graph).map((c) => formatCycle(c))).toEqual(['a.ts → b.ts → a.ts', 'c.ts → d.ts → e.ts → c.ts', 'self.ts → self.ts']);
  });

  it('passes once the import that closes the cycle is cut', () => {
    const sources = {
      'config.ts': "import type { JetStreamSettings } from './bus/jetstream.js';",
      'log.ts': "import type { LogLevel } from './config.js';",
      'bus/jetstream.ts': "import type { Logger } from '../log.js';",
    };
    expect(findCycles(graphOf(sources))).toHaveLength(1);
    expect(findCycles(graphOf({ ...sources, 'config.ts': "export type LogLevel = 'info';" }))).toEqual([]);
  });

  it('reads a tree from disk: nested folders, declaration files aside', () => {
    const root = mkdtempSync(join(tmpdir(), 'ssehub-import-graph-'));
    try {
      const files: Record<string, string> = {
        'main.ts': "import { hub } from './hub/hub.js';",
        'hub/hub.ts': "import type { Main } from '../main.js';",
        'types.d.ts': "import type { Main } from './main.js';",
      };
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), text);
      }
      const graph = readImportGraph(root);
      expect([...graph.keys()].sort()).toEqual(['hub/hub.ts', 'main.ts']);
      expect(findCycles(graph).map((c) => formatCycle(c))).toEqual(['hub/hub.ts → main.ts → hub/hub.ts']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
