import { isDeepStrictEqual } from 'node:util';
import { isLarderError } from '@larder/core';
import fc from 'fast-check';
import { delay, describeError } from '../helpers';
import type { CacheUnderTest } from '../options';
import { type Answer, ModelMismatch, type ModelValue, type ReferenceModel, showAnswer, type Window } from './model';

/** One call of a generated sequence (`ttl` in ms; `undefined` = no expiry). */
export type Command =
  | { op: 'get' | 'has' | 'delete' | 'pull'; key: string }
  | { op: 'set' | 'add'; key: string; value: ModelValue; ttl: number | undefined }
  | { op: 'forever'; key: string; value: ModelValue }
  | { op: 'increment' | 'decrement'; key: string; by: number; ttl: number | undefined }
  | { op: 'touch'; key: string; ttl: number | undefined }
  | { op: 'getMany' | 'deleteMany'; keys: string[] }
  | { op: 'setMany'; entries: [string, ModelValue][]; ttl: number | undefined }
  | { op: 'tagSet'; key: string; value: ModelValue; ttl: number | undefined; tags: string[] }
  | { op: 'invalidateTags'; tags: string[] }
  | { op: 'wait'; ms: number };

/** What a sequence may contain. */
export interface CommandProfile {
  /** TTLs writes choose from (`undefined` = none). */
  ttls: readonly (number | undefined)[];
  /** Pauses between calls, in ms; empty = no pauses. */
  waits: readonly number[];
  /** The store has an atomic `add`. */
  add: boolean;
  /** The store has `increment`. */
  increment: boolean;
  /** The store has `touch`. */
  touch: boolean;
  /** The cache has tags (`tags()`, `invalidateTags()`). */
  tags: boolean;
  /** Longest sequence. */
  maxLength: number;
}

/** Few keys, so that calls meet on the same key often. */
const KEYS = ['a', 'b', 'c', 'd'] as const;
/** Few tags, so that entries share them. */
const TAGS = ['t1', 't2', 't3'] as const;

/**
 * Values every codec round-trips: integers (counters), non-integers, strings that look like
 * integers (a codec must keep them strings: `increment` of `'5'` rejects), falsy values, objects.
 */
const value: fc.Arbitrary<ModelValue> = fc.oneof(
  fc.integer({ min: -20, max: 20 }),
  fc.constantFrom<ModelValue>('x', '', '5', '-3', 'hello world', 1.5, -0.25, true, false, null),
  fc.integer({ min: 0, max: 9 }).map((n) => ({ n })),
  fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 3 }),
);

/** Random call sequences over a few keys, limited to what the store supports. */
export function commands(profile: CommandProfile): fc.Arbitrary<Command[]> {
  const key = fc.constantFrom(...KEYS);
  const ttl = fc.constantFrom(...profile.ttls);
  const keys = fc.array(key, { minLength: 1, maxLength: 4 });
  const by = fc.integer({ min: -5, max: 5 });
  const arbs = [
    call({ op: fc.constantFrom('get', 'has', 'delete', 'pull'), key }),
    call({ op: fc.constant('set'), key, value, ttl }),
    call({ op: fc.constant('forever'), key, value }),
    call({ op: fc.constantFrom('getMany', 'deleteMany'), keys }),
    call({ op: fc.constant('setMany'), entries: fc.array(fc.tuple(key, value), { maxLength: 4 }), ttl }),
  ];
  if (profile.add) arbs.push(call({ op: fc.constant('add'), key, value, ttl }));
  if (profile.increment) arbs.push(call({ op: fc.constantFrom('increment', 'decrement'), key, by, ttl }));
  if (profile.touch) arbs.push(call({ op: fc.constant('touch'), key, ttl }));
  if (profile.tags) {
    const tags = fc.array(fc.constantFrom(...TAGS), { minLength: 1, maxLength: 3 });
    arbs.push(call({ op: fc.constant('tagSet'), key, value, ttl, tags }));
    arbs.push(call({ op: fc.constant('invalidateTags'), tags }));
  }
  if (profile.waits.length > 0) arbs.push(call({ op: fc.constant('wait'), ms: fc.constantFrom(...profile.waits) }));
  return fc.array(fc.oneof(...arbs), { minLength: 1, maxLength: profile.maxLength });
}

