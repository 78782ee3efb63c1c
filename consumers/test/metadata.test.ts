import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PUBLISHED, repo } from './prepare';

// What every published package.json needs before `npm publish`, checked on the sources so that a
// new package (or a new subpath) cannot land without it. The packed result is checked by publint
// and attw in consumers.test.ts.

interface Conditions {
  types?: string;
  default?: string;
}
interface Manifest {
  name: string;
  license?: string;
  homepage?: string;
  bugs?: { url?: string };
  repository?: { type?: string; url?: string; directory?: string };
  keywords?: string[];
  engines?: { node?: string };
  sideEffects?: boolean | string[];
  types?: string;
  typesVersions?: Record<string, Record<string, string[]>>;
  exports?: Record<string, { import?: Conditions; require?: Conditions }>;
  files?: string[];
  publishConfig?: { access?: string };
  scripts?: { build?: string };
}

const read = (name: string, file: string) => fs.readFileSync(path.join(repo, 'packages', name, file), 'utf8');

describe.each(PUBLISHED)('packages/%s', (name) => {
  const manifest = JSON.parse(read(name, 'package.json')) as Manifest;

  it('has the metadata a registry page and a bundler need', () => {
    expect(manifest).toMatchObject({
      name: `@larder/${name}`,
      license: 'MIT',
      homepage: expect.stringMatching(/^https:\/\//),
      bugs: { url: expect.stringMatching(/^https:\/\//) },
      repository: { type: 'git', url: expect.stringMatching(/^git\+https:\/\//), directory: `packages/${name}` },
      engines: { node: '>=20.19' },
      sideEffects: false,
      types: './dist/index.d.ts',
      publishConfig: { access: 'public' },
    });
    expect(manifest.keywords?.length).toBeGreaterThan(0);
    expect(manifest.files).toEqual(expect.arrayContaining(['dist', 'README.md', 'CHANGELOG.md', 'LICENSE']));
  });

  it('ships an MIT LICENSE and a CHANGELOG', () => {
    expect(read(name, 'LICENSE')).toMatch(/^MIT License\n/);
    expect(read(name, 'CHANGELOG.md')).toMatch(new RegExp(`^# @larder/${name}\\n`));
  });

  it('exports ESM and CommonJS entries with their types, typed under node10 too', () => {
    const subpaths = Object.keys(manifest.exports ?? {});
    expect(subpaths).toContain('.');
    for (const subpath of subpaths) {
      const file = subpath === '.' ? 'index' : subpath.slice(2);
      expect(manifest.exports?.[subpath], subpath).toEqual({
        import: { types: `./dist/${file}.d.ts`, default: `./dist/${file}.js` },
        require: { types: `./dist/${file}.d.cts`, default: `./dist/${file}.cjs` },
      });
      if (subpath !== '.') expect(manifest.typesVersions?.['*']?.[file], subpath).toEqual([`./dist/${file}.d.ts`]);
    }
  });

  it('is built as ESM with one-line CommonJS entries (one module instance for both)', () => {
    expect(manifest.scripts?.build).toBe('tsup && node ../../scripts/cjs-entries.mjs');
    expect(read(name, 'tsup.config.ts')).toMatch(/format: \['esm'\]/);
  });
});
