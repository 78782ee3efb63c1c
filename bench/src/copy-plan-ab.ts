/**
 * `node --expose-gc --import tsx bench/src/copy-plan-ab.ts`: compiled against interpreted copy
 * plans, in one process, on copy-out of ~1 KB objects (the memory store's and the L1's read path).
 * Compiled: `copyOut` as it is (a plan read 4 times becomes a function of its own, `new Function`).
 * Interpreted: the same plans with compilation held off (their read counter set past the
 * threshold), so every copy goes through the shared interpreter. Rounds alternate A and B; the
 * median of each is reported. Two workloads: the bench's one-shape object, and 16 shapes of it
 * (one extra key each), as an app with several cached types has.
 */
import { type CopyTarget, copyInto, copyOut, type Plan } from '@larder/core/driver';
import { objectValue } from './workload';

const VALUES = 1_000;
const ROUNDS = 15;
const COPIES_PER_ROUND = 200_000;

function stored(shapes: number, mark: string): CopyTarget[] {
  return Array.from({ length: VALUES }, (_, i) => {
    const value = objectValue(i) as Record<string, unknown>;
    if (shapes > 1) value[`extra${i % shapes}`] = { n: i };
    value[mark] = { set: mark };
    const target: CopyTarget = { value: undefined, plan: undefined };
    copyInto(target, value);
    return target;
  });
}

/** Holds compilation off for `plan` and every plan under it. */
function interpretOnly(plan: Plan, seen = new Set<Plan>()): void {
  if (seen.has(plan)) return;
  seen.add(plan);
  plan.reads = Number.MAX_SAFE_INTEGER / 2;
  plan.copy = undefined;
  for (let p: Plan | undefined = plan; p !== undefined; p = p.parent) if (p.kid) interpretOnly(p.kid, seen);
}

function round(entries: CopyTarget[]): number {
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < COPIES_PER_ROUND; i++) {
    const entry = entries[i % entries.length] as CopyTarget;
    const copy = copyOut(entry.value, entry.plan) as { orders: unknown[] };
    sink += copy.orders.length;
  }
  const ns = Number(process.hrtime.bigint() - start);
  if (sink === 0) throw new Error('unreachable');
  return (COPIES_PER_ROUND / ns) * 1e9;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

for (const shapes of [1, 16]) {
  // Plans are interned per shape: each set gets an extra key of its own, so the two never share a
  // top-level plan (the compiled one inlines every level, so shared nested plans do not matter).
  const interpreted = stored(shapes, 'interpretedOnly');
  for (const entry of interpreted) interpretOnly(entry.plan as Plan);
  const compiledSameSize = stored(shapes, 'compiledToo');
  const a: number[] = [];
  const b: number[] = [];
  round(compiledSameSize);
  round(interpreted);
  for (let r = 0; r < ROUNDS; r++) {
    globalThis.gc?.();
    a.push(round(compiledSameSize));
    globalThis.gc?.();
    b.push(round(interpreted));
  }
  const ma = median(a);
  const mb = median(b);
  process.stdout.write(
    `${shapes} shape(s): compiled ${Math.round(ma).toLocaleString('en')} copies/s, interpreted ${Math.round(mb).toLocaleString('en')} copies/s, compiled/interpreted ${(ma / mb).toFixed(2)}×\n`,
  );
}
