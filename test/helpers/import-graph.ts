/**
 * The import graph of a TypeScript source tree and its cycles, for the test that keeps src/ free of
 * them. Type-only imports count: they tie two modules together for a reader just as a value import
 * does, and become one with a single edit. Specifiers are read from the syntax tree, so an import
 * written in a comment or a string is not one.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, posix, sep } from 'node:path';
import ts from 'typescript';

/** Module (its path below the root, '/'-separated) → the modules of the same tree it imports. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

export interface ImportCycle {
  /** Every module of the strongly connected component, sorted: each reaches every other. */
  readonly members: readonly string[];
  /** One shortest closed path through the component, from its first member back to it. */
  readonly path: readonly string[];
}

/**
 * Every module specifier in the source: `import` and `export … from` (type-only ones included),
 * side-effect imports, `import x = require(…)`, `import(…)` calls and `import(…)` types.
 */
export function moduleSpecifiers(source: string, fileName = 'module.ts'): string[] {
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isExternalModuleReference(node) && ts.isStringLiteral(node.expression)) {
      specifiers.push(node.expression.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      specifiers.push(node.argument.literal.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      specifiers.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS));
  return specifiers;
}

/**
 * The module a relative specifier in `from` names, as NodeNext resolves it for TypeScript sources:
 * `./x.js` is `x.ts`, `./dir` is `dir/index.ts`. Undefined for a package or a path outside the
 * tree; throws for a path inside the tree that names no module, so a gap in resolving cannot hide
 * a cycle.
 */
export function resolveSpecifier(from: string, specifier: string, modules: ReadonlySet<string>): string | undefined {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return undefined;
  const target = posix.normalize(posix.join(posix.dirname(from), specifier)).replace(/\/$/, '');
  if (target.startsWith('../')) return undefined;
  const candidates = /\.[cm]?js$/.test(target)
    ? [target.replace(/js$/, 'ts')]
    : /\.[cm]?ts$/.test(target)
      ? [target]
      : [`${target}.ts`, `${target}/index.ts`];
  const found = candidates.find((c) => modules.has(c));
  if (found === undefined) throw new Error(`${from}: cannot resolve "${specifier}" (tried ${candidates.join(', ')})`);
  return found;
}

/** The graph of these sources (module path → text), with only the imports between them. */
export function buildImportGraph(sources: ReadonlyMap<string, string>): ImportGraph {
  const modules = new Set(sources.keys());
  const graph = new Map<string, string[]>();
  for (const [module, source] of sources) {
    const targets = moduleSpecifiers(source, module).flatMap((s) => resolveSpecifier(module, s, modules) ?? []);
    graph.set(module, [...new Set(targets)]);
  }
  return graph;
}

/** The import graph of every `.ts` module below `root` (declaration files aside). */
export function readImportGraph(root: string): ImportGraph {
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  return buildImportGraph(new Map(files.map((f) => [f.split(sep).join('/'), readFileSync(join(root, f), 'utf8')])));
}

/** The import cycles of the graph, one per strongly connected component that has one, in member order. */
export function findCycles(graph: ImportGraph): ImportCycle[] {
  return stronglyConnectedComponents(graph)
    .filter((members) => members.length > 1 || graph.get(members[0]!)!.includes(members[0]!))
    .map((members) => {
      const sorted = [...members].sort();
      return { members: sorted, path: shortestCycle(graph, sorted[0]!, new Set(sorted)) };
    })
    .sort((a, b) => (a.members[0]! < b.members[0]! ? -1 : 1));
}

/** `a.ts → b.ts → a.ts`, and the whole component when it is larger than the path. */
export function formatCycle(cycle: ImportCycle, prefix = ''): string {
  const path = cycle.path.map((m) => prefix + m).join(' → ');
  const onPath = new Set(cycle.path);
  const others = cycle.members.filter((m) => !onPath.has(m));
  return others.length === 0 ? path : `${path} (the same knot also ties in ${others.map((m) => prefix + m).join(', ')})`;
}

// Tarjan's algorithm: one depth-first walk, each component popped off the stack when its root finishes.
function stronglyConnectedComponents(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (module: string): void => {
    index.set(module, index.size);
    lowLink.set(module, index.get(module)!);
    stack.push(module);
    onStack.add(module);
    for (const next of graph.get(module) ?? []) {
      if (!index.has(next)) {
        visit(next);
        lowLink.set(module, Math.min(lowLink.get(module)!, lowLink.get(next)!));
      } else if (onStack.has(next)) {
        lowLink.set(module, Math.min(lowLink.get(module)!, index.get(next)!));
      }
    }
    if (lowLink.get(module) !== index.get(module)) return;
    const component: string[] = [];
    for (let member = stack.pop()!; ; member = stack.pop()!) {
      onStack.delete(member);
      component.push(member);
      if (member === module) break;
    }
    components.push(component);
  };
  for (const module of graph.keys()) if (!index.has(module)) visit(module);
  return components;
}

// Breadth-first inside the component, so the path printed is one of the shortest.
function shortestCycle(graph: ImportGraph, start: string, within: ReadonlySet<string>): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const module = queue[i]!;
    for (const next of graph.get(module) ?? []) {
      if (next === start) {
        const path = [start];
        for (let at: string | undefined = module; at !== undefined && at !== start; at = cameFrom.get(at)) path.splice(1, 0, at);
        return [...path, start];
      }
      if (within.has(next) && !cameFrom.has(next)) {
        cameFrom.set(next, module);
        queue.push(next);
      }
    }
  }
  throw new Error(`no cycle through ${start}`);
}
