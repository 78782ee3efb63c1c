import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findFreePort, memcachedAsciiStats, waitFor } from '../src/index';
import { rawExchange } from './helpers';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = (name: string) => fileURLToPath(new URL(`../src/${name}`, import.meta.url));

function run(script: string, args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return { child, out: () => stdout, err: () => stderr };
}

describe('CLIs', () => {
  it('pnpm services --only memcached prints the env and stops everything on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'larder-cli-test-'));
    const envFile = join(dir, 'env');
    const { child, out, err } = run(cli('cli.ts'), ['--only', 'memcached', '--env-out', envFile]);
    try {
      await waitFor(() => err().includes('ready'), { timeoutMs: 45_000, description: 'the CLI to print ready' });
      const endpoint = /^export MEMCACHED_CONFIG_ENDPOINT=127\.0\.0\.1:(\d+)$/m.exec(out())?.[1];
      const servers = /^# alternative: MEMCACHED_SERVERS=(\S+)$/m.exec(out())?.[1];
      expect(endpoint).toBeDefined();
      expect(readFileSync(envFile, 'utf8')).toBe(`MEMCACHED_CONFIG_ENDPOINT=127.0.0.1:${endpoint}\n`);
      const reply = await rawExchange(Number(endpoint), 'config get cluster\r\n', /END\r\n$/);
      const ports = servers!.split(',').map((s) => Number(s.split(':')[1]));
      expect(reply).toContain(ports.map((p) => `localhost|127.0.0.1|${p}`).join(' '));
      await memcachedAsciiStats({ host: '127.0.0.1', port: ports[0]! });
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
      for (const port of ports) await expect(memcachedAsciiStats({ host: '127.0.0.1', port })).rejects.toThrow();
      expect(existsSync(envFile)).toBe(false);
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('larder-elasticache-emulator --nodes ... --version', async () => {
    const free = await findFreePort();
    const { child, out } = run(cli('emulator-cli.ts'), [
      '--port',
      String(free),
      '--nodes',
      'cache-a:21001,cache-b|10.0.0.2|21002',
      '--version',
      '7',
    ]);
    try {
      await waitFor(() => /on 127\.0\.0\.1:(\d+)/.exec(out()), { timeoutMs: 20_000, description: 'the emulator CLI' });
      const port = Number(/on 127\.0\.0\.1:(\d+)/.exec(out())![1]);
      expect(port).toBe(free);
      expect(await rawExchange(port, 'config get cluster\r\n', /END\r\n$/)).toBe(
        'CONFIG cluster 0 40\r\n7\ncache-a||21001 cache-b|10.0.0.2|21002\n\r\nEND\r\n',
      );
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
