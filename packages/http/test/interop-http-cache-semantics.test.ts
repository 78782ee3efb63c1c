import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import CachePolicy from 'http-cache-semantics';
import { describe, expect, it } from 'vitest';
import { planRequest, storeDecision } from '../src/policy';

// An oracle from outside the project: `http-cache-semantics` (the shared-cache rules of got and
// make-fetch-happen), as `new CachePolicy(req, res, { shared: true })`. For each response below,
// larder's decision (src/policy.ts: `planRequest`, then `storeDecision`) and the oracle's
// (`storable()`, `timeToLive()`) must give the same fresh lifetime: 0 when the response is not
// stored or not fresh. Rows where larder disagrees on purpose say why, with the RFC section, and
// pin both answers (a change on either side shows).

const NOW = Date.now();
/** larder's `ttl` (it caps every lifetime): above every explicit lifetime of the table. */
const TTL_MS = 2 * 3_600_000;
const HOUR = 3_600_000;
const httpDate = (offsetMs: number) => new Date(NOW + offsetMs).toUTCString();
/** The statuses the oracle understands, all of them allowed to larder here (its `statuses` option). */
const STATUSES = new Set([200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 501]);

interface Row {
  name: string;
  status?: number;
  headers: OutgoingHttpHeaders;
  request?: IncomingHttpHeaders;
  /** A deliberate disagreement: larder's and the oracle's fresh seconds, and why. */
  differs?: { larder: number; oracle: number; why: string };
}

const rows: Row[] = [
  { name: 'max-age', headers: { 'cache-control': 'max-age=60' } },
  { name: 's-maxage wins for a shared cache', headers: { 'cache-control': 'max-age=0, s-maxage=120' } },
  { name: 'no-store', headers: { 'cache-control': 'no-store, max-age=60' } },
  { name: 'private', headers: { 'cache-control': 'private, max-age=60' } },
  { name: 'no-cache (stored or not, never fresh)', headers: { 'cache-control': 'no-cache, max-age=60' } },
  { name: 'max-age=0', headers: { 'cache-control': 'max-age=0' } },
  { name: 'an invalid max-age', headers: { 'cache-control': 'max-age=soon' } },
  { name: 'Expires an hour after Date', headers: { date: httpDate(0), expires: httpDate(HOUR) } },
  { name: 'Expires before Date', headers: { date: httpDate(0), expires: httpDate(-HOUR) } },
  { name: 'an invalid Expires ("0")', headers: { date: httpDate(0), expires: '0' } },
  { name: 'max-age wins over Expires', headers: { 'cache-control': 'max-age=60', expires: httpDate(HOUR) } },
  { name: 'Expires without Date', headers: { expires: httpDate(HOUR) } },
  { name: 'Age lowers the lifetime left', headers: { 'cache-control': 'max-age=600', age: '100' } },
  { name: 'Age past the lifetime', headers: { 'cache-control': 'max-age=60', age: '100' } },
  { name: 'Vary: Accept-Encoding', headers: { 'cache-control': 'max-age=60', vary: 'Accept-Encoding' } },
  { name: 'Vary: *', headers: { 'cache-control': 'max-age=60', vary: '*' } },
  { name: '301 with max-age', status: 301, headers: { 'cache-control': 'max-age=60' } },
  { name: '302 with max-age', status: 302, headers: { 'cache-control': 'max-age=60' } },
  { name: '302 without freshness (not heuristically cacheable)', status: 302, headers: {} },
  { name: '307 with Expires', status: 307, headers: { date: httpDate(0), expires: httpDate(HOUR) } },
  { name: '410 with max-age', status: 410, headers: { 'cache-control': 'max-age=60' } },
  {
    name: 'Authorization, max-age only',
    headers: { 'cache-control': 'max-age=60' },
    request: { authorization: 'Bearer t' },
  },
  {
    name: 'Authorization with public',
    headers: { 'cache-control': 'public, max-age=60' },
    request: { authorization: 'Bearer t' },
  },
  {
    name: 'Authorization with s-maxage',
    headers: { 'cache-control': 's-maxage=30' },
    request: { authorization: 'Bearer t' },
  },
  {
    name: 'Authorization with must-revalidate',
    headers: { 'cache-control': 'must-revalidate, max-age=60' },
    request: { authorization: 'Bearer t' },
  },
  { name: 'request no-store', headers: { 'cache-control': 'max-age=60' }, request: { 'cache-control': 'no-store' } },
  { name: 'Set-Cookie without public', headers: { 'cache-control': 'max-age=60', 'set-cookie': 'sid=1' } },
  // RFC 9111 §5.1: a list-valued Age is read by its first member; so does the oracle (parseInt).
  { name: 'an Age list, its first member stale', headers: { 'cache-control': 'max-age=3600', age: '7200, 0' } },
  { name: 'an Age list, its first member fresh', headers: { 'cache-control': 'max-age=3600', age: '100, 7200' } },
  // RFC 9111 §4.2.3: a Date in the future counts no apparent age; an invalid one is the time received.
  { name: 'Date an hour ahead', headers: { 'cache-control': 'max-age=600', date: httpDate(HOUR) } },
  { name: 'an invalid Date', headers: { 'cache-control': 'max-age=600', date: 'yesterday' } },
  {
    name: 'Date an hour back (apparent age)',
    headers: { 'cache-control': 'max-age=600', date: httpDate(-HOUR) },
    differs: {
      larder: 0,
      oracle: 600,
      why: 'RFC 9111 §4.2.3: the corrected initial age is at least the apparent age (the time received − Date), an hour here, past max-age: larder does not store it; the oracle counts only the Age header',
    },
  },
  {
    name: 'Expires two hours after a Date an hour back',
    headers: { date: httpDate(-HOUR), expires: httpDate(HOUR) },
    differs: {
      larder: HOUR / 1000,
      oracle: (2 * HOUR) / 1000,
      why: 'RFC 9111 §4.2.1, §4.2.3: the lifetime is Expires − Date (two hours), less the apparent age (an hour): fresh until Expires; the oracle counts no apparent age',
    },
  },
  {
    name: 'an invalid Age',
    headers: { 'cache-control': 'max-age=60', age: 'soon' },
    differs: {
      larder: 0,
      oracle: 60,
      why: 'RFC 9111 §5.1 lets a cache ignore it, §4.2.1 encourages treating invalid freshness information as stale: larder does not store a response of unknown age; the oracle takes it as age 0 (parseInt)',
    },
  },
  {
    name: 'no explicit freshness (200)',
    headers: {},
    differs: {
      larder: TTL_MS / 1000,
      oracle: 0,
      why: "RFC 9111 §4.2.2 leaves heuristic freshness to the cache: larder's is its `ttl` option; the oracle's is 0 without Last-Modified",
    },
  },
  {
    name: 'no explicit freshness, Last-Modified a day ago (404)',
    status: 404,
    headers: { date: httpDate(0), 'last-modified': httpDate(-24 * HOUR) },
    differs: {
      larder: TTL_MS / 1000,
      oracle: 8640,
      why: "RFC 9111 §4.2.2: a heuristic of the cache's choosing; the oracle's is 10% of the time since Last-Modified, larder's its `ttl`",
    },
  },
  {
    name: 'Set-Cookie with public',
    headers: { 'cache-control': 'public, max-age=60', 'set-cookie': 'sid=1' },
    differs: {
      larder: 0,
      oracle: 60,
      why: "RFC 9111 §7.3 (sensitive information): larder never stores a response that sets a cookie, since a hit would hand one user's cookie to the next; the oracle does once the response says public",
    },
  },
  {
    name: 'proxy-revalidate',
    headers: { 'cache-control': 'proxy-revalidate, max-age=60' },
    differs: {
      larder: 60,
      oracle: 0,
      why: 'RFC 9111 §5.2.2.8: proxy-revalidate restricts serving a stale response only (must-revalidate for shared caches); the oracle gives a shared cache no freshness at all',
    },
  },
];

