/** bentocache as the tags scenario runs it (scenarios/tags.ts): its redis driver, optionally its memory L1 and its bus. */
import type { RedisServer } from '@larder/dev-services';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';

/** A bentocache with one store, `store`. */
export type Bento = BentoCache<Record<string, ReturnType<ReturnType<typeof bentostore>['useL2Layer']>>>;

/** A bentocache on `server`: with a memory L1 of `l1Entries` items (0: none), and with its Redis bus. */
export function bento(server: RedisServer, l1Entries: number, bus: boolean): Bento {
  const connection = { host: server.host, port: server.port };
  let store = bentostore();
  if (l1Entries > 0) store = store.useL1Layer(memoryDriver({ maxItems: l1Entries }));
  let tiered = store.useL2Layer(redisDriver({ connection }));
  if (bus) tiered = tiered.useBus(redisBusDriver({ connection }));
  return new BentoCache({ default: 'store', stores: { store: tiered } }) as unknown as Bento;
}
