// The live page's script (runs in the browser; no library, no CDN): polls /live.json every
// second and draws each store's figures, charts (inline SVG with axes and units), topology, L1
// and the last topology events. Kept free of backticks and dollar-brace so it can sit in a template.

export const LIVE_PAGE_SCRIPT = String.raw`
const NS = 'http://www.w3.org/2000/svg';
const COLORS = { l1: '#8a4fd6', l2: '#2f6fd6', hit: '#2e9e5b', share: '#8a4fd6', p50: '#2e9e5b', p95: '#d98b1c', p99: '#c4382e', err: '#c4382e' };
function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
function svgEl(tag, attrs, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}
function ms(v) {
  if (v === null || v === undefined) return '–';
  if (v === 0) return '0 ms';
  if (v < 1) return Number((v * 1000).toPrecision(3)) + ' µs';
  if (v < 1000) return Number(v.toPrecision(3)) + ' ms';
  return Number((v / 1000).toPrecision(3)) + ' s';
}
function pct(v) { return v === null || v === undefined ? '–' : Number((v * 100).toFixed(1)) + ' %'; }
function rate(v) { return Number(v.toPrecision(v >= 100 ? 4 : 3)) + ' /s'; }
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
// One chart: x is the last five minutes (ticks every minute), y from 0 to max with its unit on each tick.
function chart(title, name, times, series, format, fixedMax) {
  const W = 340, H = 170, L = 58, R = 10, T = 10, B = 30;
  const pw = W - L - R, ph = H - T - B;
  const values = series.flatMap((s) => s.values).filter((v) => v !== null && v !== undefined);
  const max = fixedMax || niceMax(Math.max(0, ...values));
  const end = times[times.length - 1], span = end - times[0] + (times[1] - times[0]);
  const x = (t) => L + ((t - (end - span)) / span) * pw;
  const y = (v) => T + ph - (v / max) * ph;
  const figure = el('figure', { class: 'chart', 'data-chart': name });
  figure.append(el('figcaption', {}, title));
  const svg = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': title });
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4, yy = y(v);
    svg.append(svgEl('line', { x1: L, x2: W - R, y1: yy, y2: yy, class: i ? 'grid' : 'axis' }));
    svg.append(svgEl('text', { x: L - 4, y: yy + 4, 'text-anchor': 'end', class: 'tick' }, format(v)));
  }
  svg.append(svgEl('line', { x1: L, x2: L, y1: T, y2: T + ph, class: 'axis' }));
  for (let m = 5; m >= 0; m--) {
    const xx = x(end - m * 60);
    svg.append(svgEl('line', { x1: xx, x2: xx, y1: T + ph, y2: T + ph + 4, class: 'axis' }));
    svg.append(svgEl('text', { x: xx, y: H - 8, 'text-anchor': m === 0 ? 'end' : 'middle', class: 'tick' }, m ? '−' + m + ' min' : 'now'));
  }
  for (const s of series) {
    let points = [];
    const flush = () => {
      if (points.length === 1) svg.append(svgEl('circle', { cx: points[0][0], cy: points[0][1], r: 2.5, fill: s.color }));
      else if (points.length > 1) svg.append(svgEl('polyline', { points: points.map((p) => p.join(',')).join(' '), fill: 'none', stroke: s.color, 'stroke-width': 2, class: 'series' }));
      points = [];
    };
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) return flush();
      points.push([x(times[i]).toFixed(1), y(Math.min(v, max)).toFixed(1)]);
    });
    flush();
  }
  figure.append(svg);
  const legend = el('div', { class: 'legend' });
  for (const s of series) {
    const item = el('span');
    item.append(el('i', { style: 'background:' + s.color }), document.createTextNode(s.label));
    legend.append(item);
  }
  figure.append(legend);
  return figure;
}
function figure(name, label, value) {
  const box = el('div', { class: 'figure', 'data-figure': name });
  box.append(el('b', {}, value), el('span', { class: 'muted' }, label));
  return box;
}
function tierBox(store, tier) {
  const f = store.figures, t = f.tiers[tier];
  const box = el('div', { class: 'tier', 'data-tier': tier });
  box.append(el('h3', {}, tier === 'l1' ? 'L1 · process memory' : 'L2 · ' + store.driver));
  const grid = el('div', { class: 'figures' });
  if (tier === 'l1') grid.append(figure('hit-share', 'hit share', pct(f.l1HitShare)));
  else grid.append(figure('hit-ratio', store.l1 ? 'hit ratio (reads reaching it)' : 'hit ratio', pct(store.l1 ? f.l2HitRatio : f.hitRatio)));
  grid.append(figure('ops', 'operations', rate(t.opsPerSec)));
  grid.append(figure('p50', 'p50', ms(t.p50)), figure('p95', 'p95', ms(t.p95)), figure('p99', 'p99', ms(t.p99)));
  grid.append(figure('errors', 'errors', tier === 'l2' ? String(f.errors) : '–'));
  box.append(grid);
  return box;
}
function nodeItem(n) {
  const li = el('li', { class: 'node', 'data-status': n.status, 'data-role': n.role });
  li.append(el('span', { class: 'badge ' + n.status }, n.status));
  li.append(el('code', {}, n.address));
  const more = [n.role];
  if (n.share !== undefined) more.push(pct(n.share) + ' of keys');
  if (n.state) more.push(n.state);
  if (n.lagSeconds !== undefined) more.push('lag ' + n.lagSeconds + ' s');
  li.append(el('span', { class: 'muted' }, more.join(' · ')));
  return li;
}
function l1Box(store) {
  const box = el('div', { class: 'l1', 'data-l1': store.l1 ? 'on' : 'off' });
  box.append(el('h3', {}, 'L1'));
  if (!store.l1) {
    box.append(el('p', { class: 'muted' }, 'off: every read goes to the store (CACHE_L1=on puts one in front)'));
    return box;
  }
  const l1 = store.l1;
  const channel = el('p', { class: 'channel', 'data-state': l1.state });
  channel.append(el('span', { class: 'badge ' + l1.state }, l1.state), document.createTextNode(' on · invalidation ' + l1.invalidation + (l1.state === 'up' ? ': entries are served' : ': flushed and bypassed until the channel is back')));
  box.append(channel);
  const grid = el('div', { class: 'figures' });
  grid.append(figure('l1-entries', 'entries of ' + l1.maxEntries, String(l1.entries)));
  grid.append(figure('l1-bytes', 'bytes of ' + Math.round(l1.maxBytes / 1048576) + ' MiB', (l1.bytes / 1024).toFixed(1) + ' KiB'));
  grid.append(figure('l1-share', 'hit share (1 min)', pct(store.figures.l1HitShare)));
  grid.append(figure('l1-flushes', 'flushes', String(l1.flushes)));
  if (l1.fleet) {
    const b = l1.fleet.lastBarrier;
    grid.append(figure('l1-lease', 'lease of ' + l1.fleet.leaseMs + ' ms (state in the ' + l1.fleet.stateIn + ')', l1.fleet.leaseHeld ? 'held' : 'lapsed'));
    grid.append(figure('l1-fleet', 'other instances at the last barrier', b ? String(b.instances) : '—'));
    grid.append(figure('l1-barrier', b ? 'last barrier: ' + b.acknowledged + ' acknowledged, ' + b.lapsed + ' lapsed, ' + b.polls + ' polls' : 'no barrier yet', b ? b.durationMs.toFixed(1) + ' ms' + (b.outcome === 'ok' ? '' : ' (failed)') : '—'));
  }
  box.append(grid);
  return box;
}
function breakerLine(store) {
  const b = store.breaker;
  const line = el('p', { class: 'breaker', 'data-state': b && b.failFast ? b.state : 'off', 'data-health': b ? b.state : 'up' });
  if (!b || !b.failFast) {
    line.className = 'breaker muted';
    line.textContent = (b ? 'store ' + b.state + ' since ' + new Date(b.since).toLocaleTimeString() + ' · ' : '') + 'L2 breaker off: a frozen store makes every call wait for its timeout (CACHE_BREAKER=on)';
    return line;
  }
  const since = new Date(b.since).toLocaleTimeString();
  const text = b.state === 'up'
    ? ' L2 breaker closed since ' + since + ' · ' + b.consecutiveFailures + ' failed call(s) in a row'
    : ' L2 breaker open since ' + since + ': calls fail at once, graced values and the L1 answer · ' + b.consecutiveFailures + ' failed calls in a row · a probe every ' + b.probeIntervalMs + ' ms';
  line.append(el('span', { class: 'badge ' + b.state }, b.state === 'up' ? 'store up' : 'store down'), document.createTextNode(text));
  if (b.lastError) line.append(el('span', { class: 'muted last-error' }, ' · last error: ' + b.lastError.message + (b.lastError.code ? ' [' + b.lastError.code + ']' : '')));
  return line;
}
function card(store) {
  const box = el('section', { class: 'store', 'data-store': store.name, 'data-ok': String(store.ok) });
  const head = el('header');
  head.append(el('h2', {}, store.name), el('span', { class: 'badge ' + (store.ok ? 'up' : 'down') }, store.ok ? 'healthy' : 'failing'));
  head.append(el('span', { class: 'muted topology' }, store.driver + (store.mode ? ' · ' + store.mode : '')));
  box.append(head);
  box.append(breakerLine(store));
  if (store.problem) box.append(el('p', { class: 'problem' }, store.problem.message + ' [' + store.problem.code + ']'));
  for (const w of store.warnings) box.append(el('p', { class: 'warning' }, w));
  const f = store.figures;
  const summary = el('p', { class: 'summary muted' });
  summary.textContent = 'Last minute: ' + f.reads + ' keys read, hit ratio ' + pct(f.hitRatio) + ', ' + f.errors + ' error(s). Latency is the cache\u2019s own time, loaders apart; health probes are not counted.';
  box.append(summary);
  const tiers = el('div', { class: 'tiers' });
  if (store.l1) tiers.append(tierBox(store, 'l1'));
  tiers.append(tierBox(store, 'l2'));
  box.append(tiers);
  const s = store.series, t = s.t;
  const charts = el('div', { class: 'charts' });
  const ops = [{ label: 'L2 ops/s', color: COLORS.l2, values: s.tiers.l2.opsPerSec }];
  if (store.l1) ops.unshift({ label: 'L1 ops/s', color: COLORS.l1, values: s.tiers.l1.opsPerSec });
  ops.push({ label: 'errors/s', color: COLORS.err, values: s.errorsPerSec });
  charts.append(chart('Operations per second', 'ops', t, ops, rate));
  const hits = [{ label: 'hit ratio', color: COLORS.hit, values: s.hitRatio }];
  if (store.l1) hits.push({ label: 'L1 hit share', color: COLORS.share, values: s.l1HitShare });
  charts.append(chart('Hit ratio, %', 'hits', t, hits, (v) => Math.round(v * 100) + ' %', 1));
  for (const tier of store.l1 ? ['l2', 'l1'] : ['l2']) {
    const c = s.tiers[tier];
    charts.append(chart((tier === 'l1' ? 'L1' : 'L2') + ' latency (loaders apart)', 'latency-' + tier, t, [
      { label: 'p50', color: COLORS.p50, values: c.p50 }, { label: 'p95', color: COLORS.p95, values: c.p95 }, { label: 'p99', color: COLORS.p99, values: c.p99 },
    ], ms));
  }
  box.append(charts);
  const topo = el('div', { class: 'nodes' });
  topo.append(el('h3', {}, 'Topology'));
  if (store.discovery) topo.append(el('p', { class: 'muted' }, 'discovery ' + store.discovery.endpoint + ', config version ' + (store.discovery.version ?? '–') + (store.discovery.ok ? '' : ' (last poll failed)')));
  const list = el('ul');
  for (const n of store.nodes) list.append(nodeItem(n));
  if (!store.nodes.length) list.append(el('li', { class: 'muted' }, 'no node known'));
  topo.append(list);
  const lower = el('div', { class: 'lower' });
  lower.append(topo, l1Box(store));
  box.append(lower);
  return box;
}
function eventItem(e) {
  const li = el('li', { 'data-event': e.event });
  li.append(el('time', { datetime: new Date(e.at).toISOString() }, new Date(e.at).toLocaleTimeString()));
  li.append(el('b', {}, e.event));
  const more = [e.store];
  if (e.node) more.push(e.node);
  if (e.version !== undefined) more.push('version ' + e.version);
  if (e.reason) more.push(e.reason);
  li.append(el('span', { class: 'muted' }, more.join(' · ')));
  return li;
}
async function refresh() {
  try {
    const res = await fetch('/live.json', { cache: 'no-store' });
    const data = await res.json();
    document.getElementById('stores').replaceChildren(...data.stores.map(card));
    const events = document.getElementById('events');
    events.replaceChildren(...data.events.map(eventItem));
    if (!data.events.length) events.append(el('li', { class: 'muted' }, 'none since the app started'));
    const routes = document.getElementById('routes');
    if (!routes.children.length) {
      for (const r of data.routes) {
        const li = el('li');
        li.append(r.method === 'GET' ? el('a', { href: r.path }, r.path) : el('code', {}, r.method + ' ' + r.path));
        li.append(document.createTextNode(' — ' + r.what));
        routes.append(li);
      }
    }
    document.getElementById('updated').textContent = 'updated ' + new Date(data.now).toLocaleTimeString();
  } catch (error) {
    document.getElementById('updated').textContent = 'waiting for the app…';
  }
}
refresh();
setInterval(refresh, 1000);
`;
