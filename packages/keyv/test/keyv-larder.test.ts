import { Cache, ConfigError, InvalidTtlError } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { createMemoryStore } from '@larder/memory';
import { Keyv } from 'keyv';
import { Keyv as Keyv6, KeyvBridgeAdapter } from 'keyv6';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createKeyv, KeyvLarder } from '../src/index';

const cache = () => new Cache({ store: createMemoryStore(), prefix: 'unit:' });

describe('KeyvLarder: the two Keyv contracts', () => {
  it("Keyv 5 wires the adapter's iterator (a dialect on Keyv 5's list; new Keyv() does not throw)", () => {
    const keyv = new Keyv(new KeyvLarder(cache()));
    expect(typeof keyv.iterator).toBe('function');
  });

  it('Keyv 6 uses a contract-6 adapter directly, and bridges a contract-5 one', () => {
    const direct = new KeyvLarder(cache(), { contract: 6 });
    expect(new Keyv6({ store: direct }).store).toBe(direct);
    expect(new Keyv6({ store: new KeyvLarder(cache()) }).store).toBeInstanceOf(KeyvBridgeAdapter);
  });

  it('contract 6 takes an absolute expiry: a past one deletes, a future one stores until then', async () => {
    const c = cache();
    const adapter = new KeyvLarder(c, { contract: 6 });
    await adapter.set('k', 'v', Date.now() + 60_000);
    expect(await adapter.get('k')).toBe('v');
    await adapter.set('k', 'v', Date.now() - 1);
    expect(await adapter.has('k')).toBe(false);
  });

  it('refuses bad options with typed errors', () => {
    expect(() => new KeyvLarder(cache(), { contract: 7 as never })).toThrow(ConfigError);
    expect(() => new KeyvLarder(cache(), { generationMaxAge: 'soon' as never })).toThrow(InvalidTtlError);
  });

  it("under onError 'miss', the Cache's errors reach Keyv's error listeners; disconnect stops that", async () => {
    const store = createChaosStore().fail({ ops: ['get'] });
    const failing = new Cache({ store, prefix: 'miss:', onError: 'miss' });
    const errors: unknown[] = [];
    const keyv = createKeyv(failing, { onError: (error) => errors.push(error) });
    expect(await keyv.get('k')).toBeUndefined();
    expect(errors).toHaveLength(1);
    expect((errors[0] as { code?: string }).code).toBe('E_BACKEND');
    await keyv.disconnect();
    await keyv.get('k');
    expect(errors).toHaveLength(1);
  });
});

describe('KeyvLarder: the generation fallback (a cache that cannot tag, on a store that cannot clear)', () => {
  const textCodec = {
    encode: (value: unknown) => JSON.stringify(value),
    decode: (payload: unknown) => JSON.parse(String(payload)),
  };
  // Every codec's entries carry tags now: a cache that cannot tag is simulated (its scopes' taggable() false).
  const scope = Cache.prototype.scope;
  beforeEach(() => {
    vi.spyOn(Cache.prototype, 'scope').mockImplementation(function (this: Cache, name: string) {
      return Object.assign(scope.call(this, name), { taggable: async () => false });
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("does not read the generation token while the cache's breaker has the store down", async () => {
    const store = createChaosStore({ without: ['clear'] });
    const tokenReads: string[] = [];
    const get = store.get.bind(store);
    store.get = (key) => {
      if (key.endsWith(':generation')) tokenReads.push(key);
      return get(key);
    };
    const c = new Cache({ store, prefix: 'gen:', codec: textCodec, breaker: true, timeout: 200 });
    const keyv = new KeyvLarder(c, { namespace: 'ns', generationMaxAge: 1 });
    await keyv.set('k', 'v');
    expect(await keyv.get('k')).toBe('v');
    // Read again once older than generationMaxAge (1 ms): set and get may fall in different milliseconds.
    expect(new Set(tokenReads)).toEqual(new Set(['gen:ns:generation']));
    store.fail({ ops: ['get', 'getMany', 'set'] });
    for (let i = 0; i < 3; i++) await keyv.get('k').catch(() => undefined);
    expect(c.health().state).toBe('down');
    tokenReads.length = 0;
    await new Promise((resolve) => setTimeout(resolve, 5)); // past generationMaxAge: a token read would be due
    await expect(keyv.get('k')).rejects.toThrow(/breaker open/);
    expect(tokenReads).toEqual([]);
  });
});
