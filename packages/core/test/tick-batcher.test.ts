import { TickBatcher } from '@larder/core/driver';
import { describe, expect, it } from 'vitest';

/** A batcher over a Map that records every read. */
function recorded(options: { maxBatchSize?: number; sendAloneWhenIdle?: boolean; withReadOne?: boolean } = {}) {
  const data = new Map([
    ['a', 1],
    ['b', 2],
    ['c', 3],
  ]);
  const reads: string[][] = [];
  const singles: string[] = [];
  let release: (() => void) | undefined;
  const batcher = new TickBatcher<number | undefined>({
    readMany: async (keys) => {
      reads.push(keys);
      return keys.map((key) => data.get(key));
    },
    ...(options.withReadOne || options.sendAloneWhenIdle
      ? {
          readOne: async (key: string) => {
            singles.push(key);
            if (options.sendAloneWhenIdle) await new Promise<void>((resolve) => (release = resolve));
            return data.get(key);
          },
        }
      : {}),
    maxBatchSize: options.maxBatchSize,
    sendAloneWhenIdle: options.sendAloneWhenIdle,
  });
  return { batcher, reads, singles, release: () => release?.() };
}

describe('TickBatcher', () => {
  it('reads the keys requested in one tick in one batch, each caller getting its own value', async () => {
    const { batcher, reads } = recorded();
    const values = await Promise.all(['a', 'b', 'missing', 'c'].map((key) => batcher.load(key)));
    expect(values).toEqual([1, 2, undefined, 3]);
    expect(reads).toEqual([['a', 'b', 'missing', 'c']]);
  });

  it('asks for a repeated key once and answers every caller', async () => {
    const { batcher, reads } = recorded();
    const values = await Promise.all(['a', 'b', 'a', 'a', 'b'].map((key) => batcher.load(key)));
    expect(values).toEqual([1, 2, 1, 1, 2]);
    expect(reads).toEqual([['a', 'b']]);
  });

  it('joins callers that arrive after a few awaits in the same tick', async () => {
    const { batcher, reads } = recorded();
    const late = async (key: string) => {
      await null;
      await null;
      return batcher.load(key);
    };
    expect(await Promise.all([batcher.load('a'), late('b'), late('c')])).toEqual([1, 2, 3]);
    expect(reads).toEqual([['a', 'b', 'c']]);
  });

  it('with dedupe off, sends a repeated key as often as it was asked for', async () => {
    const reads: string[][] = [];
    const batcher = new TickBatcher<string>({
      readMany: async (keys) => {
        reads.push(keys);
        return keys.map((key) => `v:${key}`);
      },
      dedupe: false,
    });
    expect(await Promise.all(['a', 'b', 'a'].map((key) => batcher.load(key)))).toEqual(['v:a', 'v:b', 'v:a']);
    expect(reads).toEqual([['a', 'b', 'a']]);
  });

  it('splits a batch larger than maxBatchSize into reads of at most that size', async () => {
    const { batcher, reads } = recorded({ maxBatchSize: 2 });
    const values = await Promise.all(['a', 'b', 'c', 'a', 'x'].map((key) => batcher.load(key)));
    expect(values).toEqual([1, 2, 3, 1, undefined]);
    expect(reads).toEqual([
      ['a', 'b'],
      ['c', 'x'],
    ]);
  });

  it('uses readOne for a batch of one key, with every caller of it answered', async () => {
    const { batcher, reads, singles } = recorded({ withReadOne: true });
    expect(await Promise.all([batcher.load('b'), batcher.load('b')])).toEqual([2, 2]);
    expect(singles).toEqual(['b']);
    expect(reads).toEqual([]);
  });

  it('rejects every caller of a failed batch, and only those', async () => {
    let calls = 0;
    const batcher = new TickBatcher<number>({
      readMany: async (keys) => {
        calls++;
        if (keys.includes('bad')) throw new Error('boom');
        return keys.map(() => 7);
      },
      maxBatchSize: 2,
    });
    const results = await Promise.allSettled(['bad', 'x', 'bad', 'y', 'z'].map((key) => batcher.load(key)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'fulfilled', 'fulfilled']);
    expect(calls).toBe(2);
  });

  it('settles a key with the promise readMany gives for it (a per-key failure)', async () => {
    const batcher = new TickBatcher<string>({
      readMany: async (keys) =>
        keys.map((key) =>
          key === 'bad' ? Promise.reject(new Error(`no ${key}`)) : Promise.resolve(key.toUpperCase()),
        ),
    });
    const [good, bad, again] = await Promise.allSettled([batcher.load('ok'), batcher.load('bad'), batcher.load('bad')]);
    expect(good).toEqual({ status: 'fulfilled', value: 'OK' });
    expect(bad.status).toBe('rejected');
    expect(again.status).toBe('rejected');
  });

  it('turns a synchronous throw of a read into rejections', async () => {
    const batcher = new TickBatcher<number>({
      readMany: () => {
        throw new Error('sync');
      },
    });
    await expect(Promise.all([batcher.load('a'), batcher.load('b')])).rejects.toThrow('sync');
  });

  it('with sendAloneWhenIdle, sends a lone key at once and batches the keys that come while it is in flight', async () => {
    const { batcher, reads, singles, release } = recorded({ sendAloneWhenIdle: true });
    const first = batcher.load('a');
    expect(singles).toEqual(['a']); // sent before the tick ends
    const rest = Promise.all([batcher.load('b'), batcher.load('c')]);
    expect(await rest).toEqual([2, 3]);
    expect(reads).toEqual([['b', 'c']]);
    release();
    expect(await first).toBe(1);
    expect(batcher.inFlight).toBe(0);
  });

  it('refuses a maxBatchSize below 1', () => {
    expect(() => new TickBatcher({ readMany: async () => [], maxBatchSize: 0 })).toThrow(RangeError);
  });
});

// Moved from the DynamoDB driver, whose batcher this replaced.
describe('TickBatcher as the DynamoDB driver uses it', () => {
  it('coalesces loads of one turn into one fetch of distinct keys', async () => {
    const fetches: string[][] = [];
    const batcher = new TickBatcher<string | undefined>({
      readMany: async (keys) => {
        fetches.push(keys);
        const found = new Map(keys.filter((k) => k !== 'missing').map((k) => [k, `v:${k}`]));
        return keys.map((k) => found.get(k));
      },
    });
    const values = await Promise.all(['a', 'b', 'a', 'missing'].map((k) => batcher.load(k)));
    expect(values).toEqual(['v:a', 'v:b', 'v:a', undefined]);
    expect(fetches).toEqual([['a', 'b', 'missing']]);
    expect(await batcher.load('c')).toBe('v:c');
    expect(fetches).toHaveLength(2);
  });
  it('rejects every waiter when the fetch fails', async () => {
    const batcher = new TickBatcher<string>({
      readMany: async () => {
        throw new Error('down');
      },
    });
    const results = await Promise.allSettled([batcher.load('a'), batcher.load('b')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
