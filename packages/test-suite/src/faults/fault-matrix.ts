import assert from 'node:assert/strict';
import { isLarderError } from '@larder/core';
import type { CacheStore } from '@larder/core/driver';

/**
 * A fault of the `@larder/dev-services` fault proxy (the same shape as its `Fault`, kept here so
 * this package needs no dependency on dev-services).
 */
export type MatrixFault =
  | { kind: 'latency'; ms: number }
  | { kind: 'bandwidth'; bytesPerSec: number }
  | { kind: 'blackhole' }
  | { kind: 'halfOpen' }
  | { kind: 'resetMidReply' }
  | { kind: 'slowClose'; ms: number }
  | { kind: 'splitReplies' };

/** The faults every driver's matrix goes through, with the row names of the README tables. */
export const FAULT_CASES: readonly (readonly [string, MatrixFault])[] = [
  ['latency 100 ms', { kind: 'latency', ms: 100 }],
  ['latency 1 s (over the timeout)', { kind: 'latency', ms: 1000 }],
  ['bandwidth 20 KB/s', { kind: 'bandwidth', bytesPerSec: 20_000 }],
  ['blackhole', { kind: 'blackhole' }],
  ['half-open', { kind: 'halfOpen' }],
  ['reset mid-reply', { kind: 'resetMidReply' }],
  ['slow close 1 s', { kind: 'slowClose', ms: 1000 }],
  ['replies in 1-byte packets', { kind: 'splitReplies' }],
];

/** One call made under a fault: it must resolve with a value `correct` accepts, or reject with a `LarderError`. */
export interface MatrixCall {
  run: () => Promise<unknown>;
  correct: (value: unknown) => boolean;
  /** A write: the key and text it stores, read back after the fault when the call succeeded. */
  writes?: readonly [key: string, text: string];
}

/** A payload read back as text (drivers may hand a string back as bytes). */
export function payloadText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  return Buffer.from(value as Uint8Array).toString();
}

/**
 * The store calls every driver's matrix makes under a fault, before its own: reads of `fm:a`
 * (holding 'A') and `fm:big` (holding `big`), a getMany, and writes to keys tagged with `tag`
 * (`fm:w:<tag>` and `fm:m:<tag>`, named in `writes` so a test can check that the writes that
 * succeeded are there; `fm:n:<tag>` is incremented from nothing).
 */
export function storeFaultCalls(store: CacheStore, tag: string, big: string): MatrixCall[] {
  return [
    { run: () => store.get('fm:a'), correct: (v) => payloadText(v) === 'A' },
    { run: () => store.get('fm:big'), correct: (v) => payloadText(v) === big },
    {
      run: () => store.getMany!(['fm:a', 'fm:none']),
      correct: (v) => {
        const list = v as unknown[];
        return payloadText(list[0]) === 'A' && list[1] === undefined;
      },
    },
    { run: () => store.set(`fm:w:${tag}`, 'W', 60_000), correct: (v) => v === undefined, writes: [`fm:w:${tag}`, 'W'] },
    {
      run: () => store.setMany!([[`fm:m:${tag}`, 'M']], 60_000),
      correct: (v) => v === undefined,
      writes: [`fm:m:${tag}`, 'M'],
    },
    { run: () => store.increment!(`fm:n:${tag}`, 1, 60_000), correct: (v) => v === 1 },
  ];
}

/** `'ok'` or the typed error's class name, and how long the call took to settle (ms). */
export type CallOutcome = readonly [outcome: string, ms: number];

/** One row of a driver's fault matrix. */
export interface FaultMatrixRow {
  fault: string;
  /** Outcomes counted, e.g. `7 ok, 1 TimeoutError`. */
  outcome: string;
  /** Slowest call under the fault to settle, ms. */
  settleMs: number;
  /** A fail-open `Cache` get under the fault, ms. */
  facadeMs: number;
  /** From the end of the fault until `recovered` held, ms. */
  recoverMs: number;
}

