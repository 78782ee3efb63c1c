import { ENTRY_FORMAT, type Payload } from '@larder/core/driver';
import type { Redis } from 'ioredis';
import { groupBySlot } from './cluster-slots';
import { sendText } from './ioredis-internals';
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
  return getText(cmd(), key).then(
    (text) => (text === null ? undefined : (exact(text) ?? cmd().getBuffer(key).then(payloadOf, onError))),
    onError,
  );
}

/** GET as text, sent as built (`sendText`: ioredis' own path copies the arguments and builds options per call). */
function getText(c: Redis, key: string): Promise<string | null> {
  return sendText(c, 'get', [key]) as Promise<string | null>;
}

/** GETRANGE of a payload's first bytes, its metadata header (`CacheStore.head`); `undefined` when absent. */
export function getHead(c: Redis, key: string, onError: (error: unknown) => never): Promise<Payload | undefined> {
  return c.getrange(key, 0, ENTRY_FORMAT.MAX_HEADER).then((text) => (text === '' ? undefined : text), onError);
}

/** MGET (per slot in Cluster), as text with the same exactness check as `getPayload`; values aligned with `keys`. */
export function getPayloads(
  c: Redis,
  keys: string[],
  binary: boolean,
  cluster: boolean,
): Promise<(Payload | undefined)[]> {
  const toPayloads = (replies: (string | Buffer | null)[]) => payloadsOf(c, keys, replies);
  if (cluster && keys.length > 1) return clusterReplies(c, keys, binary).then(toPayloads);
  // One node: promise steps only, no async layers on a read path.
  if (keys.length === 1)
    return (binary ? c.getBuffer(keys[0]!) : getText(c, keys[0]!)).then((one) => toPayloads([one]));
  // As text, the keys go out as they are (`sendText`: ioredis' own path copies them).
  return (binary ? c.mgetBuffer(keys) : (sendText(c, 'mget', keys) as Promise<(string | null)[]>)).then(toPayloads);
}

/** MGET per slot, in parallel (a lone key of its slot: GET); replies aligned with `keys`. */
async function clusterReplies(c: Redis, keys: string[], binary: boolean): Promise<(string | Buffer | null)[]> {
  const many = (list: string[]): Promise<(string | Buffer | null)[]> => (binary ? c.mgetBuffer(list) : c.mget(list));
  const groups = groupBySlot(keys);
  if (groups.size === 1) return many(keys);
  const replies: (string | Buffer | null)[] = new Array(keys.length);
  await Promise.all(
    [...groups.values()].map(async (indexes) => {
      const values =
        indexes.length === 1
          ? [await (binary ? c.getBuffer(keys[indexes[0]!]!) : c.get(keys[indexes[0]!]!))]
          : await many(indexes.map((i) => keys[i]!));
      for (let j = 0; j < indexes.length; j++) replies[indexes[j]!] = values[j] ?? null;
    }),
  );
  return replies;
}

/** Replies as payloads; a text that is not exact is read again as bytes (only then a promise). */
function payloadsOf(
  c: Redis,
  keys: string[],
  replies: (string | Buffer | null)[],
): (Payload | undefined)[] | Promise<(Payload | undefined)[]> {
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
  if (refetch.length === 0) return out;
  return Promise.all(
    refetch.map(async (i) => {
      out[i] = payloadOf(await c.getBuffer(keys[i]!));
    }),
  ).then(() => out);
}
