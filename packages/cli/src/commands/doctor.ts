import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  type Cache,
  type CacheManagerConfig,
  type CacheStore,
  configFromEnv,
  createCacheManager,
  ENV_VARIABLES,
  parseHostPort,
  redactConfig,
  redactEnvValue,
} from '@larder/core';
import {
  type CliIo,
  describeError,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  parseCommandArgs,
  printer,
  withTimeout,
} from '../options';
import { discover } from './discover';

export const DOCTOR_HELP = `Usage: larder doctor [--store <name>]... [--timeout <ms>]

Reads the environment like the app does (configFromEnv), connects to each store in use (the
default store, the session store, and every store whose variables are set), and prints its
driver, topology, round-trip latency and a set/get/delete probe. Secrets are redacted.
Exits 1 when any store fails, 2 on invalid configuration.

Options:
  --store <name>   check this store only (repeatable): memory, redis, memcached, dynamodb, dynamodb_sessions
  --timeout <ms>   per-step timeout (default 5000)
  -h, --help       show this help`;

/** Stores whose environment variables are set, besides the default and session stores. */
const STORE_VARIABLES: Record<string, string[]> = {
  redis: ['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'],
  memcached: ['MEMCACHED_SERVERS', 'MEMCACHED_CONFIG_ENDPOINT'],
  dynamodb: ['DYNAMODB_ENDPOINT', 'CACHE_TABLE'],
  dynamodb_sessions: ['SESSION_TABLE'],
};

/** `larder doctor`. */
export async function doctorCommand(argv: string[], io: CliIo): Promise<number> {
  const { out, err } = printer(io);
  const parsed = parseCommandArgs(argv, parse, DOCTOR_HELP, io);
  if (typeof parsed === 'number') return parsed;
  const timeoutMs = Number(parsed.values.timeout ?? 5000);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    err(`--timeout must be a positive number of ms, got '${parsed.values.timeout}'`);
    return EXIT_USAGE;
  }

  let config: CacheManagerConfig;
  try {
    config = configFromEnv(io.env);
  } catch (error) {
    err(`Invalid configuration: ${describeError(error)}`);
    return EXIT_USAGE;
  }

  out('larder doctor');
  // The variables larder reads, printed redacted, so the user sees what the app would see.
  const set = ENV_VARIABLES.filter((name) => io.env[name]);
  out(
    set.length === 0
      ? 'environment: no larder variables set (memory store)'
      : `environment: ${set.map((name) => `${name}=${redactEnvValue(name, io.env[name] as string)}`).join(' ')}`,
  );
  out(`default store: ${config.default}, session store: ${config.sessionStore}`);

  const names = parsed.values.store?.length ? parsed.values.store : storesInUse(config, io.env);
  const unknown = names.filter((name) => !config.stores?.[name]);
  if (unknown.length > 0) {
    err(`Unknown store(s): ${unknown.join(', ')}. Known: ${Object.keys(config.stores ?? {}).join(', ')}`);
    return EXIT_USAGE;
  }

  const manager = createCacheManager(config, { env: io.env });
  let failed = 0;
  try {
    for (const name of names) {
      out();
      const ok = await checkStore(name, manager.store(name), config, io, timeoutMs);
      if (!ok) failed++;
    }
  } finally {
    await withTimeout(manager.close(), timeoutMs, 'closing the stores').catch(() => {});
  }
  out();
  out(`${names.length - failed} store(s) ok, ${failed} failed`);
  return failed === 0 ? EXIT_OK : EXIT_FAILURE;
}

function storesInUse(config: CacheManagerConfig, env: CliIo['env']): string[] {
  const names = new Set<string>([config.default ?? 'memory', config.sessionStore ?? config.default ?? 'memory']);
  for (const [store, variables] of Object.entries(STORE_VARIABLES)) {
    if (variables.some((name) => env[name])) names.add(store);
  }
  return [...names];
}

async function checkStore(
  name: string,
  cache: Cache,
  config: CacheManagerConfig,
  io: CliIo,
  timeoutMs: number,
): Promise<boolean> {
  const { out } = printer(io);
  const storeConfig = config.stores?.[name];
  out(`[${name}] driver ${storeConfig?.driver ?? name}`);
  out(`  config    ${JSON.stringify(redactConfig(storeConfig ?? {}))}`);
  const step = async (label: string, run: () => Promise<string>): Promise<boolean> => {
    try {
      out(`  ${label.padEnd(9)} ${await withTimeout(run(), timeoutMs, `${name} ${label}`)}`);
      return true;
    } catch (error) {
      out(`  ${label.padEnd(9)} FAILED: ${describeError(error)}`);
      return false;
    }
  };

  let store: CacheStore | undefined;
  const connected = await step('connect', async () => {
    const started = performance.now();
    store = await cache.getStore();
    return `ok (${ms(performance.now() - started)})`;
  });
  if (!connected || !store) {
    out('  => FAILED');
    return false;
  }
  const backend = store;
  let ok = true;
  ok = (await step('topology', () => topology(backend, io.env, timeoutMs))) && ok;
  const probeKey = `doctor:${process.pid}-${randomBytes(4).toString('hex')}`;
  ok =
    (await step('latency', async () => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        await cache.has(probeKey);
        times.push(performance.now() - started);
      }
      const avg = times.reduce((a, b) => a + b, 0) / times.length;
      return `min ${ms(Math.min(...times))}, avg ${ms(avg)} over ${times.length} round trips`;
    })) && ok;
  ok =
    (await step('probe', async () => {
      const value = { doctor: true, at: Date.now() };
      await cache.set(probeKey, value, '30s');
      const read = await cache.get<typeof value>(probeKey);
      if (read?.at !== value.at) throw new Error('the value read back differs from the value written');
      const deleted = await cache.delete(probeKey);
      if (!deleted) throw new Error('delete did not find the probe key');
      if ((await cache.get(probeKey)) !== undefined) throw new Error('the probe key is still there after delete');
      return `set/get/delete ok (key ${cache.prefix}${probeKey})`;
    })) && ok;
  out(ok ? '  => OK' : '  => FAILED');
  return ok;
}

