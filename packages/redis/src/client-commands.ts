import { type Payload, TickBatcher } from '@larder/core';
import type { Redis } from 'ioredis';
import { Corker } from './cork';
import type { RedisClient, ResolvedRedisOptions } from './options';
import { getPayload, getPayloads } from './read-commands';

/** Largest number of keys sent in one MGET by the get batcher. */
const MAX_BATCH_KEYS = 512;

/**
 * The store's way to each client (primary or replica): commands corked into one socket write per
 * turn (`coalesceWrites`, not in Cluster) and gets of one tick batched into MGETs (`batchGets`).
 */
export class ClientCommands {
  private readonly corker = new Corker();
  private readonly corkers = new Map<RedisClient, Corker>();
  private readonly batchers = new Map<RedisClient, TickBatcher<Payload | undefined>>();

  constructor(
    private readonly primary: RedisClient,
    private readonly options: ResolvedRedisOptions,
    private readonly cluster: boolean,
  ) {}

  /** The client's commands, joined into one socket write per event-loop turn (`coalesceWrites`). */
  cmd(client: RedisClient): Redis {
    if (this.options.coalesceWrites && !this.cluster) {
      let corker = client === this.primary ? this.corker : this.corkers.get(client);
      if (!corker) {
        corker = new Corker();
        this.corkers.set(client, corker);
      }
      corker.cork(client as Redis);
    }
    return client as Redis;
  }

  // Gets of one tick share an MGET; a lone get while the connection is idle goes out at once.
  private batcher(client: RedisClient): TickBatcher<Payload | undefined> {
    let batcher = this.batchers.get(client);
    if (!batcher) {
      batcher = new TickBatcher({
        readOne: (key) => this.fetchOne(client, key),
        readMany: (keys) => this.getMany(client, keys),
        maxBatchSize: MAX_BATCH_KEYS,
        sendAloneWhenIdle: true,
        // MGET answers repeated keys; skipping the duplicate check keeps 64 in flight as fast as before.
        dedupe: false,
      });
      this.batchers.set(client, batcher);
    }
    return batcher;
  }

  /** GET of `key` on `client`: batched with the tick's other gets (`batchGets`), else alone. */
  get(client: RedisClient, key: string): Promise<Payload | undefined> {
    return this.options.batchGets ? this.batcher(client).load(key) : this.fetchOne(client, key);
  }

  private fetchOne(client: RedisClient, key: string): Promise<Payload | undefined> {
    return getPayload(() => this.cmd(client), key, this.options.binaryReplies);
  }

  /** MGET of `keys` on `client` (per slot in Cluster), values aligned with them. */
  getMany(client: RedisClient, keys: string[]): Promise<(Payload | undefined)[]> {
    return getPayloads(this.cmd(client), keys, this.options.binaryReplies, this.cluster);
  }
}