/** What `measureFault` needs. */
export interface MeasureFaultOptions<F> {
  /** The proxy between the store and its server (a `FaultProxy`). */
  proxy: { setFault(fault: F): void; clear(): void };
  /** Row name and fault. */
  fault: readonly [string, F];
  /** Calls made concurrently while the fault is on. */
  calls: readonly MatrixCall[];
  /** Every call must settle within this many ms. */
  settleMs: number;
  /** A fail-open facade read under the fault: must resolve (a miss) within `settleMs`. */
  facade?: () => Promise<unknown>;
  /** True once the store works again after the fault ends (polled every 20 ms). */
  recovered: () => Promise<boolean>;
  /** Give up waiting for `recovered` after this many ms. @default 5000 */
  recoverTimeoutMs?: number;
  /** Receives every error a call (or a recovery check) rejected with, for the secrets sweep. */
  errors?: unknown[];
}

/** Runs `call` and checks its result with `correct`; returns 'ok' or the typed error's class name, and the time taken. */
export async function outcomeOf(call: MatrixCall, errors?: unknown[]): Promise<CallOutcome> {
  const started = Date.now();
  try {
    const value = await call.run();
    assert.ok(call.correct(value), `a call that succeeds under a fault returns the right value, got ${String(value)}`);
    return ['ok', Date.now() - started];
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    errors?.push(error);
    assert.ok(isLarderError(error), `a call failing under a fault rejects with a LarderError, got ${error}`);
    return [error.name, Date.now() - started];
  }
}

/**
 * Switches the fault on, makes every call at once, checks each settles in time (a right value or
 * a typed error) and the facade answers in time, then ends the fault and times how long until
 * `recovered` holds. Returns the row and each call's outcome (in `calls` order).
 */
export async function measureFault<F>(
  options: MeasureFaultOptions<F>,
): Promise<{ row: FaultMatrixRow; results: CallOutcome[] }> {
  const [name, fault] = options.fault;
  options.proxy.setFault(fault);
  let results: CallOutcome[];
  let facadeMs = 0;
  try {
    results = await Promise.all(options.calls.map((call) => outcomeOf(call, options.errors)));
    if (options.facade) {
      const started = Date.now();
      await options.facade();
      facadeMs = Date.now() - started;
    }
  } finally {
    options.proxy.clear();
  }
  const cleared = Date.now();
  const settleMs = Math.max(...results.map(([, ms]) => ms));
  const each = results.map(([outcome, ms], i) => `#${i} ${outcome} ${ms} ms`).join(', ');
  assert.ok(
    settleMs < options.settleMs,
    `${name}: a call took ${settleMs} ms to settle (limit ${options.settleMs}): ${each}`,
  );
  assert.ok(facadeMs < options.settleMs, `${name}: the facade took ${facadeMs} ms (limit ${options.settleMs})`);
  const limit = options.recoverTimeoutMs ?? 5000;
  for (;;) {
    const recovered = await options.recovered().catch((error: unknown) => {
      options.errors?.push(error);
      return false;
    });
    if (recovered) break;
    assert.ok(
      Date.now() - cleared < limit,
      `${name}: the store did not recover within ${limit} ms of the fault ending`,
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const recoverMs = Date.now() - cleared;
  const counts = new Map<string, number>();
  for (const [outcome] of results) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  const outcome = [...counts].map(([what, n]) => `${n} ${what}`).join(', ');
  return { row: { fault: name, outcome, settleMs, facadeMs, recoverMs }, results };
}

/** The rows as a Markdown table (as the driver READMEs show it); `calls` names the outcome column. */
export function formatFaultMatrix(rows: readonly FaultMatrixRow[], calls: string): string {
  return [
    `| fault | ${calls} under the fault | slowest settled (ms) | \`Cache\` get, fail open (ms) | recovered after (ms) |`,
    '| --- | --- | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.fault} | ${r.outcome} | ${r.settleMs} | ${r.facadeMs} | ${r.recoverMs} |`),
  ].join('\n');
}
