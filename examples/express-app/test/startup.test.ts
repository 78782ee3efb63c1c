import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { findFreePort, waitFor } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../', import.meta.url));

/** Runs a command to its end with only these variables (plus PATH and HOME); its exit code and output. */
function runToEnd(command: string, args: string[], cwd: string, env: Record<string, string>) {
  const child: ChildProcess = spawn(command, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => (stdout += chunk));
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    // A server that starts instead of failing would never exit: stop it, and the test sees code null.
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const server = (env: Record<string, string>) =>
  runToEnd(process.execPath, ['--import', 'tsx', 'src/server.ts'], EXAMPLE, env);

// Each test starts the example (tsx): seconds, many more on a loaded machine.
describe('the quick start: `pnpm example`', { timeout: 120_000 }, () => {
  it('serves the live page and /healthz on PORT, and stops on Ctrl-C', async () => {
    const port = await findFreePort();
    // Its own process group, so the test stops pnpm and the node it starts together.
    const child = spawn('pnpm', ['--silent', 'example'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    child.stdout?.on('data', (chunk) => (stdout += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await waitFor(() => stdout.includes(`listening on http://localhost:${port}`), { timeoutMs: 90_000 });
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toContain('larder');
    } finally {
      // What Ctrl-C in a terminal does: SIGINT to the whole foreground group.
      process.kill(-(child.pid as number), 'SIGINT');
    }
    await exited;
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});

describe('the example refuses to start, in one clear block, and exits non-zero', { timeout: 120_000 }, () => {
  let taken: Server;
  let port: number;
  beforeAll(async () => {
    // Held like another dev server would (all interfaces), as the example listens.
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    port = (taken.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

  it('on a taken port: says so, never "listening" (memory, and Redis where it used to hang)', async () => {
    const refused = await findFreePort();
    const runs = await Promise.all([
      server({ PORT: String(port) }),
      server({ PORT: String(port), CACHE_DRIVER: 'redis', REDIS_URL: `redis://127.0.0.1:${refused}` }),
    ]);
    for (const { code, stdout, stderr } of runs) {
      expect(code).toBe(1);
      expect(stdout).not.toContain('listening');
      expect(stderr).toContain(`port ${port} is already in use (EADDRINUSE)`);
      expect(stderr).toContain(`PORT=${port + 1} pnpm example`);
      expect(stderr).not.toMatch(/^\s+at /m);
    }
  });

  it('on a bad configuration through `pnpm example`: the ConfigError message, no stack, the password redacted', async () => {
    const { code, stdout, stderr } = await runToEnd('pnpm', ['example'], ROOT, {
      CACHE_DRIVER: 'redis',
      REDIS_URL: 'redis://:hunter2-pw@127.0.0.1:99999',
    });
    expect(code).not.toBe(0);
    expect(stderr).toContain(
      "larder example could not start: invalid configuration: Invalid REDIS_URL='redis://:***@127.0.0.1:99999': expected a port from 1 to 65535 after the host, got '99999'",
    );
    expect(stderr).toContain('Fix REDIS_URL');
    expect(`${stdout}${stderr}`).not.toMatch(/^\s+at /m);
    expect(`${stdout}${stderr}`).not.toContain('hunter2-pw');
    expect(stderr).not.toContain('ERR_PNPM_RECURSIVE_RUN_FIRST_FAIL');
  });

  it('on a PORT that is not a port', async () => {
    const { code, stderr } = await server({ PORT: 'eighty' });
    expect(code).toBe(1);
    expect(stderr).toContain("PORT='eighty' is not a TCP port");
  });
});
