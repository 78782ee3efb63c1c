import { decodeHead, type StoredResponse, withBody } from './entry';
import { Memo } from './memo';

/** Most decoded heads a memo keeps; past it, it starts over. */
const MAX_HEADS = 1024;

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

/**
 * Decodes stored heads, keeping the last ones decoded by their stored text: a hit on a head read
 * before skips its base64 and its parse. The text is the whole head (its body's id, freshness and
 * headers), so equal text is an equal head. Each answer is a new entry; the memo's headers object
 * is shared, and nothing changes it (a replay and a refresh copy it).
 */
export class HeadMemo {
  readonly #heads = new Memo<string, StoredResponse>(MAX_HEADS);

  /** The stored response a read head value and body value make, else `undefined` (as `decodeEntry`). */
  entry(value: unknown, body: unknown): StoredResponse | undefined {
    const wrapped = value as WrappedHead | undefined;
    if (typeof wrapped !== 'object' || wrapped === null || wrapped.t !== 'b' || typeof wrapped.b !== 'string') {
      const head = decodeHead(value);
      return head && withBody(head, body);
    }
    let head = this.#heads.get(wrapped.b);
    if (head === undefined) {
      const decoded = decodeHead(Buffer.from(wrapped.b, 'base64'));
      if (decoded === undefined) return undefined;
      head = this.#heads.keep(wrapped.b, decoded);
    }
    return withBody(head, body);
  }
}
