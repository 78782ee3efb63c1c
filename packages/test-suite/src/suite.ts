import { randomBytes } from 'node:crypto';
import type { CacheStore, StoreCapabilities } from '@larder/core/driver';
import { badInputs } from './groups/bad-inputs';
import { basic } from './groups/basic';
import { chunkedValues } from './groups/chunked-values';
import { clear } from './groups/clear';
import { compareAndSet } from './groups/compare-and-set';
import { atomicity, locks } from './groups/concurrency';
import { hostileValues } from './groups/hostile-values';
import { add, counters, largeCounters, many, touch } from './groups/operations';
import { keys, namespace, remember } from './groups/remember';
import { rememberNeverStale } from './groups/remember-never-stale';
import { capabilities, stats } from './groups/stats';
import { tags } from './groups/tags';
import { createTtlGroups } from './groups/ttl';
import { isolation, largeValues, values } from './groups/values';
import { model } from './model/model-group';
import {
  CAPABILITIES,
  type CacheOverrides,
  type CacheUnderTest,
  type Capability,
  type ConformanceOptions,
  GROUPS,
  type Group,
  type SuiteContext,
  type TestBody,
} from './options';
import { type GroupDefinition, type Registrar, RuntimeSkip } from './registry';

type RunnerThis = { timeout?: (ms: number) => void; skip?: () => void } | undefined;
type RunnerContext = { skip?: (note?: string) => void } | undefined;

/**
 * Registers the larder conformance suite for one driver with the given test runner.
 * Call it at the top level of a test file (it registers `describe`/`it` blocks synchronously).
 */
export function runConformanceSuite(options: ConformanceOptions): void {
  const skips = validateSkips(options.skip ?? {});
  const runId = randomBytes(4).toString('hex');
  const base = `${options.prefix ?? 'larder-conformance:'}${runId}:`;
  let prefixes = 0;
  let store: Promise<CacheStore> | undefined;

  const cacheAt = async (prefix: string, overrides?: CacheOverrides): Promise<CacheUnderTest> =>
    overrides ? options.createCache(prefix, overrides) : options.createCache(prefix);
  const getStore = (): Promise<CacheStore> => {
    if (!store) {
      const probe = cacheAt(`${base}probe:`).then((cache) => cache.getStore());
      // A failed probe is retried by the next test rather than failing every test with one stale error.
      probe.catch(() => {
        if (store === probe) store = undefined;
      });
      store = probe;
    }
    return store;
  };
  const uniquePrefix = () => {
    prefixes += 1;
    return `${base}${prefixes}:`;
  };
  const context: SuiteContext = {
    cache: (overrides) => cacheAt(uniquePrefix(), overrides),
    cacheAt,
    uniquePrefix,
    capabilities: async (): Promise<StoreCapabilities> => (await getStore()).capabilities,
    driver: async () => (await getStore()).driver,
    precisionMs: async () => options.timing?.ttlPrecisionMs ?? (await getStore()).capabilities.ttlPrecisionMs,
    skip(reason: string): never {
      throw new RuntimeSkip(reason);
    },
    skips,
    limits: options.limits ?? {},
  };

  const ttlGroups = createTtlGroups();
  const definitions: Record<Group, GroupDefinition> = {
    capabilities,
    basic,
    many,
    add,
    counters,
    largeCounters,
    touch,
    remember,
    namespace,
    keys,
    values,
    isolation,
    largeValues,
    chunkedValues,
    hostileValues,
    ttl: ttlGroups.ttl,
    defaultTtl: ttlGroups.defaultTtl,
    atomicity,
    locks,
    compareAndSet,
    rememberNeverStale,
    tags,
    clear,
    badInputs,
    stats,
    model,
  };

  options.describe(`larder conformance: ${options.name}`, () => {
    options.beforeAll?.(async () => {
      await getStore();
    });
    options.afterAll?.(async () => {
      // Leave a shared server as we found it, where the store can clear a prefix.
      try {
        if (typeof (await getStore()).clear === 'function') await (await cacheAt(base)).clear();
      } catch {
        // Cleanup is best effort; the tests already reported what failed.
      }
    });
    for (const group of GROUPS) {
      const definition = definitions[group];
      options.describe(`${group}: ${definition.title}`, () => {
        definition.define(registrar(options, group, skips, context));
      });
    }
  });
}

function registrar(
  options: ConformanceOptions,
  group: Group,
  skips: Partial<Record<Capability | Group, string>>,
  context: SuiteContext,
): Registrar {
  return {
    skips,
    test(name, body, testOptions = {}) {
      const reason = skipReason(group, testOptions.needs ?? [], skips);
      if (reason !== undefined) {
        registerSkipped(options, `${name} [skipped: ${reason}]`);
        return false;
      }
      const run: TestBody = async function (this: RunnerThis, ...args: unknown[]) {
        if (options.timeout && typeof this?.timeout === 'function') this.timeout(options.timeout);
        try {
          await body(context);
        } catch (error) {
          if (!(error instanceof RuntimeSkip)) throw error;
          runnerSkip(this, args[0] as RunnerContext, error.reason);
        }
      };
      if (options.timeout) options.it(name, run, options.timeout);
      else options.it(name, run);
      return true;
    },
  };
}

/** The reason a test is skipped: its group's skip, else the first skipped capability it needs. */
function skipReason(
  group: Group,
  needs: readonly Capability[],
  skips: Partial<Record<Capability | Group, string>>,
): string | undefined {
  if (skips[group] !== undefined) return `${group}: ${skips[group]}`;
  for (const capability of needs) if (skips[capability] !== undefined) return `${capability}: ${skips[capability]}`;
  return undefined;
}

function registerSkipped(options: ConformanceOptions, name: string): void {
  const noop: TestBody = async () => {};
  if (typeof options.it.skip === 'function') options.it.skip(name, noop);
  else options.it(name, noop);
}

/** Marks the running test skipped in whichever runner runs it (vitest/node:test context, mocha `this`). */
function runnerSkip(self: RunnerThis, runnerContext: RunnerContext, reason: string): void {
  if (typeof runnerContext?.skip === 'function') {
    // vitest's skip throws (the test is reported skipped); node:test's marks it and returns.
    runnerContext.skip(reason);
    return;
  }
  if (typeof self?.skip === 'function') self.skip(); // mocha: throws a Pending marker
  // Other runners (jest) have no runtime skip: the test passes, its name tells what it covers.
}

function validateSkips(skip: Partial<Record<string, string>>): Partial<Record<Capability | Group, string>> {
  const known = new Set<string>([...CAPABILITIES, ...GROUPS]);
  for (const [name, reason] of Object.entries(skip)) {
    if (!known.has(name)) {
      throw new TypeError(
        `runConformanceSuite: unknown skip '${name}'. Known capabilities: ${CAPABILITIES.join(', ')}; groups: ${GROUPS.join(', ')}`,
      );
    }
    if (typeof reason !== 'string' || reason.trim() === '') {
      throw new TypeError(
        `runConformanceSuite: skip.${name} needs a reason that names the missing capability, e.g. { clear: 'memcached has no clear: it cannot delete keys by prefix' }`,
      );
    }
  }
  return skip as Partial<Record<Capability | Group, string>>;
}
