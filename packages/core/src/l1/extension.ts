import type { Payload } from '../contract/store';
import { metaOf } from '../values/entry-format';
import type { L1Entry } from './entries';

// A life extension (`remember`'s `notModified()`): the store keeps the value's bytes and gets a new
// expiry (the header's and the graced entry's bound rewritten, nothing else), and every L1 that
// holds the value keeps its copy with the new life instead of dropping it and reading the value
// again. The writer announces a hint key on the channel naming the key, the value's write time and
// the new bounds (`<root>life:<written>.<expires>.<fresh until>:<full key>`, base 36; on the key's
// Cluster slot: see `hintKey`):
// - on the bus, after its compare-and-set succeeded, instead of the key's invalidation: an L1
//   whose copy was written at that time adopts the new life at once. A later write of the key by
//   anyone is published after it and drops the copy; an earlier one made the compare fail (no hint).
// - with tracking, before its compare-and-set (awaited), since the server itself reports the
//   rewrite to every L1 as an invalidation of the key, which cannot tell it from another writer's
//   write in the same broadcast: an L1 that heard the hint treats the key's next invalidation as
//   perhaps the extension's, takes its copy out (not served) and reads the key's header alone (the
//   store's `head`, a few dozen bytes): the same write time and the announced expiry mean the
//   stored value is its copy's, extended; anything else drops it. Every invalidation of the key
//   while the hint is recent starts the check again (the one in flight is void): with replicas each
//   node reports the rewrite, and each check reads the store after the invalidation it answers.

/** The bounds an extension gives a value: its write time (its identity), the store's new expiry, its new logical expiry. */
export interface ExtendedLife {
  /** When the value was written (the header's write time, kept by the extension). */
  readonly writtenAt: number;
  /** When the store drops it now (epoch ms, the header's new expiry). */
  readonly expiresAt: number;
  /** The graced entry's new logical expiry (epoch ms). */
  readonly freshUntil: number;
}

/** What the extensions need of their L1 (`L1Tier`), whose read tokens are `T` (`L1Token`: a type parameter, so this file imports nothing of the tier). */
export interface ExtensionHost<T extends { readonly key: string }> {
  /** The L1's entries (`peek`: as held; `replace`: in place). */
  readonly entries: {
    peek(full: string): L1Entry | undefined;
    replace(full: string, entry: L1Entry): void;
  };
  /** Drops `full` and cancels a read of it in flight. */
  invalidate(full: string): void;
  /** Registers a read of `full` before the store call; `undefined` when nothing will be kept. */
  begin(full: string): T | undefined;
  /** Keeps `entry` for the read `token` registered, only if no invalidation, write or flush of its key came since. */
  keep(token: T, entry: L1Entry): void;
  /** Keeps what the read `token` registered found (`L1Tier.fill`; no payload: nothing). */
  fill(
    token: T,
    payload: Payload | undefined,
    decoded: unknown,
    life?: { readonly expiresAt: number | undefined; readonly writtenAt: number | undefined },
  ): void;
}

const HINT = 'life:';
const RADIX = 36;
/** How long a heard hint stands for its key's invalidations (tracking): the rewrite follows it at once, replicas' reports of it soon after. */
const EXPECTED_MS = 5_000;
/** At most this many hints wait (a burst of extensions never grows the map without bound). */
const MAX_EXPECTED = 4_096;

/**
 * The hint key of an extension of `full`. On a Redis Cluster it must live on `full`'s slot: each
 * node reports to an L1 on its own connection, and a master writes the writer's reply to the hint
 * before its reports of it, so the key's rewrite (sent on that reply) could be reported by the
 * key's node before a stalled hint node's report; the L1 would then drop its copy. On one node
 * the reports keep the writes' order on one connection. So when the plain key routes elsewhere,
 * the hint carries `full`'s hash tag (`<bounds>{<tag>}<full key>` in place of
 * `<bounds>:<full key>`); a key whose hashed part holds a `}` cannot be tagged and keeps the plain
 * form.
 */
export function hintKey(root: string, full: string, life: ExtendedLife): string {
  const bounds = [life.writtenAt, life.expiresAt, life.freshUntil].map((ms) => ms.toString(RADIX)).join('.');
  const plain = `${root}${HINT}${bounds}:${full}`;
  const hashed = hashedPart(full);
  if (hashedPart(plain) === hashed || hashed.includes('}')) return plain;
  const tagged = `${root}${HINT}${bounds}{${hashed}}${full}`;
  return hashedPart(tagged) === hashed ? tagged : plain;
}

