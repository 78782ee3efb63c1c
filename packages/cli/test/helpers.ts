import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { run } from '../src/index';

/** Runs the CLI in-process with this env and captures its output. */
export async function larder(argv: string[], env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    env,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

/**
 * The machine's network settings, which a real install meets too: a proxy, or the extra CA of a
 * TLS-inspecting one (npm run by another Node than the system's reads no global npmrc, so without
 * `NODE_EXTRA_CA_CERTS` its registry fetches fail with SELF_SIGNED_CERT_IN_CHAIN there).
 */
const NETWORK_VARIABLES = [
  'NODE_EXTRA_CA_CERTS',
  'HTTPS_PROXY',
  'HTTP_PROXY',
  'NO_PROXY',
  'https_proxy',
  'http_proxy',
  'no_proxy',
];

/** PATH, HOME and the network settings of this process's environment (see `NETWORK_VARIABLES`). */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  for (const name of NETWORK_VARIABLES) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** Runs a real process to its end with only these variables (plus PATH, HOME and the network settings); its exit code and output. */
export function runProcess(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...baseEnv(), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
