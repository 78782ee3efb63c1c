import { LoaderBackoffError } from '../../contract/errors';
import { RESERVED_KEY_PREFIX } from '../../values/key-policy';
import type { Engine } from '../engine';
import type { View } from '../view';

// `remember`'s `failure: { backoff, max }`: after a loader failure, no run of the key until the
// backoff window ends; the window doubles per consecutive failure up to `max`. The fleet shares
// it through a marker in the store (`__larder:backoff:<key>`, kept until the window ends), and a
// window that ends is probed by one instance: the one whose atomic `add` of the next window's
// marker succeeds. Each cache remembers the windows it saw, so a call inside one costs no store call.

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
const episodesOf = new WeakMap<Engine, Map<string, Episode>>();

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
  readonly #episodes: Map<string, Episode>;

  constructor(engine: Engine, view: View, policy: BackoffPolicy, key: string, full: string) {
    this.#engine = engine;
    this.#view = view;
    this.#policy = policy;
    this.#key = key;
    this.#full = full;
    this.#marker = `${engine.basePrefix}${RESERVED_KEY_PREFIX}backoff:${view.path}${key}`;
    let episodes = episodesOf.get(engine);
    if (episodes === undefined) {
      episodes = new Map();
      episodesOf.set(engine, episodes);
    }
    this.#episodes = episodes;
  }

  /** Before a run: inside a window known here (no store call), else the fleet's marker decides; a failed store call lets the run go. */
  async before(): Promise<BackoffVerdict> {
    const known = this.#episodes.get(this.#full);
    const now = Date.now();
    if (known !== undefined && known.until > now) return this.#waiting(known);
    try {
      if (known !== undefined) {
        // The window ended: one instance of the fleet probes, the one whose claim of the next window lands.
        const next = {
          ...known,
          failures: known.failures + 1,
          until: now + windowMs(this.#policy, known.failures + 1),
        };
        if (await this.#claim(next)) return { run: true, probe: true };
      }
      const marker = await this.#read();
      if (marker === undefined || marker.until <= now) return { run: true, probe: false };
      this.#remember({ ...marker, error: known?.error });
      return this.#waiting(marker);
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
    const episodes = this.#episodes;
    episodes.delete(this.#full);
    if (episodes.size >= MAX_EPISODES) episodes.delete(episodes.keys().next().value as string);
    episodes.set(this.#full, episode);
  }

  #payload(episode: Episode) {
    const text = JSON.stringify({ failures: episode.failures, until: episode.until, message: episode.message });
    return this.#engine.values.encodeOwner(text, this.#marker);
  }

  async #claim(episode: Episode): Promise<boolean> {
    const payload = this.#payload(episode);
    const ttl = Math.max(1, episode.until - Date.now());
    // The failures stay as known here until the probe fails (`failed` counts it then).
    return this.#engine.send('remember', (store) =>
      store.add ? store.add(this.#marker, payload, ttl) : Promise.resolve(true),
    );
  }

  async #write(episode: Episode): Promise<void> {
    const payload = this.#payload(episode);
    const ttl = Math.max(1, episode.until - Date.now());
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
