import type { CacheStore, Payload, TtlMs } from '../contract/store';
import type { PreparedTags } from '../tags/prepared-tags';
import { sectionBytesBound } from '../values/entry-format';
import { type Binding, limit } from './binding';
import type { Engine } from './engine';
import type { View } from './view';

// The engine's one write path, the twin of the read-through path (docs/architecture.md "Writes:
// one write path"): every write of entries (`set`, `forever`, `add`, `setMany`, `compareAndSet`,
// `remember`'s store) goes through `write`, which owns the tagged prologue, the L1's write
// protocol, the store call under the timeout and the `write` events. An operation says what it
// sends and how it fails; nothing else.

/** One key of a write: the caller's key, its full key, the value and its payload (encoded; `write` adds the tag section). */
export interface EntryWrite {
  readonly key: string;
  readonly full: string;
  readonly value: unknown;
  payload: Payload;
}

/** What an operation hands the write path. */
export interface WriteRequest<F> {
  /** The facade operation: names the timeout's error. */
  readonly operation: string;
  readonly entries: readonly EntryWrite[];
  /** How long the store keeps the entries (`undefined`: no expiry); bounds the L1's copies. */
  readonly storeTtlMs: TtlMs;
  /** Tags the entries carry: their versions are read here, before anything is sent... */
  readonly tags?: readonly string[] | undefined;
  /** ...or were read already (`remember` reads them before its loader runs). */
  readonly tagged?: PreparedTags | undefined;
  /** `send` is a plain `set` of the entries: a lone tagged one may go with its tags' versions in one store call (`setTagged`). */
  readonly plain?: boolean;
  /** The store call: true when the store took the entries (false: `add` found the key, a compare failed). */
  readonly send: (store: CacheStore, entries: readonly EntryWrite[]) => Promise<boolean>;
  /** The operation's failure policy for a failed store call (reading the tags' versions or the write): its answer is the write's. */
  readonly failed: (error: unknown) => F;
}

/**
 * The versions of `tags` for a write of `fulls`, read before the write is sent (and before
 * `remember`'s loader runs): an invalidation after this read wins over the write.
 */
export function tagVersions(
  binding: Binding,
  tags: readonly string[],
  storeTtlMs: TtlMs,
  fulls: readonly string[],
): Promise<PreparedTags> {
  return binding.tags.prepare(tags, storeTtlMs, binding.reads.tagEpoch(), fulls);
}

/** The pinned versions (a scope's `pin`) with those of the write's other tags, read now. */
async function withPinned(
  binding: Binding,
  pinned: PreparedTags,
  tags: readonly string[],
  storeTtlMs: TtlMs,
  entries: readonly EntryWrite[],
): Promise<PreparedTags> {
  const fresh = tags.filter((tag) => !pinned.stamp.tags.includes(tag));
  if (fresh.length === 0) return pinned;
  const read = await tagVersions(
    binding,
    fresh,
    storeTtlMs,
    entries.map((entry) => entry.full),
  );
  return binding.tags.combine(pinned, read);
}

/** The versions a write of `entries` tagged `tags` records without a store call, when this process knows them current (see `TagState.known`). */
function knownVersions(
  binding: Binding,
  tags: readonly string[],
  storeTtlMs: TtlMs,
  entries: readonly EntryWrite[],
): PreparedTags | undefined {
  const reads = binding.reads;
  if (!reads.hearsTagChanges()) return undefined;
  return binding.tags.known(
    tags,
    storeTtlMs,
    reads.tagEpoch(),
    entries.map((entry) => entry.full),
  );
}

/** `send` of a store call that took the write when it resolved (`set`, `setMany`). */
export const STORED = (): boolean => true;

/** One entry for `write`: `value` of `key` encoded for `storeTtlMs` (throws input errors). */
export function entryOf(engine: Engine, view: View, key: string, value: unknown, storeTtlMs: TtlMs): EntryWrite {
  return { key, full: engine.full(view, key), value, payload: engine.values.encode(key, value, storeTtlMs) };
}

/**
 * Writes `request.entries` through the store: the tags' versions read first (an invalidation
 * after that read wins over this write) and their section added to each payload; each key
 * registered with the L1 before the call is sent, so an invalidation arriving while it is in
 * flight cancels the copy; the call bounded by the facade's timer. Stored: the L1 keeps the
 * entries, other instances are told, `write` is counted and emitted per key. Not stored: the L1's
 * copies are dropped here only. Failed: the copies are dropped here and elsewhere (it may have
 * landed), and `failed` answers. Input errors (a value too large with its tag section, an untaggable
 * codec) reject before anything is sent.
 */
export function write<F>(engine: Engine, view: View, binding: Binding, request: WriteRequest<F>): Promise<boolean | F> {
  const { entries, tags } = request;
  if (tags === undefined || request.tagged !== undefined) return send(engine, view, binding, request, request.tagged);
  if (view.pinned === undefined) {
    const known = knownVersions(binding, tags, request.storeTtlMs, entries);
    if (known !== undefined) return send(engine, view, binding, request, known);
    const once =
      request.plain && entries.length === 1 ? inOneCall(engine, binding, entries[0] as EntryWrite, tags) : undefined;
    // Decided before any async step: a lone tagged write is one promise chain (no async frame of this function's).
    if (once !== undefined) return writeTaggedInOne(engine, view, binding, request, once);
  }
  return readTagsThenSend(engine, view, binding, request, tags);
}

