import type { CommandTracking } from './tracking/command-tracking';

/** What `WriteReports` needs of its store. */
export interface WriteReportsHost {
  /** The tracking on the command connection, if an L1 of this process turned it on. */
  tracking(): CommandTracking | undefined;
  /** Whether `durableWrites` is on, and the wait it asks for. */
  readonly durable: ((key: string) => Promise<void>) | undefined;
  /** Turns a failure into the store's error. */
  fail(op: string, error: unknown): never;
}

/**
 * How the store ends its writes: a failure becomes the store's error; then (acknowledged or
 * failed: it may have landed) this process's L1s are told, which NOLOOP keeps from hearing it
 * from the server.
 */
export class WriteReports {
  constructor(private readonly host: WriteReportsHost) {}

  /** Runs a write of `keys` and reports it. */
  async writing<T>(op: string, keys: string[], write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      return this.host.fail(op, error);
    } finally {
      this.host.tracking()?.wrote(keys);
    }
  }

  /**
   * `writing` for a write of `key` already sent (`reply`), resolving `result(reply)`: one promise
   * step from the reply to settled (two with `durableWrites`), no async function (the hot writes:
   * `set`, the tagged write).
   */
  settled<T, R>(op: string, key: string, reply: Promise<T>, result: (value: T) => R): Promise<R> {
    const durable = this.host.durable;
    const written = durable === undefined ? reply : reply.then((value) => durable(key).then(() => value));
    return written.then(
      (value) => {
        this.host.tracking()?.wrote([key]);
        return result(value);
      },
      (error: unknown) => {
        this.host.tracking()?.wrote([key]);
        return this.host.fail(op, error);
      },
    );
  }
}

/** The reply as it is (a `settled` write that resolves its reply). */
export const asIs = <T>(value: T): T => value;
