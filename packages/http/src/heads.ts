import { decodeHead, type StoredResponse, withBody } from './entry';

/** Most decoded heads a memo keeps; past it, it starts over. */
const MAX_HEADS = 1024;
/** Most bytes of bodies a memo keeps, and the largest body it keeps. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;
const MAX_KEPT_BODY = 1024 * 1024;

/**
 * A stored head as written through a scope: core keeps a tagged value as JSON text, so the head's
 * bytes (entry.ts) go as base64.
 */
export interface WrappedHead {
  t: 'b';
  b: string;
}

/** The value a head's bytes are stored as (see `WrappedHead`). */
export function wrapHead(bytes: Buffer): WrappedHead {
  return { t: 'b', b: bytes.toString('base64') };
}

function isWrapped(value: unknown): value is WrappedHead {
  const wrapped = value as WrappedHead | undefined;
  return typeof wrapped === 'object' && wrapped !== null && wrapped.t === 'b' && typeof wrapped.b === 'string';
}

/** What a memo keeps of the head last read at one key. */
interface Kept {
  /** The head's stored text (base64). */
  text: string;
  head: StoredResponse;
  /** The whole response (head and body), once its body was read. */
  whole?: StoredResponse;
}

/**
 * Decodes stored heads, keeping per key the head last read there: a hit on the same head skips
 * its base64 and its parse. The text is the whole head (its body's random id, freshness and
 * headers), so equal text is an equal head; it is compared, not hashed (a lookup hashes the short
 * key only). A body id names one body's bytes for good, so a head whose whole response was read
 * before answers without its body being read again (`known`). At most 1,024 keys and 16 MiB of
 * bodies (none over 1 MiB); past either it starts over. Answers are shared and never changed (a
 * replay and a refresh copy them).
 */
export class HeadMemo {
  readonly #kept = new Map<string, Kept>();
  #bytes = 0;

  /** The stored response a head value and body value read at `key` make, else `undefined` (as `decodeEntry`). */
  entry(value: unknown, body: unknown, key: string): StoredResponse | undefined {
    if (!isWrapped(value)) {
      const head = decodeHead(value);
      return head && withBody(head, body);
    }
    let kept = this.#kept.get(key);
    if (kept === undefined || kept.text !== value.b) {
      const head = decodeHead(Buffer.from(value.b, 'base64'));
      if (head === undefined) return undefined;
      kept = this.#keep(key, kept, { text: value.b, head });
    }
    const whole = withBody(kept.head, body);
    if (whole !== undefined && kept.whole === undefined) this.#keepWhole(key, kept, whole);
    return whole;
  }

  /** Whether a whole response was read at `key` before: a lookup may read its head alone (`known`). */
  knowsBodyAt(key: string): boolean {
    return this.#kept.get(key)?.whole !== undefined;
  }

  /** The whole response of a head value read at `key` whose body was read before, else `undefined` (read its body). */
  known(value: unknown, key: string): StoredResponse | undefined {
    if (!isWrapped(value)) return undefined;
    const kept = this.#kept.get(key);
    return kept !== undefined && kept.text === value.b ? kept.whole : undefined;
  }

  /** Keeps `kept` at `key` in place of `old` (what the memo held there). */
  #keep(key: string, old: Kept | undefined, kept: Kept): Kept {
    if (old?.whole !== undefined) this.#bytes -= old.whole.body.length;
    if (old === undefined && this.#kept.size >= MAX_HEADS) this.#startOver();
    this.#kept.set(key, kept);
    return kept;
  }

  #keepWhole(key: string, kept: Kept, whole: StoredResponse): void {
    const length = whole.body.length;
    if (length > MAX_KEPT_BODY) return;
    if (this.#bytes + length > MAX_BODY_BYTES) {
      this.#startOver();
      this.#kept.set(key, kept);
    }
    // A body read may be a view into a larger buffer (a client's read chunk): kept as its own copy
    // then, so that the memo holds no more than its bytes (a copy per read would cost more than
    // the memo saves where it does not hold every URL).
    const body = whole.body.buffer.byteLength > 2 * length + 1024 ? Buffer.from(whole.body) : whole.body;
    kept.whole = body === whole.body ? whole : { ...whole, body };
    this.#bytes += length;
  }

  #startOver(): void {
    this.#kept.clear();
    this.#bytes = 0;
  }
}
