import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CORE_FLOORS, cycles, importGraph, upwardImports } from '../../../scripts/import-graph';

// The shape docs/architecture.md describes ("Folders of packages/core/src"), kept by a test.
describe('packages/core/src', () => {
  const graph = importGraph(fileURLToPath(new URL('../src', import.meta.url)));

  it('has no import cycle, type-only imports included', () => {
    expect(cycles(graph)).toEqual([]);
  });

  // Folders are floors (contract at the ground, the facade and the manager on top): an import
  // stays on its floor or goes down, so no two folders depend on each other.
  it('has no import that goes up a floor', () => {
    expect(upwardImports(graph, CORE_FLOORS)).toEqual([]);
  });

  it('names every folder of src as a floor (a new folder takes its place in CORE_FLOORS)', () => {
    const folders = new Set([...graph.keys()].filter((file) => file.includes('/')).map((file) => file.split('/')[0]));
    expect([...folders].filter((folder) => !(CORE_FLOORS as readonly string[]).includes(folder as string))).toEqual([]);
  });
});

// No source file over 400 lines (docs/architecture.md "Where to add things"): every package's src, the bench and the examples; tests excluded.
describe('source files of the repository', () => {
  it('are at most 400 lines each (split one that grows past it into modules with one job)', () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const folders = ['packages', 'bench/src', 'examples'];
    const over: string[] = [];
    for (const folder of folders) {
      for (const entry of readdirSync(join(root, folder), { recursive: true, withFileTypes: true })) {
        const path = join(entry.parentPath, entry.name);
        if (!entry.isFile() || !/\.(ts|mts|cts|js|mjs)$/.test(entry.name) || entry.name.endsWith('.d.ts')) continue;
        if (/[/\\](node_modules|dist|test)[/\\]/.test(path)) continue;
        const lines = readFileSync(path, 'utf8').split('\n').length - 1;
        if (lines > 400) over.push(`${path.slice(root.length)}: ${lines}`);
      }
    }
    expect(over).toEqual([]);
  });
});