/** One line describing the backend's topology, by driver. */
async function topology(store: CacheStore, env: CliIo['env'], timeoutMs: number): Promise<string> {
  switch (store.driver) {
    case 'memory':
      return 'in-process (this process only; not shared between app instances)';
    case 'redis':
      return redisTopology(store as unknown as RedisLike);
    case 'memcached':
    case 'elasticache':
      return memcachedTopology(store as unknown as MemcachedLike, env, timeoutMs);
    case 'dynamodb':
      return dynamoTopology(store as unknown as DynamoLike);
    default:
      return `driver '${store.driver}' (no topology report)`;
  }
}

interface RedisLike {
  mode?: string;
  client?: {
    info(section: string): Promise<string>;
    cluster?(sub: 'SLOTS'): Promise<unknown>;
  };
}

async function redisTopology(store: RedisLike): Promise<string> {
  const client = store.client;
  if (!client) return `mode ${store.mode ?? 'unknown'}`;
  if (store.mode === 'cluster' && client.cluster) {
    const slots = (await client.cluster('SLOTS')) as [number, number, [string, number], ...[string, number][]][];
    const covered = slots.reduce((sum, [from, to]) => sum + (to - from + 1), 0);
    const masters = new Set(slots.map((s) => `${s[2][0]}:${s[2][1]}`));
    const replicas = slots.reduce((sum, s) => sum + (s.length - 3), 0);
    return `mode cluster, ${masters.size} primaries, ${replicas} replicas, ${covered}/16384 slots covered in ${slots.length} ranges`;
  }
  const info = parseInfo(await client.info('replication'));
  const replicas = Object.entries(info)
    .filter(([key]) => /^slave\d+$/.test(key))
    .map(([, value]) => {
      const fields = Object.fromEntries(value.split(',').map((kv) => kv.split('=') as [string, string]));
      return `${fields.ip}:${fields.port} (${fields.state})`;
    });
  const role = info.role === 'slave' ? 'replica' : (info.role ?? 'unknown');
  return `mode ${store.mode ?? 'single'}, role ${role}, ${replicas.length} replica(s)${replicas.length ? `: ${replicas.join(', ')}` : ''}`;
}

interface MemcachedLike {
  nodeIds?(): string[];
  ejectedNodes?(): string[];
}

async function memcachedTopology(store: MemcachedLike, env: CliIo['env'], timeoutMs: number): Promise<string> {
  const nodes = store.nodeIds?.() ?? [];
  const ejected = store.ejectedNodes?.() ?? [];
  const parts = [`${nodes.length} node(s): ${nodes.join(', ')}`];
  if (ejected.length) parts.push(`ejected: ${ejected.join(', ')}`);
  const endpoint = env.MEMCACHED_CONFIG_ENDPOINT ? parseHostPort(env.MEMCACHED_CONFIG_ENDPOINT) : undefined;
  if (endpoint) {
    const found = await discover(endpoint, timeoutMs);
    parts.unshift(`auto-discovery on ${endpoint.host}:${endpoint.port}, config version ${found.version}`);
  } else {
    parts.unshift('static node list');
  }
  return parts.join('; ');
}

interface DynamoLike {
  client?: { send(command: unknown): Promise<unknown> };
  options?: { table?: string; attributes?: { expiration?: string } };
}

async function dynamoTopology(store: DynamoLike): Promise<string> {
  const table = store.options?.table;
  if (!store.client || !table) return 'table unknown';
  const { DescribeTableCommand, DescribeTimeToLiveCommand } = await import('@aws-sdk/client-dynamodb');
  const described = (await store.client.send(new DescribeTableCommand({ TableName: table }))) as {
    Table?: { TableStatus?: string; ItemCount?: number; BillingModeSummary?: { BillingMode?: string } };
  };
  let ttl = 'unknown';
  try {
    const t = (await store.client.send(new DescribeTimeToLiveCommand({ TableName: table }))) as {
      TimeToLiveDescription?: { TimeToLiveStatus?: string; AttributeName?: string };
    };
    ttl = `${t.TimeToLiveDescription?.TimeToLiveStatus ?? 'DISABLED'}${
      t.TimeToLiveDescription?.AttributeName ? ` on ${t.TimeToLiveDescription.AttributeName}` : ''
    }`;
  } catch (error) {
    ttl = `not available (${describeError(error)})`;
  }
  const t = described.Table;
  const warn = ttl.startsWith('ENABLED') ? '' : ' (expired items are still filtered on read, but never deleted)';
  return `table ${table} ${t?.TableStatus ?? 'UNKNOWN'}, billing ${t?.BillingModeSummary?.BillingMode ?? 'PROVISIONED'}, ~${t?.ItemCount ?? 0} items, TTL ${ttl}${warn}`;
}

function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}

function ms(value: number): string {
  return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      store: { type: 'string', multiple: true },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
