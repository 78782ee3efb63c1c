import type { Payload } from '@larder/core/driver';
import type { Redis } from 'ioredis';
import { groupBySlot } from './cluster-slots';
import { exact, payloadOf } from './replies';

/**
 * GET as text (cheaper to decode than bytes), or as bytes with `binary`; `cmd` gives the client for
 * each command. A failure goes through `onError` when given (one promise step for reply and error).
 */
export function getPayload(
  cmd: () => Redis,
  key: string,
  binary: boolean,
  onError?: (error: unknown) => never,
): Promise<Payload | undefined> {
  if (binary) return cmd().getBuffer(key).then(payloadOf, onError);
  return cmd()
    .get(key)
    .then(
      (text) => (text === null ? undefined : (exact(text) ?? cmd().getBuffer(key).then(payloadOf, onError))),
      onError,
    );
}

/** MGET (per slot in Cluster), as text with the same exactness check as `getPayload`; values aligned with `keys`. */
export async function getPayloads(
  c: Redis,
  keys: string[],
  binary: boolean,
  cluster: boolean,
): Promise<(Payload | undefined)[]> {
  const many = (list: string[]): Promise<(string | Buffer | null)[]> => (binary ? c.mgetBuffer(list) : c.mget(list));
  let replies: (string | Buffer | null)[];
  if (!cluster || keys.length === 1) {
    replies = keys.length === 1 ? [await (binary ? c.getBuffer(keys[0]!) : c.get(keys[0]!))] : await many(keys);
  } else {
    const groups = groupBySlot(keys);
    if (groups.size === 1) replies = await many(keys);
    else {
      replies = new Array(keys.length);
      await Promise.all(
        [...groups.values()].map(async (indexes) => {
          const values =
            indexes.length === 1
              ? [await (binary ? c.getBuffer(keys[indexes[0]!]!) : c.get(keys[indexes[0]!]!))]
              : await many(indexes.map((i) => keys[i]!));
          for (let j = 0; j < indexes.length; j++) replies[indexes[j]!] = values[j] ?? null;
        }),
      );
    }
  }
  const out: (Payload | undefined)[] = new Array(keys.length);
  const refetch: number[] = [];
  for (let i = 0; i < keys.length; i++) {
    const reply = replies[i];
    if (reply === null || reply === undefined) out[i] = undefined;
    else if (typeof reply !== 'string') out[i] = reply;
    else {
      const payload = exact(reply);
      if (payload === undefined) refetch.push(i);
      else out[i] = payload;
    }
  }
  if (refetch.length > 0) {
    await Promise.all(
      refetch.map(async (i) => {
        out[i] = payloadOf(await c.getBuffer(keys[i]!));
      }),
    );
  }
  return out;
}
