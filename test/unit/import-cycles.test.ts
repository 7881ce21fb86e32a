/**
 * src/ has no import cycle, type-only imports included: each module can be read, and loaded,
 * without the modules that use it. A failure prints each cycle as a path of files.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findCycles, formatCycle, readImportGraph } from '../helpers/import-graph.js';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

describe('import graph of src/', () => {
  it('has no cycle', () => {
    const graph = readImportGraph(SRC);
    // The walk really read the tree: the entry point and its imports are in it.
    expect(graph.get('main.ts')?.length).toBeGreaterThan(0);
    expect(findCycles(graph).map((cycle) => formatCycle(cycle, 'src/')), 'import cycles in src/').toEqual([]);
  });
});
