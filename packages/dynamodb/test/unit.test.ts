import { ConfigError } from '@larder/core';
import { describe, expect, it } from 'vitest';
import { backoffDelay, chunk, Deadline, untilProcessed } from '../src/batch';
import { expiresAtSeconds, isExpired, nowSeconds } from '../src/expiry';
import { fromAttribute, itemBytes, toAttribute } from '../src/item';
import { resolveOptions } from '../src/options';

describe('expiry', () => {
  it('converts ms TTLs to epoch seconds, rounding up', () => {
    expect(expiresAtSeconds(1000, 5_500)).toBe(7);
    expect(expiresAtSeconds(500, 5_000)).toBe(6);
    expect(nowSeconds(5_999)).toBe(5);
  });
  it('treats an item as expired from its expiry second on', () => {
    expect(isExpired(undefined, 10_000)).toBe(false);
    expect(isExpired(10, 9_999)).toBe(false);
    expect(isExpired(10, 10_000)).toBe(true);
  });
});

describe('attributes', () => {
  it('stores canonical integers as N, other text as S, bytes as B', () => {
    expect(toAttribute('42')).toEqual({ N: '42' });
    expect(toAttribute('-7')).toEqual({ N: '-7' });
    for (const text of ['007', '-0', '1.5', '1e3', '"42"', ' 1', '1'.repeat(39)])
      expect(toAttribute(text)).toEqual({ S: text });
    expect(toAttribute(new Uint8Array([1]))).toEqual({ B: new Uint8Array([1]) });
    expect(fromAttribute({ N: '42' })).toBe('42');
    expect(fromAttribute(undefined)).toBeUndefined();
  });
  it('sizes items like DynamoDB (names + values)', () => {
    expect(itemBytes({ id: { S: 'ab' }, value: { B: new Uint8Array(10) }, expires_at: { N: '1700000000' } })).toBe(
      // N: 1 byte per 2 significant digits (trailing zeros trimmed: '17') + 1.
      2 + 2 + 5 + 10 + 10 + 2,
    );
    expect(itemBytes({ k: { S: 'é' } })).toBe(3);
    expect(itemBytes({ n: { N: '1700000001' } })).toBe(1 + 6);
  });
});

describe('batching', () => {
  it('chunks', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 25)).toEqual([]);
  });

  it('backoff is jittered and capped', () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const delay = backoffDelay(attempt, { baseDelayMs: 10, maxDelayMs: 200 });
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(200, 10 * 2 ** attempt));
    }
  });

  it('resubmits unprocessed items until done', async () => {
    const sent: number[][] = [];
    await untilProcessed(
      [1, 2, 3, 4, 5],
      async (items) => {
        sent.push(items);
        return items.slice(2);
      },
      new Deadline(5000, 'test'),
      { baseDelayMs: 1 },
    );
    expect(sent).toEqual([[1, 2, 3, 4, 5], [3, 4, 5], [5]]);
  });

  it('gives up with TimeoutError at the deadline when nothing is ever processed', async () => {
    const started = Date.now();
    await expect(
      untilProcessed([1], async (items) => items, new Deadline(200, 'getMany'), { baseDelayMs: 10, maxDelayMs: 50 }),
    ).rejects.toMatchObject({ code: 'E_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('options', () => {
  it('defaults like Laravel and reads the region/endpoint from env', () => {
    const o = resolveOptions({}, { AWS_DEFAULT_REGION: 'eu-west-1', DYNAMODB_ENDPOINT: 'http://localhost:8000' });
    expect(o).toMatchObject({
      table: 'CacheTable',
      region: 'eu-west-1',
      endpoint: 'http://localhost:8000',
      attributes: { key: 'id', value: 'value', expiration: 'expires_at' },
      consistentRead: false,
      allowClear: false,
      timeoutMs: 5000,
    });
    expect(resolveOptions({}, { AWS_REGION: 'ap-south-1', AWS_DEFAULT_REGION: 'x' }).region).toBe('ap-south-1');
    expect(resolveOptions({}, {}).region).toBe('us-east-1');
    expect(resolveOptions({ attributes: { ttl: 'ttl' } }, {}).attributes.expiration).toBe('ttl');
  });
  it('validates once, naming the setting', () => {
    expect(() => resolveOptions({ table: 'a' }, {})).toThrow(ConfigError);
    expect(() => resolveOptions({ attributes: { key: 'x', value: 'x' } }, {})).toThrow(/must differ/);
    expect(() => resolveOptions({ maxAttempts: 0 }, {})).toThrow(/maxAttempts/);
    expect(() => resolveOptions({ createTable: true }, { NODE_ENV: 'production' })).toThrow(/create-tables/);
  });
});
