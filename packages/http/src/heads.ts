import { decodeHead, type StoredResponse, withBody } from './entry';
import { Memo } from './memo';

/** Most decoded heads a memo keeps; past it, it starts over. */
const MAX_HEADS = 1024;
/** Most bytes of bodies a memo keeps (and the largest body it keeps); past it, it starts over. */
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

/**
 * Decodes stored heads, keeping the last ones decoded by their stored text: a hit on a head read
 * before skips its base64 and its parse. The text is the whole head (its body's random id,
 * freshness and headers), so equal text is an equal head; and a body id names one body's bytes
 * for good, so a head whose whole response was read before answers without its body being read
 * again (`known`). Answers are shared and never changed (a replay and a refresh copy them).
 */
export class HeadMemo {
  readonly #heads = new Memo<string, StoredResponse>(MAX_HEADS);
  /** Whole responses (head and body) by head text, within MAX_BODY_BYTES. */
  readonly #whole = new Map<string, StoredResponse>();
  /** The head text last read whole at each key. */
  readonly #lastAt = new Map<string, string>();
  #bytes = 0;

  /** The stored response a read head value and body value make, else `undefined` (as `decodeEntry`); `key`: where they were read. */
  entry(value: unknown, body: unknown, key?: string): StoredResponse | undefined {
    if (!isWrapped(value)) {
      const head = decodeHead(value);
      return head && withBody(head, body);
    }
    let head = this.#heads.get(value.b);
    if (head === undefined) {
      const decoded = decodeHead(Buffer.from(value.b, 'base64'));
      if (decoded === undefined) return undefined;
      head = this.#heads.keep(value.b, decoded);
    }
    const whole = withBody(head, body);
    if (whole !== undefined && key !== undefined) this.#keep(key, value.b, whole);
    return whole;
  }

  /** Whether a whole response was read at `key` before: a lookup may read its head alone (`known`). */
  knowsBodyAt(key: string): boolean {
    return this.#lastAt.has(key);
  }

  /** The whole response of a head value whose body was read before, else `undefined` (read its body). */
  known(value: unknown): StoredResponse | undefined {
    return isWrapped(value) ? this.#whole.get(value.b) : undefined;
  }

  #keep(key: string, text: string, whole: StoredResponse): void {
    if (this.#whole.has(text)) return void this.#lastAt.set(key, text);
    const bytes = whole.body.length + text.length;
    if (whole.body.length > MAX_KEPT_BODY) return;
    if (this.#bytes + bytes > MAX_BODY_BYTES || this.#whole.size >= MAX_HEADS || this.#lastAt.size >= MAX_HEADS) {
      this.#whole.clear();
      this.#lastAt.clear();
      this.#bytes = 0;
    }
    // A body read may be a view into a larger buffer (a client's read chunk): kept as its own copy
    // then, so that the memo holds no more than its bytes (a copy per read would cost more than
    // the memo saves where it does not hold every URL).
    const body = whole.body.buffer.byteLength > 2 * whole.body.length + 1024 ? Buffer.from(whole.body) : whole.body;
    this.#whole.set(text, body === whole.body ? whole : { ...whole, body });
    this.#lastAt.set(key, text);
    this.#bytes += bytes;
  }
}
