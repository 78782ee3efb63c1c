import { describe, expect, it } from 'vitest';
import { resolveL1Options } from '../src/config/l1-options';
import { L1Tier } from '../src/l1/tier';

/** A tier with no invalidation channel (always up), as a cache with `invalidation: 'none'` has. */
const tier = () => new L1Tier(resolveL1Options({ invalidation: 'none' }), 'none', undefined, 'test', 'test');

/** `payload` filled into a fresh tier under `k`, and the payload the tier kept. */
function keep(payload: string | Uint8Array): string | Uint8Array | undefined {
  const l1 = tier();
  l1.fill(l1.begin('k'), payload, { decoded: true });
  return l1.entries.peek('k')?.payload;
}

describe('the bytes an L1 keeps', () => {
  it('copies a payload that is a view into a larger buffer (a socket read chunk) to memory of its own', () => {
    // ioredis hands a Buffer reply as a view into the socket's read chunk (up to 64 KB).
    const chunk = Buffer.alloc(65_536, 7);
    const reply = chunk.subarray(1_000, 3_000);
    const kept = keep(reply) as Buffer;
    expect(Buffer.isBuffer(kept)).toBe(true);
    expect(kept.equals(reply)).toBe(true);
    expect(kept.buffer).not.toBe(chunk.buffer);
    expect(kept.byteOffset).toBe(0);
    expect(kept.buffer.byteLength).toBe(2_000);
    // So a later write into the chunk (the client reusing it) does not reach the kept copy.
    chunk.fill(9);
    expect(kept[0]).toBe(7);
  });

  it('copies a small Buffer out of Node’s shared pool, whose whole 8 KB slab it would hold', () => {
    const pooled = Buffer.from('x'.repeat(100));
    expect(pooled.buffer.byteLength).toBeGreaterThan(100);
    const kept = keep(pooled) as Buffer;
    expect(kept.buffer.byteLength).toBe(100);
    expect(kept.toString()).toBe('x'.repeat(100));
  });

  it('keeps a Uint8Array a Uint8Array', () => {
    const whole = new Uint8Array(16).fill(3);
    const kept = keep(whole.subarray(4, 8)) as Uint8Array;
    expect(Buffer.isBuffer(kept)).toBe(false);
    expect([...kept]).toEqual([3, 3, 3, 3]);
    expect(kept.buffer.byteLength).toBe(4);
  });

  it('keeps bytes that own their whole buffer, and text, as they are (no copy)', () => {
    const own = Buffer.allocUnsafeSlow(64).fill(1);
    expect(keep(own)).toBe(own);
    expect(keep('{"a":1}')).toBe('{"a":1}');
  });
});
