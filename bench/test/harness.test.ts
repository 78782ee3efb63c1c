import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  type BenchCase,
  type CaseResult,
  Progress,
  type RunOptions,
  runScenario,
  type Scenario,
  type ScenarioResult,
} from '../src/harness';
import { formatScenario } from '../src/scenario-table';

/** A non-TTY progress whose lines are collected instead of printed. */
function capture(): { progress: Progress; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      callback();
    },
  });
  return { progress: new Progress(stream as unknown as NodeJS.WriteStream), lines };
}

/** Short timings: 3 rounds of 30 ms measured after 5 ms of warm-up, per case. */
function tiny(progress = capture().progress): RunOptions {
  return { timeMs: 30, warmupMs: 5, rounds: 3, progress };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('runScenario', () => {
  it('measures every case, interleaved round-robin, with i counting up per case', async () => {
    const ctx = { name: 'the context' };
    const events: string[] = [];
    const seen: Record<string, number[]> = { a: [], b: [], c: [] };
    const ctxs = new Set<unknown>();
    const make = (subject: string): BenchCase<typeof ctx> => ({
      op: 'get',
      subject,
      before: () => events.push(`before ${subject}`),
      after: () => events.push(`after ${subject}`),
      async run(c, i) {
        ctxs.add(c);
        seen[subject]!.push(i);
        if (events.at(-1) !== subject) events.push(subject);
        await tick();
      },
    });
    const result = await runScenario<typeof ctx>(
      {
        name: 'basic',
        description: '',
        baseline: 'a',
        setup: async () => ctx,
        cases: (c) => {
          expect(c).toBe(ctx);
          return [make('a'), make('b'), make('c')];
        },
        teardown: async () => {
          events.push('teardown');
        },
      },
      tiny(),
    );

    expect(result.error).toBeUndefined();
    expect(result.results.map((r) => [r.op, r.subject, r.concurrency])).toEqual([
      ['get', 'a', 1],
      ['get', 'b', 1],
      ['get', 'c', 1],
    ]);
    for (const r of result.results) {
      expect(r.error).toBeUndefined();
      expect(r.ops).toBeGreaterThan(0);
      expect(r.opsPerSec).toBeGreaterThan(0);
      expect(r.counters).toEqual([]);
      // Warm-up calls come on top of the measured ones; i never repeats or skips.
      const is = seen[r.subject]!;
      expect(is.length).toBeGreaterThan(r.ops);
      expect(is).toEqual(is.map((_, k) => k));
    }
    expect([...ctxs]).toEqual([ctx]);
    // Hooks once per case around everything; rounds interleave the cases (a b c, a b c, a b c).
    expect(events).toEqual([
      'before a',
      'before b',
      'before c',
      ...['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c'],
      'after a',
      'after b',
      'after c',
      'teardown',
    ]);
  });

  it("runs the scenario's beforeCase before each case's warm-up in every round", async () => {
    const events: string[] = [];
    const make = (subject: string): BenchCase<null> => ({
      op: 'get',
      subject,
      async run() {
        if (events.at(-1) !== subject) events.push(subject);
        await tick();
      },
    });
    const result = await runScenario<null>(
      {
        name: 'before each case',
        description: '',
        baseline: 'a',
        setup: async () => null,
        cases: [make('a'), make('b')],
        beforeCase: async (_ctx, c) => {
          await tick();
          events.push(`collect ${c.subject}`);
        },
      },
      tiny(),
    );
    expect(result.error).toBeUndefined();
    expect(events).toEqual(Array.from({ length: 3 }, () => ['collect a', 'a', 'collect b', 'b']).flat());
  });

  it('reports the median round and the largest deviation from it', async () => {
    // Each measured round costs a different time per operation: fast, slow, middle. The time is
    // the scenario's own clock, moved only by the operations (a loaded machine pausing the process
    // between or around them changes nothing). The counter is read right before and after each
    // measured round, which tells the test where rounds are; each call's start and end time give
    // the round's duration.
    const costs = [0.05, 0.6, 0.2];
    let cost = costs[0]!;
    let now = 0;
    let calls = 0;
    const starts: number[] = [];
    const ends: number[] = [];
    const marks: { calls: number }[] = [];
    const result = await runScenario(
      {
        name: 'median',
        description: '',
        baseline: 'only',
        setup: async () => ({}),
        clock: () => now,
        cases: [
          {
            op: 'op',
            subject: 'only',
            run: () => {
              starts[calls] = now;
              now += cost;
              ends[calls++] = now;
            },
          },
        ],
        counters: [
          {
            name: 'calls/op',
            read: () => {
              marks.push({ calls });
              const round = Math.floor(marks.length / 2);
              // Before round r's measurement: its cost; after it: the next round's (for its warm-up).
              cost = costs[Math.min(round, costs.length - 1)]!;
              return calls;
            },
          },
        ],
      },
      tiny(),
    );

    const [r] = result.results;
    expect(marks).toHaveLength(6);
    const measured = [0, 1, 2].map((k) => marks[2 * k + 1]!.calls - marks[2 * k]!.calls);
    const rates = [0, 1, 2].map((k) => {
      const took = ends[marks[2 * k + 1]!.calls - 1]! - starts[marks[2 * k]!.calls]!;
      return (measured[k]! / took) * 1000;
    });
    // Total measured operations: exactly the calls made between the reads; one call per operation.
    expect(r!.ops).toBe(measured[0]! + measured[1]! + measured[2]!);
    expect(r!.counters).toEqual([1]);
    // The reported rate is the median round's (round 3 by design), not the mean or another round.
    const median = [...rates].sort((x, y) => x - y)[1]!;
    const nearest = rates.reduce((best, rate) =>
      Math.abs(rate - r!.opsPerSec) < Math.abs(best - r!.opsPerSec) ? rate : best,
    );
    expect(nearest).toBe(median);
    expect(r!.opsPerSec / median).toBeGreaterThan(0.9);
    expect(r!.opsPerSec / median).toBeLessThan(1.1);
    const spread = (Math.max(...rates.map((rate) => Math.abs(rate - median))) / median) * 100;
    expect(r!.spreadPct / spread).toBeGreaterThan(0.9);
    expect(r!.spreadPct / spread).toBeLessThan(1.1);
  });

  it('reports a throwing case in its row, skips it afterwards, runs the others and tears down', async () => {
    const calls: Record<string, number> = { a: 0, b: 0, c: 0, d: 0 };
    const after: string[] = [];
    let teardowns = 0;
    const make = (subject: string, extra: Partial<BenchCase<object>> = {}): BenchCase<object> => ({
      op: 'get',
      subject,
      async run(_ctx, i) {
        calls[subject]!++;
        if (subject === 'b' && i === 3) throw new Error('boom | pipe');
      },
      after: () => after.push(subject),
      ...extra,
    });
    const { progress, lines } = capture();
    const result = await runScenario(
      {
        name: 'errors',
        description: '',
        baseline: 'a',
        setup: async () => ({}),
        cases: [
          make('a'),
          make('b'),
          make('c'),
          make('d', {
            before: () => {
              throw new Error('not primed');
            },
          }),
        ],
        teardown: async () => {
          teardowns++;
        },
      },
      tiny(progress),
    );

    const bySubject = Object.fromEntries(result.results.map((r) => [r.subject, r]));
    expect(result.error).toBeUndefined();
    expect(result.results.map((r) => r.subject)).toEqual(['a', 'b', 'c', 'd']);
    expect(bySubject.b!.error).toBe('boom | pipe');
    expect(calls.b).toBe(4); // i = 0..3, then never again in later rounds
    expect(bySubject.d!.error).toBe('not primed');
    expect(calls.d).toBe(0);
    for (const subject of ['a', 'c']) {
      expect(bySubject[subject]!.error).toBeUndefined();
      expect(bySubject[subject]!.ops).toBeGreaterThan(0);
    }
    expect(after).toEqual(['a', 'b', 'c', 'd']);
    expect(teardowns).toBe(1);
    expect(lines).toContain('  ✗ get · b: boom | pipe');
    expect(lines.at(-1)).toBe('✓ errors: 4 cases');
  });

  it('stops the other in-flight workers when one fails, before the next case or the teardown', async () => {
    let failedAt = -1;
    let callsAfterFailure = 0;
    let callsAfterTeardown = 0;
    let tornDown = false;
    const result = await runScenario(
      {
        name: 'stop',
        description: '',
        baseline: 'a',
        concurrency: 4,
        setup: async () => ({}),
        cases: [
          {
            op: 'get',
            subject: 'a',
            async run(_ctx, i) {
              if (tornDown) callsAfterTeardown++;
              if (failedAt >= 0) callsAfterFailure++;
              await tick();
              if (i === 50) {
                failedAt = i;
                throw new Error('down');
              }
            },
          },
        ],
        teardown: async () => {
          tornDown = true;
        },
      },
      { ...tiny(), timeMs: 300 },
    );
    await tick();
    expect(result.results[0]!.error).toBe('down');
    // At most the calls the other three workers had already started when the failure came.
    expect(callsAfterFailure).toBeLessThanOrEqual(3);
    expect(callsAfterTeardown).toBe(0);
  });

  it('returns a setup failure as the scenario error, without building cases or tearing down', async () => {
    let built = false;
    let teardowns = 0;
    const { progress, lines } = capture();
    const result = await runScenario(
      {
        name: 'nosetup',
        description: 'Needs a server.',
        baseline: 'a',
        setup: async () => {
          throw new Error('no server');
        },
        cases: () => {
          built = true;
          return [];
        },
        teardown: async () => {
          teardowns++;
        },
      },
      tiny(progress),
    );
    expect(result.error).toBe('setup failed: no server');
    expect(result.results).toEqual([]);
    expect(built).toBe(false);
    expect(teardowns).toBe(0);
    expect(lines).toContain('✗ nosetup: setup failed: no server');
    expect(formatScenario(result)).toBe('### nosetup\n\nNeeds a server.\n\n**Not run:** setup failed: no server\n');
  });

  it('runs only the cases whose operation contains `only`, and says so when none does', async () => {
    const ran: string[] = [];
    const scenario: Scenario<Record<string, never>> = {
      name: 'narrowed',
      description: '',
      baseline: 'raw',
      setup: async () => ({}),
      cases: ['get ×1', 'getMany(100)', 'set ×1'].map((op) => ({ op, subject: 'raw', run: () => void ran.push(op) })),
      targets: [
        { op: 'getMany(100)', subject: 'raw', over: 'raw', atLeast: 1 },
        { op: 'set ×1', subject: 'raw', over: 'raw', atLeast: 1 },
      ],
    };
    const result = await runScenario(scenario, { ...tiny(), only: 'getMany' });
    expect(result.results.map((r) => r.op)).toEqual(['getMany(100)']);
    expect(new Set(ran)).toEqual(new Set(['getMany(100)']));
    const targets = formatScenario(result, 'getMany')
      .split('\n')
      .filter((line) => line.startsWith('- target'));
    expect(targets).toEqual(['- target raw getMany(100) ≥ 1× raw: **1.00×** met']);
    const none = await runScenario(scenario, { ...tiny(), only: 'delete' });
    expect(none.error).toBe("no case's operation contains 'delete'");
  });

  it('forces a full GC before each case and round, none with `skipGc`', async () => {
    const scenario: Scenario<Record<string, never>> = {
      name: 'collected',
      description: '',
      baseline: 'a',
      setup: async () => ({}),
      cases: ['a', 'b'].map((subject) => ({ op: 'get ×1', subject, run: () => undefined })),
    };
    const real = globalThis.gc;
    let collections = 0;
    globalThis.gc = (() => void collections++) as typeof globalThis.gc;
    try {
      await runScenario(scenario, { ...tiny(), rounds: 2 });
      expect(collections).toBe(4);
      collections = 0;
      await runScenario(scenario, { ...tiny(), rounds: 2, skipGc: true });
      expect(collections).toBe(0);
    } finally {
      globalThis.gc = real;
    }
  });

  it('returns a failure to build the cases as the scenario error, and still tears down', async () => {
    let teardowns = 0;
    const result = await runScenario(
      {
        name: 'cases',
        description: '',
        baseline: 'a',
        setup: async () => ({}),
        cases: () => {
          throw new Error('no such server');
        },
        teardown: async () => {
          teardowns++;
        },
      },
      tiny(),
    );
    expect(result.error).toBe('cases failed: no such server');
    expect(result.results).toEqual([]);
    expect(teardowns).toBe(1);
  });

  it('logs a failing teardown and still returns the results', async () => {
    const { progress, lines } = capture();
    const result = await runScenario(
      {
        name: 'stuck',
        description: '',
        baseline: 'a',
        setup: async () => ({}),
        cases: [{ op: 'get', subject: 'a', run: () => tick() }],
        teardown: async () => {
          throw new Error('port still open');
        },
      },
      tiny(progress),
    );
    expect(result.error).toBeUndefined();
    expect(result.results[0]!.ops).toBeGreaterThan(0);
    expect(lines).toContain('  teardown of stuck failed: port still open');
  });

  it('divides counter differences over the measured rounds by the operations, per case', async () => {
    const ctx = { requests: { a: 0, b: 0 } as Record<string, number> };
    const result = await runScenario<typeof ctx>(
      {
        name: 'counters',
        description: '',
        baseline: 'a',
        setup: async () => ctx,
        cases: [
          {
            op: 'get',
            subject: 'a',
            async run(c) {
              c.requests.a! += 1;
              await tick();
            },
          },
          {
            op: 'get',
            subject: 'b',
            concurrency: 4,
            async run(c) {
              c.requests.b! += 2;
              await tick();
              c.requests.b! += 1;
            },
          },
        ],
        counters: [
          { name: 'requests/op', read: (c, benchCase) => c.requests[benchCase.subject] },
          { name: 'unknown', read: () => undefined },
          { name: 'async ×10', read: async (c, benchCase) => c.requests[benchCase.subject]! * 10 },
        ],
      },
      tiny(),
    );
    const [a, b] = result.results;
    expect(a!.ops).toBeGreaterThan(0);
    expect(b!.ops).toBeGreaterThan(0);
    expect(a!.counters).toEqual([1, undefined, 10]);
    expect(b!.counters).toEqual([3, undefined, 30]);
  });

  it('keeps `concurrency` operations in flight (case, then scenario default, then 1)', async () => {
    const inFlight: Record<string, { now: number; max: number }> = {};
    const make = (subject: string, concurrency?: number): BenchCase<object> => {
      const track = { now: 0, max: 0 };
      inFlight[subject] = track;
      return {
        op: 'get',
        subject,
        concurrency,
        async run() {
          track.now++;
          track.max = Math.max(track.max, track.now);
          await tick();
          track.now--;
        },
      };
    };
    const scenario = (concurrency: number | undefined, cases: BenchCase<object>[]): Scenario<object> => ({
      name: 'concurrency',
      description: '',
      baseline: 'x',
      concurrency,
      setup: async () => ({}),
      cases,
    });
    const withDefault = await runScenario(scenario(3, [make('default'), make('eight', 8), make('one', 1)]), tiny());
    const without = await runScenario(scenario(undefined, [make('unset')]), tiny());

    const results = [...withDefault.results, ...without.results];
    expect(results.map((r) => [r.subject, r.concurrency])).toEqual([
      ['default', 3],
      ['eight', 8],
      ['one', 1],
      ['unset', 1],
    ]);
    for (const r of results) {
      expect(inFlight[r.subject]!.max).toBe(r.concurrency);
      expect(inFlight[r.subject]!.now).toBe(0);
      expect(r.ops).toBeGreaterThan(0);
    }
  });
});

describe('formatScenario', () => {
  function scenarioOf(fields: Partial<Scenario<never>>): Scenario<never> {
    return {
      name: 'fmt',
      description: 'What is compared.',
      baseline: 'raw',
      setup: async () => {
        throw new Error('not run in these tests');
      },
      cases: [],
      ...fields,
    };
  }

  function row(op: string, subject: string, opsPerSec: number, fields: Partial<CaseResult> = {}): CaseResult {
    return { op, subject, concurrency: 1, opsPerSec, spreadPct: 0, ops: 1000, counters: [], ...fields };
  }

  const read = () => 0;

  it('prints the table with rates, spread, ratio to the baseline of the same op and counters, then targets and notes', () => {
    const result: ScenarioResult = {
      scenario: scenarioOf({
        counters: [
          { name: 'commands/op', read },
          { name: 'CPU µs/op', read, digits: 0 },
        ],
        targets: [
          { op: 'get', subject: 'larder', over: 'raw', atLeast: 2.5 },
          { op: 'get', subject: 'larder', over: 'keyv', atLeast: 10 },
          { op: 'set', subject: 'larder', over: 'raw', atLeast: 1 },
        ],
        notes: ['keyv 5.6', 'one call in flight'],
      }),
      results: [
        row('get', 'raw', 1000, { spreadPct: 4.24, counters: [1, 12.4] }),
        row('get', 'larder', 2500, { spreadPct: 10, counters: [0.5, undefined] }),
        row('get', 'larder', 12345.6, { concurrency: 64, counters: [0.125, 3.5] }),
        row('get', 'keyv', 400, { counters: [2, 40] }),
        row('set', 'larder', 3000, { counters: [1, 1] }),
      ],
    };
    expect(formatScenario(result)).toBe(
      [
        '### fmt',
        '',
        'What is compared.',
        '',
        '| operation | subject | ops/s | ± | vs raw | commands/op | CPU µs/op |',
        '|---|---|---:|---:|---:|---:|---:|',
        '| get | raw | 1,000 | 4.2% | 1.00× | 1.00 | 12 |',
        '| get | larder | 2,500 | 10.0% | 2.50× | 0.50 | — |',
        '| get | larder (×64 in flight) | 12,346 | 0.0% | 12.35× | 0.13 | 4 |',
        '| get | keyv | 400 | 0.0% | 0.40× | 2.00 | 40 |',
        '| set | larder | 3,000 | 0.0% | — | 1.00 | 1 |',
        '',
        '- target larder get ≥ 2.5× raw: **2.50×** met',
        '- target larder get ≥ 10× keyv: **6.25×** MISSED',
        '- target larder set ≥ 1× raw: not measured',
        '- keyv 5.6',
        '- one call in flight',
        '',
      ].join('\n'),
    );
  });

  it('shows errors in their row and no ratio against a failed baseline', () => {
    const result: ScenarioResult = {
      scenario: scenarioOf({
        clock: 'cpu',
        targets: [
          { op: 'del', subject: 'larder', over: 'raw', atLeast: 1 },
          { op: 'del', subject: 'keyv', over: 'larder', atLeast: 0.1 },
        ],
      }),
      results: [
        row('del', 'raw', 900, { error: 'down | really' }),
        row('del', 'larder', 500),
        row('del', 'keyv', 0, { error: 'timeout' }),
      ],
    };
    const lines = formatScenario(result).split('\n');
    expect(lines[4]).toBe('| operation | subject | ops/CPU-s | ± | vs raw |');
    expect(lines[6]).toMatch(/^\| del \| raw \| error: down \\\| really \|/);
    expect(lines[7]).toBe('| del | larder | 500 | 0.0% | — |');
    expect(lines[8]).toMatch(/^\| del \| keyv \| error: timeout \|/);
    expect(lines).toContain('- target larder del ≥ 1× raw: not measured');
    expect(lines).toContain('- target keyv del ≥ 0.1× larder: not measured');
  });

  it('closes error rows with every cell, and shows a counter that crossed JSON as null as a dash', () => {
    const result: ScenarioResult = {
      scenario: scenarioOf({ counters: [{ name: 'commands/op', read }] }),
      results: [
        row('get', 'raw', 100, { counters: [null as unknown as undefined] }),
        row('get', 'larder', 0, { error: 'down' }),
      ],
    };
    const lines = formatScenario(result).split('\n');
    expect(lines[6]).toBe('| get | raw | 100 | 0.0% | 1.00× | — |');
    expect(lines[7]).toBe('| get | larder | error: down |  |  |  |');
  });

  it("adds the ratio of the CPU per operation to a target's line where the bench's or the app's own CPU is counted", () => {
    const scenario = (name: string) =>
      scenarioOf({
        counters: [
          { name: 'Redis CPU µs/op', read },
          { name, read },
        ],
        targets: [
          { op: 'get', subject: 'larder', over: 'raw', atLeast: 1 },
          { op: 'set', subject: 'larder', over: 'raw', atLeast: 1 },
        ],
      });
    const results = [
      row('get', 'raw', 1000, { counters: [4, 10] }),
      row('get', 'larder', 900, { counters: [4, 8] }),
      row('set', 'raw', 1000, { counters: [4, 10] }),
      row('set', 'larder', 1100, { counters: [4, undefined] }),
    ];
    const client = formatScenario({ scenario: scenario('client CPU µs/op'), results }).split('\n');
    expect(client).toContain('- target larder get ≥ 1× raw: **0.90×** MISSED; by client CPU/op: 1.25×');
    // Not counted for one of the two: the line says nothing of CPU.
    expect(client).toContain('- target larder set ≥ 1× raw: **1.10×** met');
    const app = formatScenario({ scenario: scenario('app CPU µs/request'), results }).split('\n');
    expect(app).toContain('- target larder get ≥ 1× raw: **0.90×** MISSED; by app CPU/request: 1.25×');
    // Redis's CPU is the server's, not the subject's: no ratio from it.
    const server = formatScenario({ scenario: scenario('commands/op'), results }).split('\n');
    expect(server).toContain('- target larder get ≥ 1× raw: **0.90×** MISSED');
  });

  it('leaves out the lines under the table when there are no targets or notes', () => {
    const result: ScenarioResult = { scenario: scenarioOf({}), results: [row('get', 'raw', 10)] };
    expect(formatScenario(result)).toBe(
      [
        '### fmt',
        '',
        'What is compared.',
        '',
        '| operation | subject | ops/s | ± | vs raw |',
        '|---|---|---:|---:|---:|',
        '| get | raw | 10 | 0.0% | 1.00× |',
        '',
      ].join('\n'),
    );
  });
});

describe('Progress', () => {
  function fakeStream(isTTY: boolean) {
    const writes: string[] = [];
    const stream = { isTTY, columns: 21, write: (text: string) => writes.push(text) };
    return { progress: new Progress(stream as unknown as NodeJS.WriteStream), writes };
  }

  it('redraws one status line on a terminal and clears it before a lasting line', () => {
    const { progress, writes } = fakeStream(true);
    progress.status('0123456789');
    progress.status('abc');
    progress.status('x'.repeat(30));
    progress.log('done');
    expect(writes).toEqual([
      '\r0123456789',
      `\rabc${' '.repeat(7)}`,
      `\r${'x'.repeat(19)}…`,
      `\r${' '.repeat(20)}\r`,
      'done\n',
    ]);
  });

  it('prints only lasting lines elsewhere', () => {
    const { progress, writes } = fakeStream(false);
    progress.status('running');
    progress.log('done');
    expect(writes).toEqual(['done\n']);
  });
});
