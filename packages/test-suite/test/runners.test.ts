import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/node-test-runner.ts', import.meta.url));

describe('runner-agnostic', () => {
  it('the whole suite runs under node:test (no vitest), skips reported with their reason', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', fixture], {
      cwd: root,
      timeout: 60_000,
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(`node --test failed:\n${error.stdout?.slice(-4000)}\n${error.stderr?.slice(-2000)}`);
    });
    const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(stdout)?.[1]);
    expect(count('fail')).toBe(0);
    expect(count('pass')).toBeGreaterThan(80);
    expect(stdout).toMatch(/\[skipped: largeValues: skipped here to show how a skip is reported\] # SKIP/);
  }, 90_000);
});
