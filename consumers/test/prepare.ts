import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { checkTarballs, type PackageReport } from './package-checks';

const run = promisify(execFile);

export const repo = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
const here = fileURLToPath(new URL('./', import.meta.url));

/** Every published package: the folders under packages/ whose package.json is not private. */
export const PUBLISHED = fs
  .readdirSync(path.join(repo, 'packages'))
  .filter((name) => {
    const file = path.join(repo, 'packages', name, 'package.json');
    return fs.existsSync(file) && JSON.parse(fs.readFileSync(file, 'utf8')).private !== true;
  })
  .sort();
/**
 * The packages the npm projects install, each with its framework (`fixtures/npm/package.json`, the
 * workspace lockfile's versions); the others are packed and checked only: their clients are large.
 */
const INSTALLED = ['core', 'memory', 'redis', 'http', 'express', 'fastify', 'hono', 'nestjs'];
/**
 * The TypeScript projects and the app each compiles: one app under each `moduleResolution` we
 * support, and a NestJS app (ESM-only, legacy decorators with `emitDecoratorMetadata`) under nodenext.
 */
const TS_APPS: Record<string, string> = {
  'ts-node16': 'ts-app.ts',
  'ts-nodenext': 'ts-app.ts',
  'ts-bundler': 'ts-app.ts',
  'ts-node10': 'ts-app.ts',
  'ts-nest': 'ts-nest-app.ts',
};
export const TS_PROJECTS = Object.keys(TS_APPS);

/** What a prepared set holds: the packed tarballs, the installed projects, and the verdicts that depend only on them. */
export interface Prepared {
  dir: string;
  /** Packed tarball per package folder name. */
  tarballs: Record<string, string>;
  /** publint and attw findings per package. */
  packages: PackageReport[];
  /** `tsc` exit code and output per TypeScript project. */
  typescript: Record<string, { code: number; output: string }>;
}

/**
 * Packs every package and installs the tarballs into the blank projects, once per content: the
 * result lives in the temp folder under a hash of everything packed and of these fixtures, so CI's
 * runs on Node 22 and 24 (same build) reuse the Node 20 run's set and only run the smokes.
 */
export async function prepare(): Promise<Prepared> {
  const root = path.join(os.tmpdir(), 'larder-consumers');
  const dir = path.join(root, contentKey());
  const ready = path.join(dir, 'prepared.json');
  if (fs.existsSync(ready)) return JSON.parse(fs.readFileSync(ready, 'utf8')) as Prepared;
  fs.mkdirSync(root, { recursive: true });
  removeStale(root);
  const building = `${dir}.tmp-${process.pid}`;
  fs.rmSync(building, { recursive: true, force: true });
  try {
    const prepared = await build(building, dir);
    fs.writeFileSync(path.join(building, 'prepared.json'), JSON.stringify(prepared, null, 2));
    try {
      fs.renameSync(building, dir);
    } catch (error) {
      // Another process prepared the same set meanwhile: theirs is as good as ours.
      if (!fs.existsSync(ready)) throw error;
    }
  } finally {
    fs.rmSync(building, { recursive: true, force: true });
  }
  return JSON.parse(fs.readFileSync(ready, 'utf8')) as Prepared;
}

async function build(work: string, final: string): Promise<Prepared> {
  const tarballDir = path.join(work, 'tarballs');
  await run('pnpm', ['-r', '--filter', './packages/*', 'pack', '--pack-destination', tarballDir], { cwd: repo });
  const tarballs: Record<string, string> = {};
  for (const name of PUBLISHED) {
    const file = fs.readdirSync(tarballDir).find((f) => f.startsWith(`larder-${name}-`) && f.endsWith('.tgz'));
    if (!file) throw new Error(`pnpm pack made no tarball for packages/${name}`);
    tarballs[name] = path.join(final, 'tarballs', file);
  }
  const npm = path.join(work, 'npm');
  fs.cpSync(path.join(fixtures, 'npm'), npm, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(npm, 'package.json'), 'utf8'));
  for (const name of INSTALLED) {
    manifest.dependencies[`@larder/${name}`] = `file:../tarballs/${path.basename(tarballs[name]!)}`;
  }
  fs.writeFileSync(path.join(npm, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--prefer-offline'], {
    cwd: npm,
    env: cleanEnv(),
    maxBuffer: 16 * 1024 * 1024,
  });
  await installPnpmWorkspace(work, tarballs);
  const typescript: Prepared['typescript'] = {};
  for (const project of TS_PROJECTS) {
    const projectDir = path.join(npm, project);
    fs.mkdirSync(path.join(projectDir, 'src'), { recursive: true });
    fs.copyFileSync(path.join(npm, TS_APPS[project]!), path.join(projectDir, 'src', 'index.ts'));
    typescript[project] = await tsc(projectDir);
  }
  const packages = await checkTarballs(
    PUBLISHED.map((name) => ({ name, tarball: path.join(tarballDir, path.basename(tarballs[name]!)) })),
  );
  return { dir: final, tarballs, packages, typescript };
}

