import type { Cache } from '@larder/core';
import type { Request, Response } from 'express';
import type { LiveStats } from './live-stats';

/** The demo routes the page links to. */
export const DEMO_ROUTES = [
  { method: 'GET', path: '/customers/1', what: 'cache-aside: remember() in front of a slow lookup' },
  { method: 'GET', path: '/customers/2', what: 'the same, another key' },
  { method: 'GET', path: '/reports/daily', what: 'responseCache: X-Cache and Cache-Status headers' },
  { method: 'GET', path: '/me', what: 'session (POST /login first)' },
  { method: 'GET', path: '/healthz', what: 'stores, drivers and latency as JSON' },
  { method: 'GET', path: '/metrics', what: 'Prometheus metrics from @larder/otel' },
];

const DESCRIBE_EVERY_MS = 5000;

/** What the page shows of a store: its name, driver and topology (from `describe()`), never a secret. */
interface StoreView {
  name: string;
  driver: string;
  mode?: string;
  nodes?: { address: string; role: string; status: string }[];
}

/** `GET /live.json` (polled every second by the page) and `GET /` (the page). */
export function livePage(caches: Cache[], stats: LiveStats) {
  let described: { at: number; views: Promise<StoreView[]> } | undefined;
  const views = () => {
    if (described === undefined || Date.now() - described.at > DESCRIBE_EVERY_MS) {
      described = { at: Date.now(), views: Promise.all(caches.map(view)) };
    }
    return described.views;
  };
  return {
    async json(_req: Request, res: Response): Promise<void> {
      const stores = await views();
      res.set('Cache-Control', 'no-store').json({
        stores: stores.map((store) => ({ ...store, window: stats.window(store.name) })),
        routes: DEMO_ROUTES,
      });
    },
    page(_req: Request, res: Response): void {
      res.set('Cache-Control', 'no-store').type('html').send(PAGE);
    },
  };
}

/** Topology from `describe()` — the facade's when it has one, else the store's — else the driver name only. */
async function view(cache: Cache): Promise<StoreView> {
  try {
    const facade = cache as Cache & { describe?: () => Promise<unknown> };
    const store = await cache.getStore();
    const description = (await (typeof facade.describe === 'function' ? facade.describe() : store.describe?.())) as
      | { topology?: { mode: string; nodes: { address: string; role: string; status: string }[] } }
      | undefined;
    const topology = description?.topology;
    if (topology === undefined) return { name: cache.name, driver: store.driver ?? 'unknown' };
    return {
      name: cache.name,
      driver: store.driver ?? 'unknown',
      mode: topology.mode,
      // Only these three fields: the page never shows more than addresses, roles and health.
      nodes: topology.nodes.map(({ address, role, status }) => ({ address, role, status })),
    };
  } catch {
    return { name: cache.name, driver: 'unavailable' };
  }
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>larder — live</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #1d2733; background: #f7f8fa; }
  h1 { font-size: 1.4rem; margin: 0 0 1rem; }
  .stores { display: flex; flex-wrap: wrap; gap: 1rem; }
  .store { background: #fff; border: 1px solid #d8dde3; border-radius: 8px; padding: 1rem; min-width: 320px; }
  .store h2 { font-size: 1.1rem; margin: 0 0 .25rem; }
  .muted { color: #66717d; }
  .figures { display: flex; gap: 1.5rem; margin: .5rem 0; }
  .figure b { display: block; font-size: 1.4rem; }
  svg { background: #fbfcfd; border: 1px solid #e3e7eb; border-radius: 4px; }
  ul { padding-left: 1.2rem; }
  code { background: #eef1f4; padding: 0 .25rem; border-radius: 3px; }
</style>
</head>
<body>
<h1>larder — live</h1>
<p class="muted">The stores this app uses, their topology, and the last minute of traffic (hit ratio in green, mean latency in blue). Updated every second.</p>
<div id="stores" class="stores"></div>
<h2>Demo routes</h2>
<ul id="routes"></ul>
<script>
const W = 300, H = 80;
function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
function line(points, max, color) {
  const svgNs = 'http://www.w3.org/2000/svg';
  const path = document.createElementNS(svgNs, 'polyline');
  const step = W / Math.max(1, points.length - 1);
  path.setAttribute('points', points.map((v, i) => (i * step).toFixed(1) + ',' + (H - 4 - (max > 0 ? v / max : 0) * (H - 8)).toFixed(1)).join(' '));
  path.setAttribute('fill', 'none');
  path.setAttribute('stroke', color);
  path.setAttribute('stroke-width', '2');
  return path;
}
function card(store) {
  const box = el('section', { class: 'store', 'data-store': store.name });
  box.append(el('h2', {}, store.name));
  const topo = store.mode ? store.driver + ' · ' + store.mode : store.driver;
  box.append(el('div', { class: 'muted topology' }, topo));
  if (store.nodes && store.nodes.length) {
    const list = el('ul', { class: 'nodes' });
    for (const n of store.nodes) list.append(el('li', {}, n.address + ' — ' + n.role + ', ' + n.status));
    box.append(list);
  }
  const w = store.window;
  const hits = w.reduce((s, p) => s + p.hits, 0), misses = w.reduce((s, p) => s + p.misses, 0);
  const ops = w.reduce((s, p) => s + p.ops, 0);
  const busy = w.filter((p) => p.ops > 0);
  const avg = busy.length ? busy.reduce((s, p) => s + p.avgMs * p.ops, 0) / ops : 0;
  const figures = el('div', { class: 'figures' });
  const fig = (label, value, cls) => { const f = el('div', { class: 'figure' }); f.append(el('b', { class: cls }, value)); f.append(el('span', { class: 'muted' }, label)); return f; };
  figures.append(fig('operations / min', String(ops), 'ops'));
  figures.append(fig('hit ratio', hits + misses ? Math.round(100 * hits / (hits + misses)) + '%' : '–', 'hit-ratio'));
  figures.append(fig('mean latency', avg ? avg.toFixed(2) + ' ms' : '–', 'latency'));
  box.append(figures);
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('width', W); svg.setAttribute('height', H); svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'hit ratio and latency, last minute');
  const ratios = w.map((p) => (p.hits + p.misses ? p.hits / (p.hits + p.misses) : 0));
  const latencies = w.map((p) => p.avgMs);
  svg.append(line(ratios, 1, '#2e9e5b'));
  svg.append(line(latencies, Math.max(...latencies, 0.001), '#2f6fd6'));
  box.append(svg);
  return box;
}
async function refresh() {
  try {
    const res = await fetch('/live.json', { cache: 'no-store' });
    const data = await res.json();
    const stores = document.getElementById('stores');
    stores.replaceChildren(...data.stores.map(card));
    const routes = document.getElementById('routes');
    if (!routes.children.length) {
      for (const r of data.routes) {
        const li = el('li');
        li.append(r.method === 'GET' ? el('a', { href: r.path }, r.path) : el('code', {}, r.method + ' ' + r.path));
        li.append(document.createTextNode(' — ' + r.what));
        routes.append(li);
      }
    }
  } catch (error) {
    document.getElementById('stores').textContent = 'waiting for the app…';
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
`;
