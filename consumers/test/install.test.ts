import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { repo } from './prepare';

const run = promisify(execFile);

// What a developer meets first on a fresh clone: `pnpm install --frozen-lockfile`, before any
// build. pnpm warns when a workspace bin points at a file that is not there yet (a bin into an
// unbuilt dist/) and when a dependency has a build script that pnpm-workspace.yaml neither allows
// (onlyBuiltDependencies) nor ignores (ignoredBuiltDependencies).

/** Copies the files git would commit (tracked, or new and not ignored) from the work tree into `to`. */
async function copyWorkTree(to: string): Promise<void> {
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repo,
    maxBuffer: 64 * 1024 * 1024,
  });
  for (const file of stdout.split('\0')) {
    const from = path.join(repo, file);
    // A tracked file deleted in the work tree is not part of it.
    if (file === '' || !fs.existsSync(from)) continue;
    fs.mkdirSync(path.dirname(path.join(to, file)), { recursive: true });
    // Keeps the mode: the committed bins are executable.
    fs.copyFileSync(from, path.join(to, file));
  }
}

describe('a fresh copy of the repository', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'larder-fresh-install-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('installs with --frozen-lockfile and prints no warning', async () => {
    await copyWorkTree(dir);
    // The outer `pnpm test` passes its own settings as npm_* variables: a developer's shell has none.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('npm_')));
    const { stdout, stderr } = await run('pnpm', ['install', '--frozen-lockfile', '--prefer-offline'], {
      cwd: dir,
      env: { ...env, CI: 'true' },
      maxBuffer: 16 * 1024 * 1024,
    });
    const output = `${stdout}\n${stderr}`;
    expect(output).toMatch(/Done in/);
    expect(output.split('\n').filter((line) => /warn/i.test(line))).toEqual([]);
    // The CLI's bin is linked where the example app depends on it.
    expect(fs.existsSync(path.join(dir, 'examples', 'express-app', 'node_modules', '.bin', 'larder'))).toBe(true);
  }, 300_000);
});
