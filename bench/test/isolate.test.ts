import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CaseResult } from '../src/harness';

const root = fileURLToPath(new URL('../..', import.meta.url));
const driver = fileURLToPath(new URL('./fixtures/run-isolated.ts', import.meta.url));

interface Run {
  pid: number;
  results: CaseResult[];
  error?: string;
  /** Progress of the driver and of its child processes. */
  stderr: string;
}

/**
 * Runs fixtures/isolated-scenario.ts through `runIsolated` in a fresh `node --import tsx` process,
 * as `pnpm bench` does: isolate.ts starts its children with the same Node flags.
 */
function runIsolated(subjects: string[], only?: string): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', driver, ...subjects], {
    cwd: root,
    env: only === undefined ? process.env : { ...process.env, LARDER_TEST_ONLY: only },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`driver exited with ${code}: ${stderr}`));
      resolve({ ...(JSON.parse(stdout) as Omit<Run, 'stderr'>), stderr });
    });
  });
}

/** What a fixture `whoami` case reports from its process (as its error). */
function whoami(row: CaseResult | undefined): { pid: number; subject: string; timing: unknown } {
  return JSON.parse(row?.error ?? 'null');
}

describe('runIsolated', () => {
  it("runs each subject's cases in a child process of its own and merges the rows by operation", async () => {
    const run = await runIsolated(['a', 'b']);

    expect(run.error).toBeUndefined();
    expect(run.results.map((r) => `${r.op} · ${r.subject}`)).toEqual([
      'get · a',
      'get · b',
      'set · a',
      'set · b',
      'whoami · a',
      'whoami · b',
      'b alone · b',
    ]);
    // Each measured case checks it runs in its own subject's process (an error row otherwise).
    for (const r of run.results.filter((row) => row.op !== 'whoami')) {
      expect(r.error).toBeUndefined();
      expect(r.ops).toBeGreaterThan(0);
      expect(r.opsPerSec).toBeGreaterThan(0);
      expect(r.counters).toEqual([1]);
    }
    const a = whoami(run.results[4]);
    const b = whoami(run.results[5]);
    expect([a.subject, b.subject]).toEqual(['a', 'b']);
    expect(new Set([a.pid, b.pid, run.pid]).size).toBe(3);
    expect(a.timing).toEqual({ timeMs: 20, warmupMs: 2, rounds: 2 });
    expect(b.timing).toEqual(a.timing);
    // One subject after the other.
    const started = [...run.stderr.matchAll(/▶ isolated-fixture · (\w+): own process/g)].map((m) => m[1]);
    expect(started).toEqual(['a', 'b']);
  });

  it('stops at a subject whose setup fails and returns the error with the rows measured so far', async () => {
    const run = await runIsolated(['a', 'bad', 'b']);

    expect(run.error).toBe('bad: setup failed: refused for bad');
    expect(run.results.map((r) => `${r.op} · ${r.subject}`)).toEqual(['get · a', 'set · a', 'whoami · a']);
    expect(run.stderr).toContain('  ✗ bad: setup failed: refused for bad');
    const started = [...run.stderr.matchAll(/▶ isolated-fixture · (\w+): own process/g)].map((m) => m[1]);
    expect(started).toEqual(['a', 'bad']);
  });

  it('with --only, runs in each child the cases of its subject that match, none being no error', async () => {
    const run = await runIsolated(['a', 'b'], 'alone');

    expect(run.error).toBeUndefined();
    expect(run.results.map((r) => `${r.op} · ${r.subject}`)).toEqual(['b alone · b']);
    expect(run.results[0]?.ops).toBeGreaterThan(0);
    const none = await runIsolated(['a', 'b'], 'nothing');
    expect(none.error).toBe("no case's operation contains 'nothing'");
    expect(none.results).toEqual([]);
  });

  it('reports a child process that exits without a result', async () => {
    const run = await runIsolated(['crash']);

    expect(run.error).toBe('crash: child exited with 3');
    expect(run.results).toEqual([]);
  });
});
