/** The soak's tables of figures. */
import type { SoakResult } from './soak';

const MiB = 1024 * 1024;
const mib = (bytes: number) => (bytes / MiB).toFixed(1);
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const table = (rows: string[][]) =>
  [rows[0] as string[], (rows[0] as string[]).map(() => '---'), ...rows.slice(1)]
    .map((cells) => `| ${cells.join(' | ')} |`)
    .join('\n');

/** Markdown: calls per driver, then the process's heap, handles and timers. */
export function formatTables(result: SoakResult): string {
  const calls = table([
    ['driver', 'calls', 'calls/s', 'typed errors (on purpose)', 'unexpected errors', 'stores opened and closed'],
    ...result.drivers.map(({ driver, counts }) => [
      driver,
      int(counts.ops),
      int(counts.ops / result.seconds),
      int(counts.expectedErrors),
      int(counts.unexpectedErrors),
      int(counts.churned),
    ]),
  ]);
  const { before, start, end, closed } = result;
  const resources = table([
    ['', 'before open', `after warm-up (${int(result.warmupMs / 1000)} s)`, 'end of load', 'after close'],
    ['heap used after GC, MiB', mib(before.heap), mib(start.heap), mib(end.heap), mib(closed.heap)],
    ['handles (of which TCP sockets)', ...[before, start, end, closed].map((s) => `${s.handles} (${s.sockets})`)],
    ['timers', ...[before, start, end, closed].map((s) => String(s.timers))],
  ]);
  const heap = `heap slope after warm-up: ${result.heapSlope.toFixed(3)} MiB/min (${result.heapGrowth.toFixed(2)} MiB over the measured window, ${result.samples.length} samples)`;
  const verdict = result.failures.length === 0 ? 'verdict: ok' : `verdict: FAIL: ${result.failures.join('; ')}`;
  return `${calls}\n\n${resources}\n\n${heap}\n${verdict}`;
}
