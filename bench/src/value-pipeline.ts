/**
 * `pnpm bench values [--ops n]` (main.ts hands it here): what the value pipeline's compression and
 * encryption cost and save on a real redis-server, against keyv with `@keyv/compress-brotli` on
 * the same server in the same run. A JSON corpus (API-like records) at 200 B, 2 KB, 30 KB and
 * 300 KB; per contender and size: bytes Redis holds (STRLEN summed over every key it wrote),
 * process CPU per set and per get (user + system), and p50/p99 of sequential sets and gets.
 * Prints one markdown table; the core README quotes it. Not a timed test: figures vary with the machine.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import KeyvBrotli from '@keyv/compress-brotli';
import KeyvRedis from '@keyv/redis';
import { Cache, type CacheOptions } from '@larder/core';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { createRedisStore } from '@larder/redis';
import { Redis } from 'ioredis';
import Keyv from 'keyv';
import { machineInfo } from './harness';

const SIZES = [200, 2_000, 30_000, 300_000];

/** A record as an API returns it: ids, names, dates, flags, a short text; mildly repetitive, like real JSON. */
function corpus(bytes: number, seed: number): unknown {
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
  const rows: unknown[] = [];
  let i = 0;
  while (JSON.stringify(rows).length < bytes - 40) {
    const n = (seed * 7919 + i * 104_729) % 1_000_003;
    rows.push({
      id: n,
      name: `${words[n % 10]} ${words[(n >> 3) % 10]}`,
      email: `${words[n % 10]}.${n}@example.com`,
      created: new Date(1_700_000_000_000 + n * 1000).toISOString(),
      active: n % 3 === 0,
      score: (n % 1000) / 10,
      note: words.slice(n % 5, (n % 5) + 3).join(' '),
    });
    i++;
  }
  return { page: seed, rows };
}

interface Contender {
  name: string;
  set(key: string, value: unknown): Promise<unknown>;
  get(key: string): Promise<unknown>;
  close(): Promise<void>;
}

function larder(url: string, name: string, options: Omit<CacheOptions, 'store'>): Contender {
  const cache = new Cache({ store: createRedisStore({ url }), prefix: 'b:', ...options });
  return { name, set: (k, v) => cache.set(k, v), get: (k) => cache.get(k), close: () => cache.close() };
}

function keyv(url: string, name: string, compress: boolean): Contender {
  const store = new KeyvRedis(url);
  const kv = new Keyv({ store, ...(compress ? { compression: new KeyvBrotli() } : {}) });
  return {
    name,
    set: (k, v) => kv.set(k, v),
    get: (k) => kv.get(k),
    close: async () => {
      await kv.disconnect();
    },
  };
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;

async function storedBytes(raw: Redis): Promise<number> {
  let total = 0;
  let cursor = '0';
  do {
    const [next, keys] = await raw.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) total += await raw.strlen(key);
  } while (cursor !== '0');
  return total;
}

interface Row {
  contender: string;
  size: number;
  bytes: number;
  setCpuUs: number;
  getCpuUs: number;
  setP50: number;
  setP99: number;
  getP50: number;
  getP99: number;
}

async function measure(raw: Redis, contender: Contender, size: number, ops: number): Promise<Row> {
  await raw.flushall();
  const values = Array.from({ length: 16 }, (_, i) => corpus(size, i));
  const keys = Array.from({ length: ops }, (_, i) => `k${i}`);
  for (let i = 0; i < 20; i++) await contender.set(`warm${i}`, values[i % 16]);
  for (let i = 0; i < 20; i++) await contender.get(`warm${i}`);
  await raw.flushall();
  const setTimes: number[] = [];
  let cpu = process.cpuUsage();
  for (let i = 0; i < ops; i++) {
    const start = performance.now();
    await contender.set(keys[i] as string, values[i % 16]);
    setTimes.push(performance.now() - start);
  }
  const setCpu = process.cpuUsage(cpu);
  const bytes = await storedBytes(raw);
  const getTimes: number[] = [];
  cpu = process.cpuUsage();
  for (let i = 0; i < ops; i++) {
    const start = performance.now();
    const got = await contender.get(keys[i] as string);
    getTimes.push(performance.now() - start);
    if (got === undefined) throw new Error(`${contender.name} lost ${keys[i]}`);
  }
  const getCpu = process.cpuUsage(cpu);
  setTimes.sort((a, b) => a - b);
  getTimes.sort((a, b) => a - b);
  return {
    contender: contender.name,
    size,
    bytes: Math.round(bytes / ops),
    setCpuUs: Math.round((setCpu.user + setCpu.system) / ops),
    getCpuUs: Math.round((getCpu.user + getCpu.system) / ops),
    setP50: quantile(setTimes, 0.5),
    setP99: quantile(setTimes, 0.99),
    getP50: quantile(getTimes, 0.5),
    getP99: quantile(getTimes, 0.99),
  };
}

/** Runs the comparison and prints the table. */
export async function runValues(args: string[]): Promise<void> {
  const opsArg = args.indexOf('--ops');
  const baseOps = opsArg >= 0 ? Number(args[opsArg + 1]) : 2000;
  const server: RedisServer = await startRedis();
  const raw = new Redis(server.url);
  const key = { id: 'k1', key: randomBytes(32) };
  const contenders = [
    larder(server.url, 'larder (json, no compression)', {}),
    larder(server.url, 'larder brotli (minBytes 1024)', { compress: { algorithm: 'brotli' } }),
    // The 200 B row at the same algorithm as keyv's (which compresses every value): below the default minBytes.
    larder(server.url, 'larder brotli (minBytes 128)', { compress: { algorithm: 'brotli', minBytes: 128 } }),
    larder(server.url, 'larder gzip (minBytes 1024)', { compress: { algorithm: 'gzip' } }),
    larder(server.url, 'larder brotli + AES-256-GCM', { compress: { algorithm: 'brotli' }, encrypt: { keys: [key] } }),
    keyv(server.url, 'keyv (no compression)', false),
    keyv(server.url, 'keyv + @keyv/compress-brotli', true),
  ];
  const rows: Row[] = [];
  try {
    for (const size of SIZES) {
      const ops = size >= 300_000 ? Math.max(50, Math.floor(baseOps / 10)) : baseOps;
      for (const contender of contenders) {
        process.stderr.write(`values: ${contender.name} at ${size} B, ${ops} ops\n`);
        rows.push(await measure(raw, contender, size, ops));
      }
    }
  } finally {
    for (const contender of contenders) await contender.close().catch(() => {});
    raw.disconnect();
    await server.stop();
  }
  const ms = (n: number) => n.toFixed(3);
  const lines = [
    `Value pipeline on redis-server (loopback), ${new Date().toISOString().slice(0, 10)}, ${machineInfo()}, Node ${process.version}`,
    '',
    '| contender | value (JSON) | bytes stored / key | CPU µs / set | CPU µs / get | set p50 / p99 ms | get p50 / p99 ms |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.contender} | ${r.size.toLocaleString('en')} B | ${r.bytes.toLocaleString('en')} | ${r.setCpuUs} | ${r.getCpuUs} | ${ms(r.setP50)} / ${ms(r.setP99)} | ${ms(r.getP50)} / ${ms(r.getP99)} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
