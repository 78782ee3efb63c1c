import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isLarderError, LarderError } from '@larder/core';

let counter = 0;

/** A key no other test (or process) uses: `label-<random>-<n>`. */
export function uniqueKey(label = 'k'): string {
  counter += 1;
  return `${label}-${randomBytes(4).toString('hex')}-${counter}`;
}

/** Options of `waitFor`. */
export interface WaitForOptions {
  /** Give up after this many ms. @default 5000 */
  timeout?: number;
  /** Poll every this many ms. @default 10 */
  interval?: number;
  /** Describes the condition in the timeout error. */
  message?: string;
}

/**
 * Polls `condition` until it returns a truthy value (which is returned) or `timeout` passes
 * (rejects with an Error naming `message`). Errors thrown by the condition propagate at once.
 */
export async function waitFor<T>(condition: () => T | Promise<T>, options: WaitForOptions = {}): Promise<T> {
  const { timeout = 5000, interval = 10, message = 'condition' } = options;
  const deadline = performance.now() + timeout;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (performance.now() >= deadline) throw new Error(`waitFor: ${message} not met within ${timeout}ms`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/** An error class with a `code`, as in `@larder/core`'s errors. */
// biome-ignore lint/suspicious/noExplicitAny: any constructor signature.
export type ErrorClass = abstract new (...args: any[]) => Error;

/**
 * Asserts that `run()` returns a promise that rejects with an instance of `type` carrying `code`
 * (any non-empty `code` when `code` is undefined). A synchronous throw fails too: larder operations
 * reject, they never throw.
 */
export async function expectError(
  run: () => Promise<unknown>,
  type: ErrorClass,
  code: string | undefined,
  what: string,
): Promise<Error> {
  let promise: Promise<unknown>;
  try {
    promise = run();
  } catch (error) {
    assert.fail(`${what}: threw synchronously (${describeError(error)}); operations must return a rejected promise`);
  }
  assert.equal(
    typeof (promise as { then?: unknown } | undefined)?.then,
    'function',
    `${what}: did not return a promise`,
  );
  try {
    await promise;
  } catch (error) {
    // The brand and code are the contract (they hold across copies of core); the class is checked too,
    // because an app with one core must get the class it imported.
    assert.ok(isLarderError(error), `${what}: expected a larder error (branded), got ${describeError(error)}`);
    assert.ok(error instanceof type, `${what}: expected ${type.name}, got ${describeError(error)}`);
    const actual = (error as { code?: unknown }).code;
    if (code === undefined) {
      assert.ok(
        typeof actual === 'string' && actual.length > 0,
        `${what}: expected a code, got ${describeError(error)}`,
      );
    } else {
      assert.equal(actual, code, `${what}: expected code ${code}, got ${describeError(error)}`);
    }
    return error as Error;
  }
  assert.fail(`${what}: resolved; expected it to reject with ${type.name}${code ? ` (${code})` : ''}`);
}

/** Asserts a rejection with some `LarderError` (any code); returns it. */
export async function expectLarderError(run: () => Promise<unknown>, what: string): Promise<LarderError> {
  return (await expectError(run, LarderError, undefined, what)) as LarderError;
}

/** `Name(code): message` for failure messages. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${error.constructor.name}${code ? `(${String(code)})` : ''}: ${error.message}`;
  }
  return String(error);
}

/** Resolves after `ms` (only for pacing polls and simulated work, never to wait for a state). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Collects an async iterable into an array. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** UTF-8 byte length of a string. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** A loader held until `release()`; `started` resolves once it runs. */
export function heldLoader<T>(value: T) {
  let release: () => void = () => {};
  let running: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    running = resolve;
  });
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const loader = async () => {
    running();
    await gate;
    return value;
  };
  return { loader, started, release };
}
