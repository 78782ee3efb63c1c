import { readdirSync, readFileSync } from 'node:fs';
import { waitFor } from './wait';

/**
 * Stops `pid` with SIGSTOP and resolves once every thread of it is stopped: the signal takes
 * effect asynchronously, and a multi-threaded server (memcached, a JVM) may answer once more
 * meanwhile. Linux only (reads /proc). Resume it with `process.kill(pid, 'SIGCONT')`.
 */
export async function freezeProcess(pid: number): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  await waitFor(
    () =>
      readdirSync(`/proc/${pid}/task`).every((task) =>
        / T /.test(readFileSync(`/proc/${pid}/task/${task}/stat`, 'latin1')),
      ),
    { timeoutMs: 10_000, intervalMs: 5, description: `process ${pid} stopped` },
  );
}