/** The part of `key` Redis Cluster hashes: its first `{tag}` when not empty, else the whole key. */
function hashedPart(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

/** The key and bounds a hint key names, `undefined` when `key` is none (or malformed). */
export function parseHint(root: string, key: string): { full: string; life: ExtendedLife } | undefined {
  if (!key.startsWith(HINT, root.length)) return undefined;
  const start = root.length + HINT.length;
  // The bounds (base 36 and dots) end at `:` (plain) or at the `{tag}` before the key.
  const end = key.slice(start).search(/[:{]/) + start;
  if (end < start) return undefined;
  const close = key[end] === '{' ? key.indexOf('}', end) : end;
  if (close < 0) return undefined;
  const [writtenAt, expiresAt, freshUntil] = key
    .slice(start, end)
    .split('.')
    .map((part) => Number.parseInt(part, RADIX));
  if (![writtenAt, expiresAt, freshUntil].every((ms) => Number.isFinite(ms))) return undefined;
  return {
    full: key.slice(close + 1),
    life: { writtenAt, expiresAt, freshUntil } as ExtendedLife,
  };
}

/**
 * The extensions an L1 hears and announces (see above). `announce` tells every instance of a key
 * (the fleet's: published on the bus, written to the store with tracking); `head` reads a key's
 * first bytes (tracking only; without it an L1 drops its copy as for any write).
 */
export class L1Extensions<T extends { readonly key: string }> {
  /** Hints heard (tracking), by full key: the bounds, when heard. */
  readonly #expected = new Map<string, { life: ExtendedLife; at: number }>();
  /** The copies taken out for a check in flight, by full key. */
  readonly #checking = new Map<string, { writtenAt: number; again: () => void }>();

  constructor(
    readonly host: ExtensionHost<T>,
    readonly root: string,
    readonly tracking: boolean,
    readonly announce: (key: string) => Promise<void>,
    readonly head: ((full: string) => Promise<Payload | undefined>) | undefined,
    /** How much earlier than asked the store may drop an entry (see `ReadThrough`). */
    readonly slackMs: number,
    readonly ttlMs: number,
  ) {}

  /** Before the store rewrites `full` with `life`: with tracking, the hint is announced first (awaited; a failure only costs the re-reads). */
  async before(full: string, life: ExtendedLife): Promise<void> {
    // Without `head` no L1 of this store can check the rewrite: each drops its copy as for any write.
    if (!this.tracking || this.head === undefined) return;
    await this.announce(hintKey(this.root, full, life)).catch(() => undefined);
  }

  /**
   * The store took the extension as `stored` (`decoded`): on the bus, the hint is published (in
   * place of the key's invalidation). With tracking, the server may report the rewrite to this
   * process too (a script's write reaches its own connection despite NOLOOP; replicas report it
   * from their links), checked as elsewhere; a copy not kept (`readers` tracking keeps no write of
   * its own, a replica's report came before the write's reply) is kept after a header check, a
   * read that registers the key with `readers` tracking as any read does.
   */
  after(full: string, life: ExtendedLife, stored: Payload, decoded: unknown): void {
    if (!this.tracking) {
      this.announce(hintKey(this.root, full, life)).catch(() => undefined);
      return;
    }
    this.#expect(full, life);
    if (this.head === undefined || this.host.entries.peek(full) !== undefined) return;
    const fill = { expiresAt: life.expiresAt - this.slackMs, writtenAt: life.writtenAt };
    this.#check(full, life, (token) => this.host.fill(token, stored, decoded, fill));
  }

  /** A fleet key heard on the channel: true when it was a hint (handled). */
  heard(key: string): boolean {
    const hint = parseHint(this.root, key);
    if (hint === undefined) return false;
    const { full, life } = hint;
    const entry = this.host.entries.peek(full);
    if (entry === undefined || entry.writtenAt !== life.writtenAt) return true;
    if (!this.tracking) {
      // The bus: the key was rewritten with this life already (see above); its copy is the value.
      this.host.entries.replace(full, this.extended(entry, life));
      return true;
    }
    this.#expect(full, life);
    return true;
  }

  #expect(full: string, life: ExtendedLife): void {
    if (this.#expected.size >= MAX_EXPECTED) {
      this.#expected.clear();
      this.#checking.clear();
    }
    this.#expected.set(full, { life, at: Date.now() });
  }

  /**
   * An invalidation of `full` heard (tracking): true when it may be an announced extension, whose
   * check (the key's header read) then decides whether the copy is kept; false: drop as usual.
   */
  echoed(full: string): boolean {
    const expected = this.#expected.get(full);
    if (expected === undefined) return false;
    const head = this.head;
    if (head === undefined || Date.now() - expected.at > EXPECTED_MS) {
      this.#expected.delete(full);
      return false;
    }
    const { life } = expected;
    // The copy the hint names (by its write time: a hit may have replaced the entry by its decoded copy).
    const entry = this.host.entries.peek(full);
    if (entry?.writtenAt === life.writtenAt) {
      this.#check(full, life, (token) => this.host.keep(token, this.extended(entry, life)));
      return true;
    }
    // Out for a check: checked again, after this report.
    const checking = this.#checking.get(full);
    if (checking?.writtenAt !== life.writtenAt) return false;
    checking.again();
    return true;
  }

  /**
   * Takes `full` out (not served), reads its header, and `keep`s it on a match; any invalidation
   * meanwhile voids the check (its read token), and a report of the key while it runs starts it again.
   */
  #check(full: string, life: ExtendedLife, keep: (token: T) => void): void {
    this.host.invalidate(full);
    const token = this.host.begin(full);
    if (token === undefined) return;
    const check = { writtenAt: life.writtenAt, again: () => this.#check(full, life, keep) };
    this.#checking.set(full, check);
    const drop = () => this.host.fill(token, undefined, undefined); // not kept: the next read goes to the store
    (this.head as NonNullable<typeof this.head>)(full)
      .then((bytes) => (matches(bytes, life) ? keep(token) : drop()), drop)
      .finally(() => {
        if (this.#checking.get(full) === check) this.#checking.delete(full);
      });
  }

  /** `entry` with the new life: kept until the new expiry (within the L1 TTL), fresh until the new logical expiry. */
  extended(entry: L1Entry, life: ExtendedLife): L1Entry {
    const expiresAt = Math.min(life.expiresAt - this.slackMs, Date.now() + this.ttlMs);
    return { ...entry, expiresAt, freshUntil: life.freshUntil };
  }
}

/** Whether a key's first bytes (`head`) show the value written at `life.writtenAt`, extended to `life.expiresAt`. */
function matches(bytes: Payload | undefined, life: ExtendedLife): boolean {
  const meta = bytes === undefined ? undefined : metaOf(bytes);
  return meta?.writtenAt === life.writtenAt && meta.expiresAt === life.expiresAt;
}
