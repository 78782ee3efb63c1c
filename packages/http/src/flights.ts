import type { StoredResponse } from './entry';

/** What a finished handler run shares with the requests that waited on it. */
export interface FlightResult {
  entry: StoredResponse;
  vary: string[];
  values: (string | null)[];
}

/** A handler run that concurrent requests for the same key wait on. */
export interface Flight {
  resource: string;
  /** Set when the resource was invalidated while the handler ran: its response is neither stored nor shared. */
  invalidated: boolean;
  done: Promise<FlightResult | undefined>;
  /** Settles `done` (once). */
  settle(result: FlightResult | undefined): void;
}

/**
 * The handler runs under way, by key (the base key and a digest of the credentials): only
 * requests with the same key and the same credentials may share one run (single-flight).
 */
export class Flights {
  readonly #runs = new Map<string, Flight>();

  /** The run under way for `key`, if any. */
  get(key: string): Flight | undefined {
    return this.#runs.get(key);
  }

  /** Starts a run of `resource`; registered under `key` when given (others may then wait on it). */
  start(resource: string, key: string | undefined): Flight {
    let settle!: (result: FlightResult | undefined) => void;
    const done = new Promise<FlightResult | undefined>((resolve) => {
      settle = resolve;
    });
    const flight: Flight = { resource, invalidated: false, done, settle };
    if (key !== undefined) this.#runs.set(key, flight);
    return flight;
  }

  /** Forgets the run of `key` if it is still `flight` (later requests run their own handler). */
  end(key: string | undefined, flight: Flight): void {
    if (key !== undefined && this.#runs.get(key) === flight) this.#runs.delete(key);
  }

  /** Marks the running handlers of a resource so their responses are neither stored nor shared. */
  retire(resource: string): void {
    for (const flight of this.#runs.values()) if (flight.resource === resource) flight.invalidated = true;
  }
}
