import { readFileSync } from 'node:fs';
import { requireBinary } from './binaries';
import { ManagedProcess } from './process';
import { type RedisProbeTarget, type RespValue, redisCommand, redisCommands, redisInfo } from './resp';

/** How to start one redis-server (or redis-sentinel) process. */
export interface RedisNodeSpec {
  /** `redis-server` or `redis-sentinel`. */
  binary?: 'redis-server' | 'redis-sentinel';
  /** Port (the TLS port when tls is set). */
  port: number;
  /** Working directory (RDB, nodes.conf, sentinel.conf live here). */
  dir: string;
  /** A config file to pass first (sentinel needs one). */
  configFile?: string;
  /** Extra `--name value` arguments. */
  args?: string[];
  /** Serve TLS only on `port`, with these PEM files. */
  tls?: { caPath: string; certPath: string; keyPath: string };
  /** ACL user the readiness probe authenticates as. */
  username?: string;
  /** Password the readiness probe authenticates with. */
  password?: string;
  /** Start timeout in ms. */
  startTimeoutMs?: number;
}

/**
 * Arguments every data node of a replicated set gets (any may become primary): diskless full
 * syncs with no delay (a replica catches up in milliseconds, not after the default 5 s), and the
 * password both to serve (`requirepass`) and to sync from a primary with (`masterauth`).
 */
export function replicationArgs(password: string | undefined, extra: readonly string[] = []): string[] {
  return [
    '--repl-diskless-sync',
    'yes',
    '--repl-diskless-sync-delay',
    '0',
    ...(password !== undefined ? ['--requirepass', password, '--masterauth', password] : []),
    ...extra,
  ];
}

/** The probe target for a node spec. */
export function redisTarget(spec: Pick<RedisNodeSpec, 'port' | 'tls' | 'username' | 'password'>): RedisProbeTarget {
  return {
    host: '127.0.0.1',
    port: spec.port,
    tlsCa: spec.tls ? readFileSync(spec.tls.caPath) : undefined,
    username: spec.username,
    password: spec.password,
    timeoutMs: 2000,
  };
}

/** Builds (does not start) a managed redis-server/redis-sentinel process whose readiness is PING + its own PID. */
export function redisNodeProcess(spec: RedisNodeSpec): ManagedProcess {
  const binary = spec.binary ?? 'redis-server';
  const command = requireBinary(binary);
  const args: string[] = [];
  if (spec.configFile) args.push(spec.configFile);
  if (spec.tls) {
    args.push('--port', '0', '--tls-port', String(spec.port));
    args.push(
      '--tls-cert-file',
      spec.tls.certPath,
      '--tls-key-file',
      spec.tls.keyPath,
      '--tls-ca-cert-file',
      spec.tls.caPath,
    );
    args.push('--tls-auth-clients', 'no');
  } else {
    args.push('--port', String(spec.port));
  }
  args.push('--bind', '127.0.0.1', '--daemonize', 'no', '--protected-mode', 'no', '--logfile', '', '--dir', spec.dir);
  if (binary === 'redis-server') args.push('--save', '', '--appendonly', 'no');
  args.push(...(spec.args ?? []));
  const target = redisTarget(spec);
  return new ManagedProcess({
    name: `${binary}:${spec.port}`,
    command,
    args,
    host: '127.0.0.1',
    port: spec.port,
    cwd: spec.dir,
    startTimeoutMs: spec.startTimeoutMs,
    ready: async (proc) => {
      const [pong, info] = await redisCommands(target, [['PING'], ['INFO', 'server']]);
      if (pong !== 'PONG') throw new Error(`PING answered ${String(pong)}`);
      // Make sure we talk to OUR process, not one that raced us to the port.
      const pid = /process_id:(\d+)/.exec(String(info))?.[1];
      if (pid !== String(proc.pid)) throw new Error(`port ${spec.port} is served by pid ${pid}, not ${proc.pid}`);
      return true;
    },
  });
}

/** Builds a redis:// or rediss:// URL. */
export function redisUrl(port: number, opts: { tls?: boolean; username?: string; password?: string } = {}): string {
  const scheme = opts.tls ? 'rediss' : 'redis';
  const auth =
    opts.password !== undefined
      ? `${opts.username ? encodeURIComponent(opts.username) : ''}:${encodeURIComponent(opts.password)}@`
      : '';
  return `${scheme}://${auth}127.0.0.1:${port}`;
}

/** A handle on one running redis-server / redis-sentinel process. */
export interface RedisNode {
  /** 127.0.0.1 */
  host: string;
  /** Listening port (stays the same across restart()). */
  port: number;
  /** `127.0.0.1:<port>` */
  address: string;
  /** redis:// or rediss:// URL with credentials. */
  url: string;
  /** PID of the running process (undefined while killed). */
  readonly pid: number | undefined;
  /** The managed process. */
  process: ManagedProcess;
  /** Runs one command through a fresh connection and returns the reply (error replies throw). */
  command(...args: (string | number)[]): Promise<RespValue>;
  /** `INFO <section>` as a map. */
  info(section?: string): Promise<Record<string, string>>;
  /** SIGKILLs the process (a crash). */
  kill(): Promise<void>;
  /** Starts it again on the same port and waits until it answers PING. */
  restart(): Promise<void>;
}

/** Wraps a started process in a RedisNode handle. */
export function redisNodeHandle(
  proc: ManagedProcess,
  spec: Pick<RedisNodeSpec, 'tls' | 'username' | 'password'>,
): RedisNode {
  const target = redisTarget({ ...spec, port: proc.port });
  return {
    host: '127.0.0.1',
    port: proc.port,
    address: `127.0.0.1:${proc.port}`,
    url: redisUrl(proc.port, { tls: !!spec.tls, username: spec.username, password: spec.password }),
    get pid() {
      return proc.pid;
    },
    process: proc,
    command: (...args) => redisCommand(target, ...args),
    info: (section = 'server') => redisInfo(target, section),
    kill: () => proc.kill(),
    restart: async () => {
      await proc.restart();
    },
  };
}
