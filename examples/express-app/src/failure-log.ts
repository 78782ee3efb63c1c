import type { Cache } from '@larder/core';

/** A failure seen again within this window is counted, not printed again. */
const REPEAT_WINDOW_MS = 30_000;

/**
 * Prints the stores' failures on the console: the store, the backend's worded error (cause and
 * what to check; larder's errors carry no secret) and its code. The same failure of the same
 * store is printed once per 30 s, with how often it happened meanwhile. Returns a stop function.
 */
export function logFailures(caches: Cache[], print: (line: string) => void = console.error): () => void {
  const seen = new Map<string, { at: number; repeats: number }>();
  const listeners = caches.map((cache) => {
    const listener = ({ operation, error }: { operation: string; error: unknown }) => {
      const e = (error ?? {}) as { code?: unknown; message?: unknown };
      const message = typeof e.message === 'string' ? e.message : String(error);
      const code = typeof e.code === 'string' ? e.code : 'E_UNKNOWN';
      const key = `${cache.name}\n${message}`;
      const now = Date.now();
      const last = seen.get(key);
      if (last && now - last.at < REPEAT_WINDOW_MS) {
        last.repeats++;
        return;
      }
      const again = last?.repeats ? ` (${last.repeats} more time(s) in the last ${REPEAT_WINDOW_MS / 1000} s)` : '';
      seen.set(key, { at: now, repeats: 0 });
      print(`larder: store '${cache.name}', ${operation}: ${message} [${code}]${again}`);
    };
    cache.on('error', listener);
    return () => cache.off('error', listener);
  });
  return () => {
    for (const stop of listeners) stop();
  };
}
