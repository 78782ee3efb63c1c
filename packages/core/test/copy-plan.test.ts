import { describe, expect, it } from 'vitest';
import { type CopyTarget, copyInto, copyOut } from '../src/values/clone';

function stored(value: unknown): CopyTarget {
  const target: CopyTarget = { value: undefined, plan: undefined };
  expect(copyInto(target, value)).toBeGreaterThan(0);
  return target;
}

/** Reads a stored value often enough for its plan to be compiled, checking every read. */
function readsAlike(target: CopyTarget, expected: unknown): void {
  for (let i = 0; i < 10; i++) {
    const copy = copyOut(target.value, target.plan);
    expect(copy).toEqual(expected);
    expect(copy).not.toBe(target.value);
  }
}

describe('copy plans (clone mode)', () => {
  it('values of one shape share a plan; another shape gets another', () => {
    const a = stored({ id: 1, address: { city: 'London' }, tags: ['x'] });
    const b = stored({ id: 2, address: { city: 'Paris' }, tags: ['y', 'z'] });
    const c = stored({ id: 3, address: 'none', tags: ['x'] });
    expect(a.plan).toBe(b.plan);
    expect(c.plan).not.toBe(a.plan);
  });

  it('compiled and interpreted reads give the same deep copy, never the stored objects', () => {
    const value = {
      id: 7,
      orders: [{ items: ['a', 'b'], at: new Date(5) }, 3, { items: [] }],
      bytes: new Uint8Array([1, 2]),
      buffer: Buffer.from('hi'),
      map: new Map([['k', { v: 1 }]]),
      set: new Set([{ w: 2 }]),
      nested: [[{ deep: { deeper: [1] } }]],
    };
    const target = stored(value);
    for (let i = 0; i < 10; i++) {
      const copy = copyOut(target.value, target.plan) as typeof value;
      expect(copy).toEqual(value);
      expect(Buffer.isBuffer(copy.buffer)).toBe(true);
      // Every nested object is a fresh copy: mutating it changes nothing stored.
      (copy.orders[0] as { items: string[] }).items.push('mutated');
      (copy.nested[0] as { deep: { deeper: number[] } }[])[0]?.deep.deeper.push(2);
      copy.bytes[0] = 9;
      (copy.orders[0] as { at: Date }).at.setTime(0);
    }
    readsAlike(target, value);
  });

  it('keys that are not identifiers (quotes, backslashes, line separators, __proto__, numbers) copy as data', () => {
    const value = JSON.parse(
      '{"__proto__":{"polluted":1},"a\\"b":{"c":1},"back\\\\slash":[{"x":1}],"\\u2028\\u2029":{"ls":1},"0":{"n":0},"":{"empty":true},"constructor":{"k":1},"x};throw 1;({":{"y":2}}',
    );
    const target = stored(value);
    readsAlike(target, value);
    const copy = copyOut(target.value, target.plan) as Record<string, unknown>;
    expect(Object.hasOwn(copy, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('thousands of shapes (more than the plan table holds) all copy right', () => {
    const targets = Array.from({ length: 5000 }, (_, i) => {
      const value = { [`k${i}`]: { i }, list: [{ [`j${i % 7}`]: [i] }] };
      return { target: stored(value), value };
    });
    for (const { target, value } of targets) readsAlike(target, value);
  });

  it('a plan with very long keys stays interpreted and copies like any other', () => {
    const long = (c: string) => c.repeat(10_000);
    const value = { [long('a')]: { x: 1 }, [long('b')]: { y: [2] }, [long('c')]: { z: { w: 3 } } };
    const target = stored(value);
    readsAlike(target, value);
    const copy = copyOut(target.value, target.plan) as Record<string, { x?: number }>;
    expect(copy[long('a')]).not.toBe((target.value as Record<string, unknown>)[long('a')]);
  });
});
