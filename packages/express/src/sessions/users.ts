import type { Cache } from '@larder/core';
import { ConfigError } from '@larder/core';
import { RecentMap } from '@larder/core/driver';
import { decodeEnvelope } from './envelope';

/** Sessions whose indexed expiry this process remembers, at least (saves a read of the index per save; `RecentMap`). */
const MAX_REMEMBERED = 10_000;
const MAX_SLACK_MS = 3_600_000;
const ATTEMPTS = 10;

/** Index entry: session id -> expiry (epoch ms) the index covers it until. */
type Entries = Record<string, number>;

/**
 * The per-user index of session ids behind `userKey`: one cache entry per user (JSON text of
 * `{ sid: expiresAt }`), updated with compare-and-set so instances never lose each other's ids.
 * Every update prunes ids that expired, are gone, or now belong to another user; the entry's TTL
 * follows its longest session (plus a slack of at most 1 hour), so it expires with them.
 */
export class UserIndex {
  /** `user\nsid` -> expiry this process last recorded in the index (an update is needed only past it). */
  private readonly recorded = new RecentMap<string, number>(MAX_REMEMBERED);

  constructor(
    private readonly index: Cache,
    private readonly sessions: Cache,
    private readonly userKey: string,
  ) {
    for (const [cache, name] of [
      [index, 'compareAndSet'],
      [sessions, 'getMany'],
    ] as const) {
      if (typeof (cache as unknown as Record<string, unknown>)[name] !== 'function') {
        throw new ConfigError(`CacheSessionStore userKey needs a Cache with ${name} (@larder/core's Cache)`, 'userKey');
      }
    }
  }

  /** The user a session's data names (its `userKey` field, a string or a number), or undefined. */
  userOf(data: Record<string, unknown>): string | undefined {
    const user = data[this.userKey];
    return typeof user === 'string' || (typeof user === 'number' && Number.isFinite(user)) ? String(user) : undefined;
  }

  /** Makes the index of `user` cover session `sid` until `expiresAt` (no backend call when it already does). */
  async add(user: string, sid: string, expiresAt: number, lifetimeMs: number): Promise<void> {
    const memo = `${user}\n${sid}`;
    const known = this.recorded.get(memo);
    if (known !== undefined && known >= expiresAt) return;
    const until = expiresAt + Math.min(MAX_SLACK_MS, Math.max(0, lifetimeMs));
    await this.update(user, (entries) => {
      if ((entries[sid] ?? 0) >= expiresAt) return false;
      entries[sid] = until;
      return true;
    });
    this.remember(memo, until);
  }

  /** Live session ids of `user` (each checked against the session store: present, and still this user's). */
  async sessionsOf(user: string): Promise<string[]> {
    const raw = await this.index.get<string>(user);
    if (raw === undefined) return [];
    const entries = parse(raw);
    const live = await this.live(user, entries);
    if (live.length < Object.keys(entries).length) {
      // Best effort: the next update prunes too.
      await this.update(user, () => false).catch(() => {});
    }
    return live;
  }

  /** Drops `ids` from the index of `user`. */
  async remove(user: string, ids: readonly string[]): Promise<void> {
    for (const sid of ids) this.recorded.delete(`${user}\n${sid}`);
    await this.update(user, (entries) => {
      let changed = false;
      for (const sid of ids) if (delete entries[sid]) changed = true;
      return changed;
    });
  }

  /**
   * Read-modify-compare-and-set of one user's entry: prunes dead ids, applies `change` (true when
   * it changed something), writes when anything changed, retries on a concurrent update.
   */
  private async update(user: string, change: (entries: Entries) => boolean): Promise<void> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const raw = await this.index.get<string>(user);
      const entries = raw === undefined ? {} : parse(raw);
      const before = Object.keys(entries).length;
      const live = new Set(await this.live(user, entries));
      for (const sid of Object.keys(entries)) if (!live.has(sid)) delete entries[sid];
      const changed = change(entries) || Object.keys(entries).length !== before;
      if (!changed) return;
      const ids = Object.keys(entries);
      if (ids.length === 0) {
        if (raw === undefined || (await this.index.delete(user))) return;
        continue;
      }
      const ttl = Math.max(...ids.map((sid) => entries[sid] as number)) - Date.now();
      if (ttl <= 0) return;
      if (await this.index.compareAndSet(user, raw, JSON.stringify(entries), ttl)) return;
    }
  }

  /** The ids of `entries` whose sessions are live and still belong to `user`. */
  private async live(user: string, entries: Entries): Promise<string[]> {
    const now = Date.now();
    const ids = Object.keys(entries).filter((sid) => (entries[sid] as number) > now);
    if (ids.length === 0) return [];
    const values = await this.sessions.getMany(ids);
    return ids.filter((sid, i) => {
      const value = values[i];
      if (value === undefined) return false;
      try {
        const data = JSON.parse(decodeEnvelope(value, sid).data) as Record<string, unknown>;
        return this.userOf(data) === user;
      } catch {
        return false;
      }
    });
  }

  private remember(memo: string, until: number): void {
    this.recorded.set(memo, until);
  }
}

function parse(raw: string): Entries {
  try {
    const value = JSON.parse(raw) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Entries;
  } catch {
    // A corrupt index is rebuilt from the sessions that save next.
  }
  return {};
}
