import { ownedBytes } from '@larder/core/driver';
import { decodeEntry, type StoredResponse } from './entry';
import { MemoPause } from './memo';

/** Most keys a memo keeps; past it, it starts over. */
const MAX_HEADS = 1024;
/** Most bytes of bodies a memo keeps, and the largest body it keeps. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;
const MAX_KEPT_BODY = 1024 * 1024;

/**
 * Whole responses (head and body) by key and head: a body id names one body's bytes for good, so
 * a head read again at a key whose whole response was read before answers without its body being
 * read or copied again (`known`). A head's `n` is unique to its write, so an equal `n` is an equal
 * head. At most 1,024 keys and 16 MiB of bodies (none over 1 MiB); past either it starts over.
 * When a fill of it answered fewer than 1 lookup in 8 (more URLs in turn than it keeps), it is
 * left out for the next 16,384 lookups: keeping what is not read again costs more than it saves.
 * Answers are shared and never changed (a replay and a refresh copy them).
 */
export class HeadMemo {
  readonly #kept = new Map<string, { n: string; whole: StoredResponse }>();
  #bytes = 0;
  readonly #pause = new MemoPause(16 * MAX_HEADS);

  /** The stored response a head value and body value read at `key` make, else `undefined` (as `decodeEntry`). */
  entry(value: unknown, body: unknown, key: string): StoredResponse | undefined {
    const whole = decodeEntry(value, body);
    if (this.#pause.skip()) return whole;
    this.#pause.asked(false);
    if (whole === undefined) this.#forget(key);
    else this.#keep(key, (value as { n: string }).n, whole);
    return whole;
  }

  /** Whether a whole response was read at `key` before: a lookup may read its head alone (`known`). */
  knowsBodyAt(key: string): boolean {
    return !this.#pause.paused && this.#kept.has(key);
  }

  /** The whole response of a head value read at `key` whose body was read before, else `undefined` (read its body). */
  known(value: unknown, key: string): StoredResponse | undefined {
    const kept = this.#kept.get(key);
    // An equal `n` is the head read whole before, its fields checked then.
    if (kept === undefined || (value as { n?: unknown } | undefined)?.n !== kept.n) return undefined;
    this.#pause.asked(true);
    return kept.whole;
  }

  #forget(key: string): void {
    const kept = this.#kept.get(key);
    if (kept === undefined) return;
    this.#bytes -= kept.whole.body.length;
    this.#kept.delete(key);
  }

  #keep(key: string, n: string, whole: StoredResponse): void {
    this.#forget(key);
    const length = whole.body.length;
    if (length > MAX_KEPT_BODY) return;
    if (this.#kept.size >= MAX_HEADS || this.#bytes + length > MAX_BODY_BYTES) this.#startOver();
    if (this.#pause.paused) return;
    // A body read may be a view into a larger buffer (a client's read chunk): kept as its own copy
    // then, so that the memo holds no more than its bytes (`ownedBytes`: `Buffer.from` would take
    // a small one from Node's 8 KB pool, and hold that slab instead).
    const body = whole.body.buffer.byteLength > 2 * length + 1024 ? (ownedBytes(whole.body) as Buffer) : whole.body;
    this.#kept.set(key, { n, whole: body === whole.body ? whole : { ...whole, body } });
    this.#bytes += length;
  }

  #startOver(): void {
    // Judged on a full fill of keys only (a start over for bytes may follow a few lookups).
    this.#pause.startOver(MAX_HEADS);
    this.#kept.clear();
    this.#bytes = 0;
  }
}
