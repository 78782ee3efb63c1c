import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { canPin } from '../src/pin';

const root = fileURLToPath(new URL('../..', import.meta.url));
const driver = fileURLToPath(new URL('./fixtures/pin-driver.ts', import.meta.url));

describe('bench --pin', () => {
  // Needs Linux's taskset and two CPUs; the bench then runs unpinned, with a warning.
  it.skipIf(!canPin())('puts what setup starts on CPU 1 and the bench process on CPU 0', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', driver], { cwd: root }).toString();
    expect(JSON.parse(out)).toEqual({ bench: '0', server: '1' });
  });
});