/**
 * The pnpm workspace with `hoist=false` (`fixtures/pnpm-hoist-false`): apps/web depends on core and
 * memory only, apps/worker on core and redis, apps/api on core, memory, fastify and hono.
 */
async function installPnpmWorkspace(work: string, tarballs: Record<string, string>): Promise<void> {
  const workspace = path.join(work, 'pnpm');
  fs.cpSync(path.join(fixtures, 'pnpm-hoist-false'), workspace, { recursive: true });
  const apps: [string, string[]][] = [
    ['web', ['core', 'memory']],
    ['worker', ['core', 'redis']],
    ['api', ['core', 'memory', 'fastify', 'hono']],
  ];
  // @larder/fastify and @larder/hono depend on @larder/http ^0.1.0, which is not on a registry: its tarball.
  fs.appendFileSync(
    path.join(workspace, 'pnpm-workspace.yaml'),
    `overrides:\n  '@larder/http': file:../tarballs/${path.basename(tarballs.http!)}\n`,
  );
  for (const [app, names] of apps) {
    const folder = path.join(workspace, 'apps', app);
    const manifest = JSON.parse(fs.readFileSync(path.join(folder, 'package.json'), 'utf8'));
    for (const name of names) {
      manifest.dependencies[`@larder/${name}`] = `file:../../../tarballs/${path.basename(tarballs[name]!)}`;
    }
    fs.writeFileSync(path.join(folder, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  }
  // Not frozen: CI=true would make pnpm insist on a lockfile this fixture does not have.
  await run('pnpm', ['install', '--no-frozen-lockfile', '--prefer-offline', '--reporter=silent'], {
    cwd: workspace,
    env: cleanEnv(),
    maxBuffer: 16 * 1024 * 1024,
  });
}

/**
 * The environment of an install outside this workspace: without the npm_* / pnpm_* settings and
 * NODE_PATH that pnpm hands to its scripts (NODE_PATH would let a blank project see this repository's packages).
 */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(npm_|pnpm_|NODE_PATH$|INIT_CWD$)/i.test(name)),
  );
}

/** Compiles a project with the repository's TypeScript; a failure is a verdict, not an error. */
async function tsc(project: string): Promise<{ code: number; output: string }> {
  const compiler = path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    const { stdout } = await run(process.execPath, [compiler, '-p', project], { cwd: project });
    return { code: 0, output: stdout };
  } catch (error) {
    const { code, stdout, stderr } = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof code === 'number' ? code : 1, output: `${stdout ?? ''}${stderr ?? ''}` };
  }
}

/** Hash of everything a prepared set depends on: the published files of every package and these tests' fixtures. */
function contentKey(): string {
  const hash = createHash('sha256');
  const add = (file: string) => {
    hash.update(path.relative(repo, file));
    hash.update(fs.readFileSync(file));
  };
  for (const name of PUBLISHED) {
    const dir = path.join(repo, 'packages', name);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { files?: string[] };
    add(path.join(dir, 'package.json'));
    for (const entry of manifest.files ?? []) {
      const target = path.join(dir, entry);
      if (fs.existsSync(target)) for (const file of walk(target)) add(file);
    }
  }
  for (const file of walk(fixtures)) add(file);
  for (const file of walk(here)) if (!file.endsWith('.test.ts')) add(file);
  return hash.digest('hex').slice(0, 16);
}

function walk(target: string): string[] {
  if (!fs.statSync(target).isDirectory()) return [target];
  return fs
    .readdirSync(target)
    .sort()
    .flatMap((name) => walk(path.join(target, name)));
}

/** Sets older than a day are from earlier builds (a run needs minutes): remove them, never a fresh one. */
function removeStale(root: string): void {
  const dayAgo = Date.now() - 24 * 60 * 60 * 1000;
  for (const name of fs.readdirSync(root)) {
    const entry = path.join(root, name);
    try {
      if (fs.statSync(entry).mtimeMs < dayAgo) fs.rmSync(entry, { recursive: true, force: true });
    } catch {
      // removed by another run meanwhile
    }
  }
}
