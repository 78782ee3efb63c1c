import { parseArgs } from 'node:util';
import { type Cache, type CacheManagerConfig, configFromEnv, createCacheManager, envVariables } from '@larder/core';
import { redactConfig, redactEnvValue, withTimeout } from '@larder/core/driver';
import { importDriver } from '../drivers';
import { checkStore, type StoreHealth } from '../health/check-store';
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

export const DOCTOR_HELP = `Usage: larder doctor [--store <name>]... [--timeout <ms>] [--json]

Reads the environment like the app does (configFromEnv), connects to each store in use (the
default store, the session store, and every store whose variables are set), and prints its
driver, a first round trip, its topology with each node's state (from the store's describe()),
its L1 (waiting for the invalidation channel), round-trip latency and a set/get/delete probe.
A failure says its cause and what to check. Secrets are redacted. Exits 1 when any store fails,
2 on invalid configuration.

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

/** What `--json` prints for one store: its check (see StoreHealth) and its redacted configuration. */
export interface DoctorStoreReport extends StoreHealth {
  config: unknown;
}

/** What `larder doctor --json` prints (the JSON Schema is doctor-report.schema.json in this package). */
export interface DoctorReport {
  /** The larder variables that are set, secrets redacted. */
  environment: Record<string, string>;
  default: string;
  sessionStore: string;
  stores: DoctorStoreReport[];
  /** Every store passed every step. */
  ok: boolean;
  /** Stores that failed a step. */
  failed: number;
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
  const reports: DoctorStoreReport[] = [];
  try {
    for (const name of names) {
      if (!json) out();
      reports.push(await doctorStore(name, manager.store(name), config, json ? undefined : out, timeoutMs));
    }
  } finally {
    await withTimeout(manager.close(), timeoutMs, didNotAnswer('closing the stores', timeoutMs)).catch(() => {});
  }
  const failed = reports.filter((report) => !report.ok).length;
  if (json) {
    const report: DoctorReport = {
      environment,
      default: config.default ?? 'memory',
      sessionStore: config.sessionStore ?? config.default ?? 'memory',
      stores: reports,
      ok: failed === 0,
      failed,
    };
    out(JSON.stringify(report, null, 2));
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

/** Checks one store (see checkStore), printing each step when `out` is given. */
async function doctorStore(
  name: string,
  cache: Cache,
  config: CacheManagerConfig,
  out: ((line?: string) => void) | undefined,
  timeoutMs: number,
): Promise<DoctorStoreReport> {
  const storeConfig = config.stores?.[name];
  const driver = storeConfig?.driver ?? name;
  const redacted = redactConfig(storeConfig ?? {});
  out?.(`[${name}] driver ${driver}`);
  out?.(`  config    ${JSON.stringify(redacted)}`);
  const health = await checkStore(name, cache, {
    driver,
    timeoutMs,
    onStep: (step, result) => out?.(`  ${step.padEnd(9)} ${result.text}`),
  });
  if (!health.ok) out?.('  => FAILED');
  else {
    for (const warning of health.warnings) out?.(`  warning   ${warning}`);
    out?.(health.warnings.length ? '  => OK, with warnings' : '  => OK');
  }
  const { name: _, ...rest } = health;
  return { name, config: redacted, ...rest };
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