/** A command record (plain objects: they print and compare like the values users pass). */
function call<T>(shape: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<Command> {
  return fc.record(shape, { noNullPrototype: true }) as unknown as fc.Arbitrary<Command>;
}

const now = () => performance.now();

/**
 * Runs `sequence` through `cache` and checks every answer against `model`. Pauses stop once
 * `maxWaitMs` has been waited in all (the run stays bounded whatever was generated). A mismatch
 * throws with the steps so far and when each ran (ms after the start).
 */
export async function runSequence(
  cache: CacheUnderTest,
  model: ReferenceModel,
  sequence: readonly Command[],
  maxWaitMs: number,
): Promise<void> {
  const start = now();
  const log: string[] = [];
  let waited = 0;
  for (const [index, command] of sequence.entries()) {
    if (command.op === 'wait') {
      if (waited + command.ms > maxWaitMs) continue;
      waited += command.ms;
      const before = now();
      await delay(command.ms);
      log.push(`${index}: wait ${command.ms} (${at(before, start)}..${at(now(), start)})`);
      continue;
    }
    const window: Window = { start: now(), end: 0 };
    let answer: Answer;
    try {
      answer = { value: await invoke(cache, command) };
    } catch (error) {
      if (!isLarderError(error)) throw error;
      answer = { rejected: describeError(error) };
    }
    window.end = now();
    log.push(
      `${index}: ${show(command)} -> ${showAnswer(answer)} (${at(window.start, start)}..${at(window.end, start)})`,
    );
    try {
      check(model, command, window, answer);
    } catch (error) {
      if (!(error instanceof ModelMismatch)) throw error;
      const precision = `precision ${model.precision.precisionMs}ms + slack ${model.precision.slackMs}ms`;
      throw new ModelMismatch(`${error.message}\nsteps (ms after the start; ${precision}):\n  ${log.join('\n  ')}`);
    }
  }
}

/** Runs one call on the facade. */
function invoke(cache: CacheUnderTest, c: Exclude<Command, { op: 'wait' }>): Promise<unknown> {
  switch (c.op) {
    case 'get':
      return cache.get(c.key);
    case 'has':
      return cache.has(c.key);
    case 'delete':
      return cache.delete(c.key);
    case 'pull':
      return cache.pull(c.key);
    case 'set':
      return cache.set(c.key, c.value, c.ttl);
    case 'forever':
      return cache.forever(c.key, c.value);
    case 'add':
      return cache.add(c.key, c.value, c.ttl);
    case 'increment':
      return cache.increment(c.key, c.by, c.ttl);
    case 'decrement':
      return cache.decrement(c.key, c.by, c.ttl);
    case 'touch':
      return cache.touch(c.key, c.ttl);
    case 'getMany':
      return cache.getMany(c.keys);
    case 'deleteMany':
      return cache.deleteMany(c.keys);
    case 'setMany':
      return cache.setMany(c.entries, c.ttl);
    case 'tagSet':
      return (cache.tags?.(c.tags) ?? cache).set(c.key, c.value, c.ttl);
    case 'invalidateTags':
      return cache.invalidateTags?.(c.tags) ?? Promise.resolve();
  }
}

/** Checks one answer against the model and moves the model on. */
function check(model: ReferenceModel, c: Exclude<Command, { op: 'wait' }>, window: Window, answer: Answer): void {
  switch (c.op) {
    case 'get':
    case 'has':
    case 'delete':
    case 'pull':
      model[c.op](c.key, window, answer);
      break;
    case 'set':
    case 'forever':
      expectUndefined(answer);
      model.write(c.key, c.value, c.op === 'set' ? c.ttl : undefined, window);
      break;
    case 'add':
      model.add(c.key, c.value, c.ttl, window, answer);
      break;
    case 'increment':
    case 'decrement':
      model.increment(c.key, c.op === 'increment' ? c.by : 0 - c.by, c.ttl, window, answer);
      break;
    case 'touch':
      model.touch(c.key, c.ttl, window, answer);
      break;
    case 'setMany':
      expectUndefined(answer);
      // The last duplicate wins.
      for (const [key, value] of new Map(c.entries)) model.write(key, value, c.ttl, window);
      break;
    case 'deleteMany':
      if (!('value' in answer) || typeof answer.value !== 'number') {
        throw new ModelMismatch(`deleteMany answered ${showAnswer(answer)}; expected a count`);
      }
      model.deleteMany(c.keys, window, answer.value);
      break;
    case 'getMany':
      checkGetMany(model, c.keys, window, answer);
      break;
    case 'tagSet':
      expectUndefined(answer);
      model.write(c.key, c.value, c.ttl, window, c.tags);
      break;
    case 'invalidateTags':
      expectUndefined(answer);
      model.invalidateTags(c.tags);
      break;
  }
}

/** `getMany`: aligned with the keys (a repeated key repeats its value); each key is a `get`. */
function checkGetMany(model: ReferenceModel, keys: readonly string[], window: Window, answer: Answer): void {
  if (!('value' in answer) || !Array.isArray(answer.value) || answer.value.length !== keys.length) {
    throw new ModelMismatch(
      `getMany(${JSON.stringify(keys)}) answered ${showAnswer(answer)}; expected ${keys.length} values`,
    );
  }
  const values = answer.value as unknown[];
  const seen = new Map<string, unknown>();
  keys.forEach((key, i) => {
    if (!seen.has(key)) {
      seen.set(key, values[i]);
      model.get(key, window, { value: values[i] });
    } else if (!isDeepStrictEqual(seen.get(key), values[i])) {
      throw new ModelMismatch(`getMany(${JSON.stringify(keys)}): '${key}' answered two different values`);
    }
  });
}

function expectUndefined(answer: Answer): void {
  if (!('value' in answer) || answer.value !== undefined) {
    throw new ModelMismatch(`a write answered ${showAnswer(answer)}; expected undefined`);
  }
}

function show(c: Exclude<Command, { op: 'wait' }>): string {
  const { op, ...args } = c;
  return `${op} ${JSON.stringify(args)}`;
}

function at(time: number, start: number): string {
  return String(Math.round(time - start));
}
