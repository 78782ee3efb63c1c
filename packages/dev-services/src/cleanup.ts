import { rmSync } from 'node:fs';

/** Something to tear down synchronously if the Node process exits while it still runs. */
export interface ExitCleanup {
  /** Kill/remove synchronously (only sync work runs in an 'exit' handler). */
  cleanupSync(): void;
}

const live = new Set<ExitCleanup>();
let registered = false;

/** Tracks `item` so that it is torn down when this process exits; registers the 'exit' hook once. */
export function trackForExit(item: ExitCleanup): void {
  live.add(item);
  if (!registered) {
    registered = true;
    process.once('exit', () => {
      for (const entry of live) {
        try {
          entry.cleanupSync();
        } catch {
          // best effort on exit
        }
      }
      live.clear();
    });
    // A signal's default action ends the process without 'exit': clean up, then re-raise the signal, unless the
    // application handles the signal itself (then it decides, e.g. `pnpm services` stops everything gracefully).
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        if (process.listenerCount(signal) > 0) return;
        for (const entry of live) {
          try {
            entry.cleanupSync();
          } catch {
            // best effort
          }
        }
        live.clear();
        process.kill(process.pid, signal);
      });
    }
  }
}

/** Stops tracking `item` (it was stopped normally). */
export function untrackForExit(item: ExitCleanup): void {
  live.delete(item);
}

/** A temp-dir cleanup entry for trackForExit. */
export function tempDirCleanup(dir: string): ExitCleanup {
  return { cleanupSync: () => rmSync(dir, { recursive: true, force: true }) };
}
