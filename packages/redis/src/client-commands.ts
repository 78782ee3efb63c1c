import { type Payload, TickBatcher } from '@larder/core/driver';
import type { Redis } from 'ioredis';
import { Corker } from './cork';
import { probeIoredis } from './ioredis-internals';
import type { RedisClient, ResolvedRedisOptions } from './options';
import { getHead, getPayload, getPayloads } from './read-commands';

/** Largest number of keys sent in one MGET by the get batcher. */
const MAX_BATCH_KEYS = 512;

/** One client's way out: its corker, its `cmd` and its get batcher (made on first use). */
interface Lane {
  readonly cmd: () => Redis;
  /** Writes what the corker holds now (nothing without one). */
  readonly sendNow: () => void;
  batcher?: TickBatcher<Payload | undefined>;
}

/**
 * The store's way to each client (primary or replica): commands corked into one socket write per
 * turn (`coalesceWrites`, not in Cluster) and gets of one tick batched into MGETs (`batchGets`).
 * A get on the primary settles with the store's error (`failGet`), in the same promise step as
 * its reply is checked; on a replica with the client's own (the store may retry it on the primary).
 */
export class ClientCommands {
  private readonly primaryLane: Lane;
  private readonly lanes = new Map<RedisClient, Lane>();
  /** Runs before each command to the primary (see `beforePrimaryCommand`). */
  private beforePrimary: (() => void) | undefined;

  constructor(
    private readonly primary: RedisClient,
    private readonly options: ResolvedRedisOptions,
    private readonly cluster: boolean,
    private readonly failGet: (error: unknown) => never,
  ) {
    const lane = this.newLane(primary);
    this.primaryLane = {
      cmd: () => {
        this.beforePrimary?.();
        return lane.cmd();
      },
      sendNow: lane.sendNow,
    };
  }

  /** The client's commands, joined into one socket write per event-loop turn (`coalesceWrites`). */
  cmd(client: RedisClient): Redis {
    return this.lane(client).cmd();
  }

  /** Writes the client's commands sent so far in this turn now, not at its end (`coalesceWrites`; a batch already joined, see tag-write-batch.ts). */
  sendNow(client: RedisClient): void {
    this.lane(client).sendNow();
  }

  /**
   * Runs `flush` before each command to the primary goes out: the tagged writes a batch holds
   * (tag-write-batch.ts) then go out first, so no command sent later overtakes them.
   */
  beforePrimaryCommand(flush: () => void): void {
    this.beforePrimary = flush;
  }

  /** GET of `key` on `client`: batched with the tick's other gets (`batchGets`), else alone. */
  get(client: RedisClient, key: string): Promise<Payload | undefined> {
    const lane = this.lane(client);
    if (!this.options.batchGets) return this.fetchOne(lane, client, key);
    lane.batcher ??= this.newBatcher(lane, client);
    return lane.batcher.load(key);
  }

  /** The first bytes of `key`'s payload (its metadata header) on the primary, failing with the store's error (`CacheStore.head`). */
  head(key: string): Promise<Payload | undefined> {
    return getHead(this.primaryLane.cmd(), key, this.failGet);
  }

  /** MGET of `keys` on `client` (per slot in Cluster), values aligned with them. */
  getMany(client: RedisClient, keys: string[]): Promise<(Payload | undefined)[]> {
    return getPayloads(this.cmd(client), keys, this.options.binaryReplies, this.cluster);
  }

  private lane(client: RedisClient): Lane {
    if (client === this.primary) return this.primaryLane;
    let lane = this.lanes.get(client);
    if (!lane) {
      lane = this.newLane(client);
      this.lanes.set(client, lane);
    }
    return lane;
  }

  private newLane(client: RedisClient): Lane {
    if (!this.options.coalesceWrites || this.cluster || !probeIoredis().corking)
      return { cmd: () => client as Redis, sendNow: () => {} };
    const corker = new Corker();
    return {
      cmd: () => {
        corker.cork(client as Redis);
        return client as Redis;
      },
      sendNow: () => corker.flush(),
    };
  }

  // Gets of one tick share an MGET; a lone get while the connection is idle goes out at once.
  private newBatcher(lane: Lane, client: RedisClient): TickBatcher<Payload | undefined> {
    const primary = client === this.primary;
    return new TickBatcher({
      readOne: (key) => this.fetchOne(lane, client, key),
      readMany: primary
        ? (keys) => this.getMany(client, keys).catch(this.failGet)
        : (keys) => this.getMany(client, keys),
      maxBatchSize: MAX_BATCH_KEYS,
      sendAloneWhenIdle: true,
      // MGET answers repeated keys; skipping the duplicate check keeps 64 in flight as fast as before.
      dedupe: false,
    });
  }

  private fetchOne(lane: Lane, client: RedisClient, key: string): Promise<Payload | undefined> {
    return getPayload(lane.cmd, key, this.options.binaryReplies, client === this.primary ? this.failGet : undefined);
  }
}
