import { Cache, ConfigError } from '@larder/core';
import { createChaosStore } from '@larder/core/testing';
import { createMemoryStore } from '@larder/memory';
import { Keyv } from 'keyv';
import { Keyv as Keyv6, KeyvBridgeAdapter } from 'keyv6';
import { describe, expect, it } from 'vitest';
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
