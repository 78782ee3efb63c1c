/**
 * Profiling harness for the response cache's hit path in process (not a benchmark): fills a
 * memory store with one response for each of `urls` URLs through the engine's store, then asks
 * `engine.begin` for GETs of them in turn and builds each replay's headers, with no HTTP around it.
 * Prints the best of 7 rounds' CPU µs per hit. The engine runs from its TypeScript sources. Usage:
 *   node --import tsx bench/src/rc-engine.ts [urls=4000] [hits per round=100000]
 */
import { Cache } from '@larder/core';
import { createMemoryStore } from '@larder/memory';
// The engine from its sources (the bench has no dependency on @larder/http; its key functions are internal).
import { type HttpRequest, ResponseCacheEngine } from '../../packages/http/src/engine';
import { baseKey, originFrom } from '../../packages/http/src/key';
import { replayed } from '../../packages/http/src/replay';

const urls = Number(process.argv[2] ?? 4000);
const perRound = Number(process.argv[3] ?? 100_000);
const store = createMemoryStore({ maxEntries: 1_000_000, maxBytes: 4 * 1024 ** 3 });
const cache = new Cache({ store, prefix: 'bench-rc:' });
const engine = new ResponseCacheEngine({ cache, ttl: '5m' });
const HOST = '127.0.0.1:3000';
const origin = originFrom('/', HOST, false);
const items = Array.from({ length: 40 }, (_, i) => ({ i, name: `item ${i} name` }));
const body = Buffer.from(JSON.stringify({ id: 1, items }));

await cache.get('warm');
for (let i = 0; i < urls; i++) {
  const scoped = await engine.store.pin(`http:${engine.store.prefix}g.${i}`);
  if (!scoped) throw new Error('the scope could not be pinned');
  const now = Date.now();
  const headers = {
    'content-type': 'application/json; charset=utf-8',
    etag: `W/"${i}-abc"`,
    date: new Date(now).toUTCString(),
    'content-length': String(body.length),
  };
  const stored = await engine.store.fill({
    base: baseKey(origin, `/item/${i}`, [], { host: HOST }),
    scoped,
    seen: { kind: 'miss', fwd: 'uri-miss', head: undefined },
    vary: [],
    headers: { host: HOST },
    entry: {
      status: 200,
      headers,
      body,
      length: body.length,
      storedAt: now,
      expiresAt: now + 300_000,
      age: 0,
      shared: false,
    },
  });
  if (!stored) throw new Error('not stored');
}

/** A GET of the `i`th URL as the node binding hands it to the engine. */
function request(i: number): HttpRequest {
  const url = `/item/${i % urls}`;
  const headers = { host: HOST, connection: 'keep-alive' };
  return {
    method: 'GET',
    url,
    headers,
    origin: originFrom(url, HOST, false),
    keyRequest: { method: 'GET', url, originalUrl: url, headers },
  };
}

let best = Number.POSITIVE_INFINITY;
for (let round = 0; round < 7; round++) {
  const before = process.cpuUsage();
  for (let i = 0; i < perRound; i++) {
    const req = request(i);
    const begun = engine.begin(req);
    const step = begun instanceof Promise ? await begun : begun;
    if (step.kind !== 'replay') throw new Error(`not a hit: ${step.kind}`);
    replayed(req.headers, step.entry, step.options);
  }
  const used = process.cpuUsage(before);
  best = Math.min(best, (used.user + used.system) / perRound);
}
process.stdout.write(`${urls} URLs: ${best.toFixed(2)} µs of CPU per hit (best of 7 rounds of ${perRound})\n`);
