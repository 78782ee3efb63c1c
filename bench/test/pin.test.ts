import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { canPin, pinProcess } from '../src/pin';

const root = fileURLToPath(new URL('../..', import.meta.url));
const driver = fileURLToPath(new URL('./fixtures/pin-driver.ts', import.meta.url));

describe('bench --pin', () => {
  // Needs Linux's taskset and two CPUs; the bench then runs unpinned, with a warning.
  it.skipIf(!canPin())('puts what setup starts on CPU 1 and the bench process on CPU 0', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', driver], { cwd: root }).toString();
    expect(JSON.parse(out)).toEqual({ bench: '0', server: '1' });
  });
});

describe('pinProcess', () => {
  /** Runs `fn` with a `taskset` first on PATH that fails its first `failures` calls, then runs the real one; returns its calls. */
  function withFlakyTaskset(failures: number, fn: () => void): number {
    const dir = mkdtempSync(join(tmpdir(), 'larder-taskset-'));
    const calls = join(dir, 'calls');
    writeFileSync(calls, '');
    const real = execFileSync('sh', ['-c', 'command -v taskset']).toString().trim();
    const script = join(dir, 'taskset');
    writeFileSync(
      script,
      `#!/bin/sh\necho x >> '${calls}'\n[ $(wc -l < '${calls}') -le ${failures} ] && exit 1\nexec '${real}' "$@"\n`,
    );
    chmodSync(script, 0o755);
    const path = process.env.PATH;
    process.env.PATH = `${dir}:${path}`;
    try {
      fn();
      return readFileSync(calls, 'utf8').split('\n').filter(Boolean).length;
    } finally {
      process.env.PATH = path;
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it.skipIf(!canPin())('tries again when taskset fails (a thread that ended while it walked them)', () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const calls = withFlakyTaskset(2, () => pinProcess(child.pid as number, 1));
      expect(calls).toBe(3);
      expect(execFileSync('taskset', ['-c', '-p', String(child.pid)]).toString()).toMatch(/: 1\n$/);
    } finally {
      child.kill();
    }
  });

  it.skipIf(!canPin())('gives up with the error after five failed attempts', () => {
    let thrown: unknown;
    const calls = withFlakyTaskset(100, () => {
      try {
        pinProcess(process.pid, 0);
      } catch (error) {
        thrown = error;
      }
    });
    expect(calls).toBe(5);
    expect(thrown).toBeInstanceOf(Error);
  });
});
