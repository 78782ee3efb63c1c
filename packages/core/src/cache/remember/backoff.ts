import { LoaderBackoffError } from '../../contract/errors';
import { RESERVED_KEY_PREFIX } from '../../values/key-policy';
import type { Engine } from '../engine';
import type { View } from '../view';

// `remember`'s `failure: { backoff, max }`: after a loader failure, no run of the key until the
// backoff window ends; the window doubles per consecutive failure up to `max`. The fleet shares
// it through a marker in the store (`__larder:backoff:<key>`, holding the window's end). The
// marker outlives its window by one more window and a minute, so an absent marker means "no
// outage" and a present one whose window ended means "probe": only the instance whose atomic
// `add` of that window's probe key (`…:probe:<end>`) lands runs the loader; the rest wait one more
// window. (Letting a caller that finds no marker, or an ended one, run unclaimed let several
// instances run at each window's end: the marker expired between one's failed claim and its read.)
// Each cache remembers the windows it saw, so a call inside one costs no store call.

import { RecentMap } from '../../util/recent-map';
import type { BackoffPolicy } from './option-parsers';

/** A failure episode of one key as this process knows it. */
interface Episode {
  /** Consecutive failures. */
  failures: number;
  /** End of the current window, epoch ms. */
  until: number;
  /** The last failure's message (the marker carries it to the fleet). */
  message: string;
  /** The last failure, when it happened in this process. */
  error?: unknown;
}

const MAX_EPISODES = 10_000;
const MARKER_AFTERLIFE_MS = 60_000;
const episodesOf = new WeakMap<Engine, RecentMap<string, Episode>>();

/** How a key stands before a run: free to run (`run`), or inside a window (`wait`, with the error to throw without a stale value). */
export type BackoffVerdict = { run: true; probe: boolean } | { run: false; error: LoaderBackoffError };

/** The window after `failures` consecutive failures. */
const windowMs = (policy: BackoffPolicy, failures: number) =>
  Math.min(policy.maxMs, policy.backoffMs * 2 ** Math.min(failures - 1, 30));

/** The backoff of one key in one cache: asked before each run, told how it went. */
export class KeyBackoff {
  readonly #engine: Engine;
  readonly #view: View;
  readonly #policy: BackoffPolicy;
  readonly #key: string;
  readonly #full: string;
  readonly #marker: string;
  readonly #episodes: RecentMap<string, Episode>;

  constructor(engine: Engine, view: View, policy: BackoffPolicy, key: string, full: string) {
    this.#engine = engine;
    this.#view = view;
    this.#policy = policy;
    this.#key = key;
    this.#full = full;
    this.#marker = `${engine.basePrefix}${RESERVED_KEY_PREFIX}backoff:${view.path}${key}`;
    let episodes = episodesOf.get(engine);
    if (episodes === undefined) {
      episodes = new RecentMap(MAX_EPISODES);
      episodesOf.set(engine, episodes);
    }
    this.#episodes = episodes;
  }

  /** Before a run: inside a window known here (no store call), else the fleet's marker decides; a failed store call lets the run go. */
  async before(): Promise<BackoffVerdict> {
    const known = this.#episodes.get(this.#full);
    if (known !== undefined && known.until > Date.now()) return this.#waiting(known);
    try {
      const marker = await this.#read();
      if (marker === undefined) {
        // No outage in the fleet (the marker was deleted by a success, or it is long over).
        this.#episodes.delete(this.#full);
        return { run: true, probe: false };
      }
      const episode = { ...marker, error: known?.error };
      if (marker.until > Date.now()) {
        this.#remember(episode);
        return this.#waiting(episode);
      }
      // The window ended: one instance of the fleet probes, the one whose claim of it lands.
      const next = Date.now() + windowMs(this.#policy, marker.failures + 1);
      if (await this.#claim(marker.until, next)) {
        // The failures stay as the marker counts them until the probe fails (`failed` counts it then).
        this.#remember(episode);
        return { run: true, probe: true };
      }
      const waiting = { ...episode, until: next };
      this.#remember(waiting);
      return this.#waiting(waiting);
    } catch (error) {
      this.#engine.report(this.#view, 'remember', this.#key, error);
      return { run: true, probe: false };
    }
  }

  /** The run failed: the next window starts now, here and (through the marker) for the fleet. */
  async failed(error: unknown): Promise<void> {
    const known = this.#episodes.get(this.#full);
    const failures = (known?.failures ?? 0) + 1;
    const message = error instanceof Error ? error.message : String(error);
    const episode = { failures, until: Date.now() + windowMs(this.#policy, failures), message, error };
    this.#remember(episode);
    await this.#write(episode).catch((cause) => this.#engine.report(this.#view, 'remember', this.#key, cause));
  }

  /** The run succeeded: the episode ends here and for the fleet. */
  async succeeded(): Promise<void> {
    if (!this.#episodes.delete(this.#full)) return;
    const marker = this.#marker;
    await this.#engine
      .send('remember', (store) => store.delete(marker))
      .catch((error) => this.#engine.report(this.#view, 'remember', this.#key, error));
  }

  #waiting(episode: Episode): BackoffVerdict {
    const error = new LoaderBackoffError(this.#key, episode.until, episode.message, { cause: episode.error });
    return { run: false, error };
  }

  #remember(episode: Episode): void {
    this.#episodes.set(this.#full, episode);
  }

  #payload(episode: Episode) {
    const text = JSON.stringify({ failures: episode.failures, until: episode.until, message: episode.message });
    return this.#engine.values.encodeOwner(text, this.#marker);
  }

  /** The atomic claim of the probe after the window ending at `ended`; held until `next`. */
  async #claim(ended: number, next: number): Promise<boolean> {
    const probe = `${this.#marker}:probe:${ended}`;
    const payload = this.#engine.values.encodeOwner(String(next), probe);
    const ttl = Math.max(1, next - Date.now());
    return this.#engine.send('remember', (store) =>
      store.add ? store.add(probe, payload, ttl) : Promise.resolve(true),
    );
  }

  async #write(episode: Episode): Promise<void> {
    const payload = this.#payload(episode);
    // Kept one more window and a minute past its end: see the header.
    const length = windowMs(this.#policy, episode.failures);
    const ttl = Math.max(1, episode.until - Date.now()) + length + MARKER_AFTERLIFE_MS;
    await this.#engine.send('remember', (store) => store.set(this.#marker, payload, ttl));
  }

  async #read(): Promise<Episode | undefined> {
    const payload = await this.#engine.send('remember', (store) => store.get(this.#marker));
    if (payload === undefined) return undefined;
    try {
      const text = this.#engine.values.decode(payload, this.#marker);
      const parsed = JSON.parse(String(text)) as Episode;
      return typeof parsed.until === 'number' && typeof parsed.failures === 'number' ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
}
