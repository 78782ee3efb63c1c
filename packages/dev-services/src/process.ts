import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ExitCleanup, trackForExit, untrackForExit } from './cleanup';
import { ServiceStartError } from './errors';
import { waitFor } from './wait';

/** How to start one server process. */
export interface ProcessSpec {
  /** Short name used in errors and logs, e.g. `redis:21345`. */
  name: string;
  /** Absolute path of the binary. */
  command: string;
  /** Arguments. */
  args: string[];
  /** Extra environment variables. */
  env?: NodeJS.ProcessEnv;
  /** Working directory. */
  cwd?: string;
  /** Host the server listens on (127.0.0.1). */
  host: string;
  /** Port the server listens on. */
  port: number;
  /** Real readiness probe (TCP connect + protocol ping); throws or returns false while not ready. */
  ready: (proc: ManagedProcess) => Promise<boolean | undefined>;
  /** Start timeout in ms (default 20000). */
  startTimeoutMs?: number;
}

const LOG_LINES = 200;
const ADDRESS_IN_USE = /address already in use|EADDRINUSE|BindException|failed to listen/i;

/** A start failure because the port was taken in the meantime (another test file won the race). */
export class PortInUseError extends ServiceStartError {
  override readonly name = 'PortInUseError';
}

/** One server child process: spawned, log-captured, probed for readiness, killed by PID. */
export class ManagedProcess implements ExitCleanup {
  /** The spec it was started with (restart() reuses it, so the port stays the same). */
  readonly spec: ProcessSpec;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly logLines: string[] = [];
  private partial = '';
  private exitInfo: string | undefined;

  constructor(spec: ProcessSpec) {
    this.spec = spec;
  }

  /** 127.0.0.1 */
  get host(): string {
    return this.spec.host;
  }
  /** Listening port. */
  get port(): number {
    return this.spec.port;
  }
  /** PID of the running process (undefined when not running). */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }
  /** True while the process has not exited. */
  get running(): boolean {
    return this.child !== undefined && this.exitInfo === undefined;
  }
  /** The last lines of stdout/stderr. */
  logTail(lines = 30): string {
    const all = this.partial ? [...this.logLines, this.partial] : this.logLines;
    return all.slice(-lines).join('\n');
  }

  /** Spawns the process and waits for its readiness probe; rejects with the log tail on exit or timeout. */
  async start(): Promise<this> {
    if (this.running) return this;
    const { spec } = this;
    this.exitInfo = undefined;
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const onData = (chunk: Buffer) => this.appendLog(chunk.toString('utf8'));
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    // A forgotten stop() must not keep the test process alive; the exit hook kills the child.
    child.unref();
    (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
    (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    let spawnError: Error | undefined;
    this.exited = new Promise<void>((resolve) => {
      child.once('error', (error) => {
        spawnError = error;
        this.exitInfo ??= `failed to spawn: ${error.message}`;
        resolve();
      });
      child.once('exit', (code, signal) => {
        this.exitInfo = signal ? `killed by ${signal}` : `exited with code ${code}`;
        untrackForExit(this);
        resolve();
      });
    });
    trackForExit(this);
    try {
      // A probe stuck on a port that someone else holds must not delay noticing that our process died.
      const exitedEarly = this.exited.then(() => {
        throw new Error(`${spec.name} exited`);
      });
      exitedEarly.catch(() => {});
      await waitFor(() => Promise.race([spec.ready(this), exitedEarly]), {
        timeoutMs: spec.startTimeoutMs ?? 20_000,
        intervalMs: 50,
        description: `${spec.name} to answer on ${spec.host}:${spec.port}`,
        abortIf: () => {
          if (this.exitInfo === undefined) return undefined;
          const message = `${spec.name} ${this.exitInfo} before it was ready (${spec.command} ${spec.args.join(' ')})`;
          const tail = this.logTail();
          if (ADDRESS_IN_USE.test(tail)) return new PortInUseError(message, tail);
          return new ServiceStartError(message, tail, { cause: spawnError });
        },
      });
    } catch (error) {
      await this.stop();
      if (error instanceof ServiceStartError) throw error;
      throw new ServiceStartError(`${spec.name} did not become ready: ${(error as Error).message}`, this.logTail(), {
        cause: error,
      });
    }
    return this;
  }

  /** Sends `signal` (default SIGKILL, like a crash) and waits until the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    // The child is unref'd; hold the event loop while we wait for its exit.
    this.child!.ref();
    try {
      process.kill(this.child!.pid!, signal);
    } catch {
      // already gone
    }
    await this.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs` (default 3000); resolves when the process is gone. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.running) return;
    this.child!.ref();
    try {
      process.kill(this.child!.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
    const abort = new AbortController();
    const gone = await Promise.race([
      this.exited.then(() => true),
      sleep(graceMs, false, { signal: abort.signal }).catch(() => true),
    ]);
    abort.abort();
    if (!gone) await this.kill('SIGKILL');
    untrackForExit(this);
  }

  /** Stops (if running) and starts again with the same arguments, on the same port. */
  async restart(): Promise<this> {
    await this.stop();
    await this.start();
    return this;
  }

  /** @internal exit hook: SIGKILL synchronously. */
  cleanupSync(): void {
    if (this.running) {
      try {
        process.kill(this.child!.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  private appendLog(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.logLines.push(line);
    if (this.logLines.length > LOG_LINES) this.logLines.splice(0, this.logLines.length - LOG_LINES);
    if (process.env.LARDER_SERVICES_DEBUG) process.stderr.write(`[${this.spec.name}] ${text}`);
  }
}

/** Await a child's exit (used by one-shot helpers like openssl and redis-cli). */
export async function runToCompletion(
  command: string,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString('utf8');
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  // A child that exits without reading its input (openssl with no stdin use) makes this write fail
  // with EPIPE; its exit code already says whether it worked, so the pipe error is not an error here.
  child.stdin.on('error', () => {});
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  try {
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    if (code !== 0) {
      throw new ServiceStartError(
        `${command} ${args.join(' ')} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}`,
        `${stdout}\n${stderr}`.trim().split('\n').slice(-30).join('\n'),
      );
    }
  } finally {
    clearTimeout(timer);
  }
  return { stdout, stderr };
}

/**
 * Starts a process on a port picked by `pickPort`, trying again with a new port when another process grabbed the
 * port between the free-port check and the server's bind (parallel test files). A caller-given port is not retried.
 */
export async function startOnFreePort<T>(
  pickPort: () => Promise<number>,
  start: (port: number) => Promise<T>,
  fixedPort?: number,
  attempts = 5,
): Promise<T> {
  if (fixedPort !== undefined) return start(fixedPort);
  for (let attempt = 1; ; attempt++) {
    const port = await pickPort();
    try {
      return await start(port);
    } catch (error) {
      if (!(error instanceof PortInUseError) || attempt >= attempts) throw error;
    }
  }
}

/** Anything with a managed process: RedisNode, MemcachedNode, RedisServer, DynamoDbLocal. */
export interface HasProcess {
  process: ManagedProcess;
}

/** SIGKILLs one node's process (a crash); `restartNode` brings it back on the same port. */
export function killNode(node: HasProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  return node.process.kill(signal);
}

/** Starts one node's process again with the same arguments, on the same port, and waits until it answers. */
export async function restartNode(node: HasProcess): Promise<void> {
  await node.process.restart();
}
