import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  type Cache,
  type CacheManagerConfig,
  configFromEnv,
  createCacheManager,
  envVariables,
  type StoreDescription,
} from '@larder/core';
import { type CacheStore, redactConfig, redactEnvValue, withTimeout } from '@larder/core/driver';
import { importDriver } from '../drivers';
import {
  type CliIo,
  describeError,
  didNotAnswer,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  parseCommandArgs,
  printer,
} from '../options';
import { topologyLine } from './topology-line';

export const DOCTOR_HELP = `Usage: larder doctor [--store <name>]... [--timeout <ms>] [--json]

Reads the environment like the app does (configFromEnv), connects to each store in use (the
default store, the session store, and every store whose variables are set), and prints its
driver, topology (from the store's describe()), round-trip latency and a set/get/delete probe.
Secrets are redacted. Exits 1 when any store fails, 2 on invalid configuration.

Options:
  --store <name>   check this store only (repeatable): memory, redis, memcached, dynamodb, dynamodb_sessions
  --timeout <ms>   per-step timeout (default 5000)
  --json           print one JSON report instead of text
  -h, --help       show this help`;

/** Stores whose environment variables are set, besides the default and session stores. */
const STORE_VARIABLES: Record<string, string[]> = {
  redis: ['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'],
  memcached: ['MEMCACHED_SERVERS', 'MEMCACHED_CONFIG_ENDPOINT'],
  dynamodb: ['DYNAMODB_ENDPOINT', 'CACHE_TABLE'],
  dynamodb_sessions: ['SESSION_TABLE'],
};

/** One check of one store: its outcome and what it printed. */
interface Step {
  ok: boolean;
  /** The text line (`ok (1.2 ms)`, `FAILED: ...`). */
  text: string;
  error?: string;
}

/** What `--json` prints for one store. */
interface StoreReport {
  name: string;
  driver: string;
  config: unknown;
  ok: boolean;
  steps: Record<string, Step>;
  description?: StoreDescription;
  latencyMs?: { min: number; avg: number; samples: number };
}

/** `larder doctor`. */
export async function doctorCommand(argv: string[], io: CliIo): Promise<number> {
  const { out, err } = printer(io);
  const parsed = parseCommandArgs(argv, parse, DOCTOR_HELP, io);
  if (typeof parsed === 'number') return parsed;
  const json = parsed.values.json === true;
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

  // The variables larder reads, redacted, so the user sees what the app would see.
  const environment = Object.fromEntries(
    envVariables()
      .filter((name) => io.env[name])
      .map((name) => [name, redactEnvValue(name, io.env[name] as string)]),
  );
  const names = parsed.values.store?.length ? parsed.values.store : storesInUse(config, io.env);
  const unknown = names.filter((name) => !config.stores?.[name]);
  if (unknown.length > 0) {
    err(`Unknown store(s): ${unknown.join(', ')}. Known: ${Object.keys(config.stores ?? {}).join(', ')}`);
    return EXIT_USAGE;
  }
  if (!json) {
    out('larder doctor');
    const set = Object.entries(environment);
    out(
      set.length === 0
        ? 'environment: no larder variables set (memory store)'
        : `environment: ${set.map(([name, value]) => `${name}=${value}`).join(' ')}`,
    );
    out(`default store: ${config.default}, session store: ${config.sessionStore}`);
  }

  const manager = createCacheManager(config, { env: io.env, importDriver });
  const reports: StoreReport[] = [];
  try {
    for (const name of names) {
      if (!json) out();
      reports.push(await checkStore(name, manager.store(name), config, json ? undefined : out, timeoutMs));
    }
  } finally {
    await withTimeout(manager.close(), timeoutMs, didNotAnswer('closing the stores', timeoutMs)).catch(() => {});
  }
  const failed = reports.filter((report) => !report.ok).length;
  if (json) {
    const report = { environment, default: config.default, sessionStore: config.sessionStore, stores: reports };
    out(JSON.stringify({ ...report, ok: reports.length - failed, failed }, null, 2));
  } else {
    out();
    out(`${names.length - failed} store(s) ok, ${failed} failed`);
  }
  return failed === 0 ? EXIT_OK : EXIT_FAILURE;
}

function storesInUse(config: CacheManagerConfig, env: CliIo['env']): string[] {
  const names = new Set<string>([config.default ?? 'memory', config.sessionStore ?? config.default ?? 'memory']);
  for (const [store, variables] of Object.entries(STORE_VARIABLES)) {
    if (variables.some((name) => env[name])) names.add(store);
  }
  return [...names];
}

/** Connects, describes, times five round trips and probes set/get/delete; prints each step when `out` is given. */
async function checkStore(
  name: string,
  cache: Cache,
  config: CacheManagerConfig,
  out: ((line?: string) => void) | undefined,
  timeoutMs: number,
): Promise<StoreReport> {
  const storeConfig = config.stores?.[name];
  const report: StoreReport = {
    name,
    driver: storeConfig?.driver ?? name,
    config: redactConfig(storeConfig ?? {}),
    ok: true,
    steps: {},
  };
  out?.(`[${name}] driver ${report.driver}`);
  out?.(`  config    ${JSON.stringify(report.config)}`);
  const step = async (label: string, run: () => Promise<string>): Promise<boolean> => {
    let result: Step;
    try {
      result = { ok: true, text: await withTimeout(run(), timeoutMs, didNotAnswer(`${name} ${label}`, timeoutMs)) };
    } catch (error) {
      const message = describeError(error);
      result = { ok: false, text: `FAILED: ${message}`, error: message };
    }
    report.steps[label] = result;
    report.ok &&= result.ok;
    out?.(`  ${label.padEnd(9)} ${result.text}`);
    return result.ok;
  };

  let store: CacheStore | undefined;
  const connected = await step('connect', async () => {
    const started = performance.now();
    store = await cache.getStore();
    return `ok (${ms(performance.now() - started)})`;
  });
  if (!connected || !store) {
    out?.('  => FAILED');
    return report;
  }
  await step('topology', async () => {
    const description = await cache.describe();
    if (description.topology.mode === 'unknown') return `driver '${description.driver}' (no topology report)`;
    report.description = description;
    if (description.topology.nodes.length > 0 && description.topology.nodes.every((n) => n.status !== 'up')) {
      throw new Error(`no node is up: ${topologyLine(description)}`);
    }
    return topologyLine(description);
  });
  const probeKey = `doctor:${process.pid}-${randomBytes(4).toString('hex')}`;
  await step('latency', async () => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await cache.has(probeKey);
      times.push(performance.now() - started);
    }
    const avg = times.reduce((a, b) => a + b, 0) / times.length;
    report.latencyMs = { min: Math.min(...times), avg, samples: times.length };
    return `min ${ms(Math.min(...times))}, avg ${ms(avg)} over ${times.length} round trips`;
  });
  await step('probe', async () => {
    const value = { doctor: true, at: Date.now() };
    await cache.set(probeKey, value, '30s');
    const read = await cache.get<typeof value>(probeKey);
    if (read?.at !== value.at) throw new Error('the value read back differs from the value written');
    const deleted = await cache.delete(probeKey);
    if (!deleted) throw new Error('delete did not find the probe key');
    if ((await cache.get(probeKey)) !== undefined) throw new Error('the probe key is still there after delete');
    return `set/get/delete ok (key ${cache.prefix}${probeKey})`;
  });
  out?.(report.ok ? '  => OK' : '  => FAILED');
  return report;
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
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