/** Seconds larder keeps the response fresh: 0 when it is not stored. */
function larderFresh(row: Row): number {
  const req = { method: 'GET', headers: { host: 'a.example', ...row.request } };
  if (planRequest(req, new Set(['GET', 'HEAD'])).pass) return 0;
  const decision = storeDecision(
    req,
    { status: row.status ?? 200, headers: row.headers },
    {
      statuses: STATUSES,
      ttlMs: TTL_MS,
      now: NOW,
      keyed: [],
      origin: { scheme: 'http', host: 'a.example' },
      maxBodyBytes: 1 << 20,
    },
  );
  return decision.store ? (decision.expiresAt - NOW) / 1000 : 0;
}

/** Seconds the oracle keeps it fresh (`timeToLive()`: no row has a stale-* directive): 0 when not storable. */
function oracleFresh(row: Row): number {
  const policy = new CachePolicy(
    { method: 'GET', url: '/page', headers: { host: 'a.example', ...row.request } },
    { status: row.status ?? 200, headers: row.headers as CachePolicy.Headers },
    { shared: true },
  );
  return policy.storable() ? policy.timeToLive() / 1000 : 0;
}

describe('storing and freshness against http-cache-semantics (shared cache)', () => {
  it.each(rows.map((row) => [row.name, row] as const))('%s', (_name, row) => {
    const larder = larderFresh(row);
    const oracle = oracleFresh(row);
    // The oracle counts its age from when it was constructed: within a second of NOW.
    if (row.differs === undefined) {
      expect(Math.abs(larder - oracle)).toBeLessThanOrEqual(1);
      return;
    }
    expect(Math.abs(larder - row.differs.larder)).toBeLessThanOrEqual(1);
    expect(Math.abs(oracle - row.differs.oracle)).toBeLessThanOrEqual(1);
  });

  it('the table has rows both sides store and rows neither does', () => {
    const fresh = rows.filter((row) => !row.differs).map(larderFresh);
    expect(fresh.filter((s) => s > 0).length).toBeGreaterThan(8);
    expect(fresh.filter((s) => s === 0).length).toBeGreaterThan(8);
  });
});
