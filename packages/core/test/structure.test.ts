import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cycles, filesPerFolder, importGraph } from '../../../scripts/import-graph';

// The shape docs/architecture.md describes ("Folders of packages/core/src"), kept by a test.
describe('packages/core/src', () => {
  const graph = importGraph(fileURLToPath(new URL('../src', import.meta.url)));

  it('has no import cycle, type-only imports included', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('has no folder over 10 files (split one that grows past it, and say so in the architecture doc)', () => {
    const over = Object.entries(filesPerFolder(graph)).filter(([, count]) => count > 10);
    expect(over).toEqual([]);
  });
});
