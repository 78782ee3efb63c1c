/** The markdown a run prints for each scenario: its table, then its targets and notes. */

import type { CaseResult, ScenarioResult } from './harness';

/** The markdown table (and targets) of one scenario; with `only` (`--only`), the targets of the cases run. */
export function formatScenario(result: ScenarioResult, only?: string): string {
  const { scenario, results } = result;
  const lines = [`### ${scenario.name}`, '', scenario.description, ''];
  if (result.error) {
    lines.push(`**Not run:** ${result.error}`, '');
    return lines.join('\n');
  }
  const counters = scenario.counters ?? [];
  const rate = scenario.clock === 'cpu' ? 'ops/CPU-s' : 'ops/s';
  const header = ['operation', 'subject', rate, '±', `vs ${scenario.baseline}`, ...counters.map((c) => c.name)];
  lines.push(`| ${header.join(' | ')} |`, `|${header.map((_, k) => (k < 2 ? '---' : '---:')).join('|')}|`);
  for (const r of results) {
    const base = results.find((b) => b.op === r.op && b.subject === scenario.baseline);
    const subject = r.concurrency > 1 ? `${r.subject} (×${r.concurrency} in flight)` : r.subject;
    if (r.error) {
      const cells = [r.op, subject, `error: ${r.error.replace(/\|/g, '\\|')}`, '', '', ...counters.map(() => '')];
      lines.push(`| ${cells.join(' | ')} |`);
      continue;
    }
    const ratio = base && base.opsPerSec > 0 && !base.error ? `${(r.opsPerSec / base.opsPerSec).toFixed(2)}×` : '—';
    // A missing counter is `null` in rows that came from an isolated child (JSON has no undefined).
    const cols = r.counters.map((v, k) => (v == null ? '—' : v.toFixed(counters[k]?.digits ?? 2)));
    lines.push(
      `| ${[r.op, subject, formatRate(r.opsPerSec), `${r.spreadPct.toFixed(1)}%`, ratio, ...cols].join(' | ')} |`,
    );
  }
  lines.push('');
  for (const t of scenario.targets ?? []) {
    if (only !== undefined && !t.op.includes(only)) continue;
    const a = results.find((r) => r.op === t.op && r.subject === t.subject);
    const b = results.find((r) => r.op === t.op && r.subject === t.over);
    // "within 3x of" is a target of 1/3: shown as 0.33, not 0.3333333333333333.
    const atLeast = Number(t.atLeast.toFixed(2));
    if (!a || !b || a.error || b.error || b.opsPerSec === 0) {
      lines.push(`- target ${t.subject} ${t.op} ≥ ${atLeast}× ${t.over}: not measured`);
      continue;
    }
    const ratio = a.opsPerSec / b.opsPerSec;
    const verdict = ratio >= t.atLeast ? 'met' : 'MISSED';
    const byCpu = cpuRatio(a, b, counters);
    lines.push(`- target ${t.subject} ${t.op} ≥ ${atLeast}× ${t.over}: **${ratio.toFixed(2)}×** ${verdict}${byCpu}`);
  }
  for (const note of scenario.notes ?? []) lines.push(`- ${note}`);
  if ((scenario.targets?.length ?? 0) + (scenario.notes?.length ?? 0) > 0) lines.push('');
  return lines.join('\n');
}

/** A column of the bench's own or the app's CPU per operation (`client CPU µs/op`, `app CPU µs/request`). */
const OWN_CPU = /^(client|app) CPU µs\//;

/**
 * `; by <column>: r×` where the scenario counts CPU per operation: `over`'s CPU per operation over
 * `subject`'s. Steadier than ops/s on a shared machine, and the ratio ops/s tends to where both
 * subjects are bound by that CPU (64 in flight); not at 1 in flight, where the round trip waits.
 */
function cpuRatio(subject: CaseResult, over: CaseResult, counters: readonly { name: string }[]): string {
  const at = counters.findIndex((column) => OWN_CPU.test(column.name));
  const column = counters[at];
  if (column === undefined) return '';
  const mine = subject.counters[at];
  const theirs = over.counters[at];
  if (mine == null || theirs == null || !(mine > 0) || !(theirs > 0)) return '';
  return `; by ${column.name.replace(' µs', '')}: ${(theirs / mine).toFixed(2)}×`;
}

function formatRate(rate: number): string {
  return Math.round(rate).toLocaleString('en-US');
}
