// `node --import tsx scripts/import-graph.ts [src-dir]` (default packages/core/src): the module graph of a
// source tree, type-only imports included — import cycles, the deepest import chain from each
// entry, and files per folder (docs/architecture.md records them for core). Exits 1 on a cycle.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const ENTRIES = ['index.ts', 'driver.ts', 'testing/index.ts'];

/** The floors of packages/core/src, from the ground up (docs/architecture.md "Folders of packages/core/src"). */
export const CORE_FLOORS = [
  'contract',
  'util',
  'values',
  'config',
  'tags',
  'l1',
  'rate-limit',
  'cache',
  'manager',
  'testing',
] as const;
const SPECIFIER = /(?:import|export)\s[^'";]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/gs;

/** Every `.ts` file under `dir`, relative to `root`. */
function sources(dir: string, root: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path, root);
    return name.endsWith('.ts') ? [relative(root, path)] : [];
  });
}

/** The modules each module imports (relative specifiers resolved to files of the tree). */
export function importGraph(root: string): Map<string, string[]> {
  const files = new Set(sources(root, root));
  const edges = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    const out = new Set<string>();
    for (const match of text.matchAll(SPECIFIER)) {
      const base = normalize(join(dirname(file), match[1] ?? match[2] ?? ''));
      const found = [`${base}.ts`, join(base, 'index.ts'), base].find((candidate) => files.has(candidate));
      if (found) out.add(found);
    }
    edges.set(file, [...out].sort());
  }
  return edges;
}

/** Strongly connected components with more than one module (or a self-import): the cycles. */
export function cycles(edges: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || edges.get(v)?.includes(v)) found.push(component.reverse());
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** The longest import chain from `entry` (the graph has no cycle). */
export function deepestChain(
  edges: Map<string, string[]>,
  entry: string,
  memo = new Map<string, string[]>(),
): string[] {
  const known = memo.get(entry);
  if (known) return known;
  let best = [entry];
  for (const next of edges.get(entry) ?? []) {
    const chain = [entry, ...deepestChain(edges, next, memo)];
    if (chain.length > best.length) best = chain;
  }
  memo.set(entry, best);
  return best;
}

/**
 * Imports that go up the floors: `floors` lists the top-level folders from the ground up (a file
 * outside them, such as an entry, is the roof). An import may stay on its floor or go down, never up.
 */
export function upwardImports(edges: Map<string, string[]>, floors: readonly string[]): string[] {
  const floorOf = (file: string) => {
    const folder = file.split('/')[0] as string;
    const at = floors.indexOf(folder);
    return at < 0 ? floors.length : at;
  };
  const up: string[] = [];
  for (const [file, imports] of edges) {
    for (const target of imports) if (floorOf(target) > floorOf(file)) up.push(`${file} -> ${target}`);
  }
  return up.sort();
}

/** How many modules each folder holds. */
export function filesPerFolder(edges: Map<string, string[]>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const file of edges.keys()) counts[dirname(file)] = (counts[dirname(file)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = process.argv[2] ?? 'packages/core/src';
  const edges = importGraph(root);
  const imports = [...edges.values()].reduce((n, list) => n + list.length, 0);
  console.log(`${edges.size} modules, ${imports} imports under ${root}`);
  console.log('files per folder:', JSON.stringify(filesPerFolder(edges)));
  const found = cycles(edges);
  for (const cycle of found) console.log(`cycle: ${cycle.join(' -> ')}`);
  if (found.length > 0) process.exit(1);
  console.log('no import cycle (type-only imports included)');
  if (root === 'packages/core/src') {
    const up = upwardImports(edges, CORE_FLOORS);
    for (const line of up) console.log(`upward import: ${line}`);
    if (up.length > 0) process.exit(1);
    console.log(`no import goes up core's floors (${CORE_FLOORS.join(' < ')})`);
  }
  for (const entry of ENTRIES.filter((name) => edges.has(name))) {
    const chain = deepestChain(edges, entry);
    console.log(`deepest chain from ${entry}: ${chain.length} modules: ${chain.join(' -> ')}`);
  }
}
