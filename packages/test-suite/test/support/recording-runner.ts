import { Cache } from '@larder/core';
import type { CacheStore } from '@larder/core/driver';
import { type ConformanceOptions, runConformanceSuite, type TestBody } from '@larder/test-suite';

/** One test the suite registered. */
export interface RecordedTest {
  /** Full name: describe path + test name. */
  name: string;
  /** The body, called with no runner context (as jest would). */
  run: TestBody;
}

/** What `runConformanceSuite` registered with a minimal runner. */
export interface RecordedSuite {
  tests: RecordedTest[];
  skipped: string[];
  beforeAll: (() => Promise<void>)[];
  afterAll: (() => Promise<void>)[];
  /** Runs the one test whose name contains `fragment`; resolves its error, or undefined if it passed. */
  outcome(fragment: string): Promise<unknown>;
}

/** Registers the suite over `store` with a recording runner (a runner of our own: proof the suite needs none). */
export function recordSuite(store: CacheStore, options: Partial<ConformanceOptions> = {}): RecordedSuite {
  const path: string[] = [];
  const recorded: RecordedSuite = {
    tests: [],
    skipped: [],
    beforeAll: [],
    afterAll: [],
    async outcome(fragment) {
      const matches = recorded.tests.filter((test) => test.name.includes(fragment));
      if (matches.length !== 1) throw new Error(`${matches.length} tests match '${fragment}'`);
      try {
        await matches[0]!.run();
        return undefined;
      } catch (error) {
        return error;
      }
    },
  };
  const it = Object.assign(
    (name: string, run: TestBody) => {
      recorded.tests.push({ name: [...path, name].join(' > '), run });
    },
    {
      skip: (name: string) => {
        recorded.skipped.push([...path, name].join(' > '));
      },
    },
  );
  runConformanceSuite({
    name: store.driver,
    createCache: (prefix, overrides) => new Cache({ store, prefix, ...overrides }),
    describe: (name, body) => {
      path.push(name);
      body();
      path.pop();
    },
    it,
    beforeAll: (fn) => recorded.beforeAll.push(fn),
    afterAll: (fn) => recorded.afterAll.push(fn),
    ...options,
  });
  return recorded;
}
