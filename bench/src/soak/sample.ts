/** What the soak samples: heap after a full GC, and the resources keeping the event loop alive. */
import v8 from 'node:v8';
import vm from 'node:vm';

/** One sample. */
export interface Sample {
  /** ms since the phase started. */
  at: number;
  /** `heapUsed` after a full GC, in bytes. */
  heap: number;
  /** Active resources that are not timers (sockets, server handles, pipes...). */
  handles: number;
  /** Of those, TCP sockets. */
  sockets: number;
  /** Active timers (`Timeout`). */
  timers: number;
}

let gc: (() => void) | undefined;

/** `global.gc` (under `--expose-gc`), else one obtained at run time (inside vitest, say). */
function fullGc(): void {
  if (!gc) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) gc = exposed;
    else {
      // Node allows switching the flag on late; a fresh context then sees `gc`.
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as () => void;
    }
  }
  gc();
}

/** Takes a sample (`start` = the phase's `performance.now()` origin). */
export function sample(start: number): Sample {
  fullGc();
  const heap = process.memoryUsage().heapUsed;
  const resources = process.getActiveResourcesInfo();
  let timers = 0;
  let sockets = 0;
  // setImmediate callbacks come and go with the load (the memory store's clock): not handles.
  let others = 0;
  for (const type of resources) {
    if (type === 'Timeout') timers += 1;
    else if (type === 'Immediate') others += 1;
    else if (type === 'TCPSocketWrap' || type === 'TCPWRAP') sockets += 1;
  }
  return { at: performance.now() - start, heap, handles: resources.length - timers - others, sockets, timers };
}

/** Least-squares slope of `y` over `x` (0 with fewer than two points). */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((sum, p) => sum + p.x, 0) / n;
  const my = points.reduce((sum, p) => sum + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
