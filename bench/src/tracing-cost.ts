/**
 * `node --expose-gc --import tsx bench/src/tracing-cost.ts`: the cost of the larder.operation
 * check with no subscriber, measured tighter than the memory scenario can on a busy machine.
 * Two copies of core built the same way (see untraced-core.ts): one with the check, one without.
 * Each measurement is a fresh child process holding one copy and one memory store (in one
 * process, whichever copy loads first runs up to 20% faster), timing the CPU of 200,000 awaited
 * `get` hits per round, 11 rounds, median. Children alternate (A B B A ...), 10 of each; prints
 * the median over the children of each copy and the ratio.
 */
import { spawnSync } from 'node:child_process';
import { cpuUsage } from 'node:process';
import { fileURLToPath } from 'node:url';
import { createMemoryStore } from '@larder/memory';
import { coreCopy } from './untraced-core';

type Kind = 'traced' | 'untraced';
const CALLS = 200_000;
const ROUNDS = 11;
const CHILDREN = 10;
const KEYS = 1000;
const keys = Array.from({ length: KEYS }, (_, i) => `user:${i}`);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** One child: median CPU ns per `get` of one copy. */
async function measure(kind: Kind): Promise<number> {
  const copy = await coreCopy(kind);
  const cache = new copy.Cache({ store: createMemoryStore({ maxEntries: 10_000 }), prefix: 'larder' });
  for (let i = 0; i < KEYS; i++) await cache.set(keys[i] as string, { id: i, name: 'Ada Lovelace' }, 3_600_000);
  const samples: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    (globalThis as { gc?: () => void }).gc?.();
    const start = cpuUsage();
    for (let i = 0; i < CALLS; i++) await cache.get(keys[i % KEYS] as string);
    const used = cpuUsage(start);
    samples.push(((used.user + used.system) * 1000) / CALLS);
  }
  await cache.close();
  copy.dispose();
  return median(samples.slice(1));
}

function child(kind: Kind): number {
  const run = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), kind], {
    encoding: 'utf8',
  });
  const value = Number(run.stdout.trim().split('\n').at(-1));
  if (!Number.isFinite(value)) throw new Error(`child ${kind} failed: ${run.stderr}`);
  return value;
}

const only = process.argv[2];
if (only === 'traced' || only === 'untraced') {
  console.log(await measure(only));
} else {
  const results: Record<Kind, number[]> = { traced: [], untraced: [] };
  for (let i = 0; i < CHILDREN; i++) {
    const order: Kind[] = i % 2 === 0 ? ['traced', 'untraced'] : ['untraced', 'traced'];
    for (const kind of order) results[kind].push(child(kind));
  }
  const traced = median(results.traced);
  const untraced = median(results.untraced);
  const fmt = (values: number[]) => values.map((v) => v.toFixed(0)).join(' ');
  console.log(
    `get (hit): median CPU ns per awaited call, ${CHILDREN} processes per copy (${ROUNDS} rounds of ${CALLS})`,
  );
  console.log(`core copy, tracing code (no subscriber): ${traced.toFixed(1)} ns   [${fmt(results.traced)}]`);
  console.log(`core copy, no tracing code:              ${untraced.toFixed(1)} ns   [${fmt(results.untraced)}]`);
  console.log(`tracing code / no tracing code: ${(traced / untraced).toFixed(3)}×`);
}
