import { BackendError } from '@larder/core';
import type { TtlMs } from '@larder/core/driver';
import {
  casOf,
  counterExtras,
  decodeCounter,
  MAX_COUNTER,
  Opcode,
  type Request,
  Status,
  storageExtras,
} from './binary-protocol';
import { toMemcachedKey } from './keys';
import type { Requests } from './requests';
import { toExpiration } from './ttl';

const DRIVER = 'memcached';
const CAS_ATTEMPTS = 500;

/**
 * Exact signed counter arithmetic. A non-negative delta on a non-negative counter is one
 * native binary INCR (atomic, 64-bit exact, keeps the item's expiry; memcached wraps above
 * 2^64 − 1). Memcached counters are unsigned and DECR stops at 0, so a negative delta, or any
 * delta on a negative counter, is an optimistic read-modify-write: get with CAS, then
 * set-with-CAS (or add for a missing key), retried on conflict — still atomic against every
 * other writer. Memcached cannot report an item's remaining TTL over the binary protocol, so
 * such a write gives the counter `ttlMs` (none = no expiry) instead of keeping its expiry.
 */
export async function incrementCounter(requests: Requests, key: string, delta: bigint, ttlMs: TtlMs): Promise<bigint> {
  const magnitude = delta < 0n ? -delta : delta;
  if (magnitude > MAX_COUNTER)
    throw new BackendError(`memcached increment of '${key}': delta out of 64-bit range`, DRIVER);
  const mkey = toMemcachedKey(key);
  if (delta >= 0n) {
    // A missing key is created with `initial` (the delta is not applied to it), so initial = delta.
    const request = { opcode: Opcode.INCREMENT, key: mkey, extras: counterExtras(delta, delta, toExpiration(ttlMs)) };
    const response = await sendCreatingIncrement(requests, 'increment', mkey, request);
    if (response.header.status === Status.OK) return decodeCounter(response.val);
    if (response.header.status !== Status.NON_NUMERIC) throw requests.statusError('increment', response);
  }
  return casIncrement(requests, key, mkey, delta, ttlMs);
}

/** Racing creators: how many times an INCR that lost the creation of its key is sent again. */
const CREATE_RACE_RETRIES = 3;

/**
 * Sends an INCR or DECR that creates a missing key with its initial value. Why the resend:
 * memcached creates the key with an ADD, and when two connections (two of memcached's worker
 * threads) both find it missing, the losing ADD answers NOT_STORED having counted nothing. The
 * key exists now, so the same request sent again counts once.
 */
export async function sendCreatingIncrement(requests: Requests, op: string, mkey: string, request: Request) {
  let response = await requests.send(op, mkey, request, false);
  for (let retry = 0; retry < CREATE_RACE_RETRIES && response.header.status === Status.NOT_STORED; retry++) {
    response = await requests.send(op, mkey, request, false);
  }
  return response;
}

/** The read-modify-write path: get with CAS, then set-with-CAS (add for a missing key), retried on conflict. */
async function casIncrement(
  requests: Requests,
  key: string,
  mkey: string,
  delta: bigint,
  ttlMs: TtlMs,
): Promise<bigint> {
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    if (attempt > 8) await new Promise((resolve) => setTimeout(resolve, Math.random() * attempt));
    const current = await requests.send('increment', mkey, { opcode: Opcode.GET, key: mkey }, true);
    let next: bigint;
    let write: Request;
    if (current.header.status === Status.KEY_NOT_FOUND) {
      next = delta;
      write = {
        opcode: Opcode.ADD,
        key: mkey,
        extras: storageExtras(toExpiration(ttlMs)),
        value: String(next),
      };
    } else if (current.header.status === Status.OK) {
      const text = current.val.toString('latin1');
      if (!/^-?\d{1,20}$/.test(text)) {
        throw new BackendError(`memcached increment of '${key}': the stored value is not an integer`, DRIVER);
      }
      next = BigInt(text) + delta;
      if (next > MAX_COUNTER || next < -MAX_COUNTER) {
        throw new BackendError(`memcached increment of '${key}': result out of 64-bit range`, DRIVER);
      }
      write = {
        opcode: Opcode.SET,
        key: mkey,
        extras: storageExtras(toExpiration(ttlMs)),
        value: String(next),
        cas: casOf(current, `increment of '${key}'`),
      };
    } else {
      throw requests.statusError('increment', current);
    }
    const response = await requests.send('increment', mkey, write, false);
    const { status } = response.header;
    if (status === Status.OK) return next;
    if (status !== Status.KEY_EXISTS && status !== Status.NOT_STORED && status !== Status.KEY_NOT_FOUND) {
      throw requests.statusError('increment', response);
    }
    // Someone wrote in between: read again.
  }
  throw new BackendError(`memcached increment of '${key}': too much contention (${CAS_ATTEMPTS} CAS attempts)`, DRIVER);
}
