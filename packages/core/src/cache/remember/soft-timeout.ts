import type { Engine } from '../engine';
import type { View } from '../view';
import type { Miss, Seen } from './miss';

/**
 * `timeout.soft`: the caller waits for the key's flight (the refresh of a stale value) up to
 * `softMs`, then is answered with the stale value while the flight goes on in the background (its
 * result still goes through the never-stale write). A flight that fails is reported and the caller
 * gets the stale value; `seen` says `miss` when the refresh answered in time.
 */
export function withinSoftTimeout<T>(
  engine: Engine,
  view: View,
  miss: Miss<T>,
  flight: Promise<T>,
  stale: T,
  softMs: number,
  seen: Seen | undefined,
): Promise<T> {
  return new Promise<T>((resolve) => {
    let answered = false;
    const timer = setTimeout(() => {
      answered = true;
      resolve(stale);
    }, softMs);
    flight.then(
      (value) => {
        if (answered) return;
        clearTimeout(timer);
        answered = true;
        if (seen !== undefined && !miss.servedStale) {
          seen.status = 'miss';
          seen.tier = undefined;
          seen.entry = undefined;
          seen.writtenAt = undefined;
        }
        resolve(value);
      },
      (error: unknown) => {
        engine.report(view, 'remember', miss.key, error);
        if (answered) return;
        clearTimeout(timer);
        answered = true;
        resolve(stale);
      },
    );
  });
}