/** `write` of entries tagged `tags` whose versions are not known yet: read first (with a scope's pinned ones), then sent. */
async function readTagsThenSend<F>(
  engine: Engine,
  view: View,
  binding: Binding,
  request: WriteRequest<F>,
  tags: readonly string[],
): Promise<boolean | F> {
  const { entries, storeTtlMs } = request;
  let tagged: PreparedTags;
  try {
    tagged =
      view.pinned === undefined
        ? await tagVersions(
            binding,
            tags,
            storeTtlMs,
            entries.map((entry) => entry.full),
          )
        : await withPinned(binding, view.pinned, tags, storeTtlMs, entries);
  } catch (error) {
    return request.failed(error);
  }
  return send(engine, view, binding, request, tagged);
}

/**
 * The store call of `write` once the tags' versions are known (`tagged`; none for an untagged
 * write): a promise chain, not an async function (one frame less per write).
 */
function send<F>(
  engine: Engine,
  view: View,
  binding: Binding,
  request: WriteRequest<F>,
  tagged: PreparedTags | undefined,
): Promise<boolean | F> {
  const { entries, storeTtlMs } = request;
  const reads = binding.reads;
  if (tagged !== undefined) {
    try {
      for (const entry of entries) entry.payload = engine.values.tagged(entry.key, entry.payload, tagged.section);
    } catch (error) {
      return Promise.reject(error);
    }
  }
  const one = entries.length === 1 ? (entries[0] as EntryWrite) : undefined;
  const tokens = one === undefined ? entries.map((entry) => reads.beginWrite(entry.full)) : undefined;
  const token = one === undefined ? undefined : reads.beginWrite(one.full);
  const sentAt = Date.now();
  const failed = (error: unknown): F => {
    reads.changedAll(entries.map((entry) => entry.full));
    return request.failed(error);
  };
  let call: Promise<boolean>;
  try {
    call = request.send(binding.store, entries);
  } catch (error) {
    call = Promise.reject(error);
  }
  return limit(binding, call, request.operation).then((stored) => {
    if (!stored) {
      // Nothing changed in the store: only this process's copies may be stale (nothing to announce).
      for (const entry of entries) reads.invalidate(entry.full);
      return false;
    }
    if (one !== undefined) {
      reads.wrote(token, one.full, one.payload, one.value, storeTtlMs, sentAt, tagged?.write);
      engine.events.wrote(view, one.key);
    } else {
      const sent = entries.map((entry) => [entry.full, entry.payload] as const);
      const values = entries.map((entry) => entry.value);
      reads.wroteAll(tokens as ReturnType<typeof reads.beginWrite>[], sent, values, storeTtlMs, sentAt, tagged?.write);
      engine.events.wroteAll(
        view,
        entries.map((entry) => entry.key),
      );
    }
    return true;
  }, failed);
}

/** A lone tagged `set` the store can send with its tags' versions (`setTagged`): the entry and its payload split for it. */
interface InOne {
  readonly entry: EntryWrite;
  readonly tags: readonly string[];
  readonly parts: { readonly head: string; readonly tail: string };
}

function inOneCall(engine: Engine, binding: Binding, entry: EntryWrite, tags: readonly string[]): InOne | undefined {
  if (!binding.tags.writesInOne) return undefined;
  const parts = engine.values.taggedParts(entry.payload, sectionBytesBound(tags));
  return parts === undefined ? undefined : { entry, tags, parts };
}

/**
 * `write` of one tagged entry in one store call: the L1's tag epoch read and the key registered
 * with the L1 before it is sent (as `write` does before reading the versions), the versions read
 * and the entry written by the store atomically, then the L1 keeps the entry as stored.
 */
function writeTaggedInOne<F>(
  engine: Engine,
  view: View,
  binding: Binding,
  request: WriteRequest<F>,
  { entry, tags, parts }: InOne,
): Promise<boolean | F> {
  const reads = binding.reads;
  const epoch = reads.tagEpoch();
  const token = reads.beginWrite(entry.full);
  const sentAt = Date.now();
  const call = binding.tags.setTagged(entry.full, parts, tags, request.storeTtlMs, epoch);
  return limit(binding, call, request.operation).then(
    (prepared) => {
      // Versions read in an epoch that is still current when the reply comes: the next write with these tags may record them without asking.
      if (reads.tagEpoch() === epoch && reads.hearsTagChanges()) binding.tags.learn(prepared);
      if (binding.tiered) {
        // The entry as the store holds it, for the L1's copy (the store built its own).
        const payload = engine.values.tagged(entry.key, entry.payload, prepared.section);
        reads.wrote(token, entry.full, payload, entry.value, request.storeTtlMs, sentAt, prepared.write);
      }
      engine.events.wrote(view, entry.key);
      return true;
    },
    (error: unknown) => {
      reads.changedAll([entry.full]);
      return request.failed(error);
    },
  );
}
