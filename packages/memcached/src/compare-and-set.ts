import { BackendError } from '@larder/core';
import type { Payload } from '@larder/core/driver';
import { casOf, Opcode, type Request, Status } from './binary-protocol';
import { type CasMemo, memoCas, memoValue } from './cas-memo';
import type { Requests } from './requests';
import type { Topology } from './topology';

const DRIVER = 'memcached';
const ATTEMPTS = 5;

/**
 * Compare-and-set over the binary protocol's CAS tokens (memjs exposes none: its `get` drops
 * the CAS field and its `set` cannot send one, so the driver frames these itself). With no
 * expected payload it is one ADD (memcached treats an expired item as absent). Otherwise a GET
 * returns the value with its CAS token; if the value equals `expected`, a SET carrying that token
 * writes only if nobody wrote in between. If somebody did, the read is retried (their value may
 * equal `expected` again); a different value is a plain `false`.
 * After a `get` of the key (see cas-memo.ts) whose value equals `expected`, the SET goes first with
 * that get's CAS: one round trip. A `KEY_EXISTS` (written since) falls back to the read loop; so
 * does a memoized value that differs from `expected` (the caller may have read a newer one).
 * `write` is the SET request (key, extras, value) the store built after its size check.
 */
export async function compareAndSet(
  requests: Requests,
  topology: Topology,
  memo: CasMemo,
  mkey: string,
  expected: Payload | undefined,
  write: Request,
): Promise<boolean> {
  if (expected === undefined) {
    memo.drop(mkey);
    const response = await requests.send('compareAndSet', mkey, { ...write, opcode: Opcode.ADD }, false);
    const { status } = response.header;
    if (status === Status.OK) return true;
    if (status === Status.KEY_EXISTS || status === Status.NOT_STORED) return false;
    throw requests.statusError('compareAndSet', response);
  }
  const want = toBuffer(expected);
  const memoized = memo.take(mkey, topology.place(mkey));
  if (memoized && memoValue(memoized).equals(want)) {
    // Sent in this tick, right after `take` checked that the connection the CAS came from is open.
    const response = await requests.send('compareAndSet', mkey, { ...write, cas: memoCas(memoized) }, false);
    const { status } = response.header;
    if (status === Status.OK) return true;
    if (status === Status.KEY_NOT_FOUND) return false;
    if (status !== Status.KEY_EXISTS) throw requests.statusError('compareAndSet', response);
    // Written since that get: read it now.
  }
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const current = await requests.send('compareAndSet', mkey, { opcode: Opcode.GET, key: mkey }, true);
    if (current.header.status === Status.KEY_NOT_FOUND) return false;
    if (current.header.status !== Status.OK) throw requests.statusError('compareAndSet', current);
    if (!current.val.equals(want)) return false;
    const response = await requests.send(
      'compareAndSet',
      mkey,
      { ...write, cas: casOf(current, `compareAndSet of '${mkey}'`) },
      false,
    );
    const { status } = response.header;
    if (status === Status.OK) return true;
    if (status === Status.KEY_NOT_FOUND) return false;
    if (status !== Status.KEY_EXISTS) throw requests.statusError('compareAndSet', response);
    // Written in between: read again.
  }
  throw new BackendError(`memcached compareAndSet of '${mkey}': the value kept changing`, DRIVER);
}

function toBuffer(payload: Payload): Buffer {
  if (typeof payload === 'string') return Buffer.from(payload);
  return Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
}
