import { LIVE_PAGE_SCRIPT } from './live-page-script';

// The live page: one HTML document, its style and script inline (no CDN, no build step). It
// reads well from phone width (390 px, one column) up: grids wrap, long addresses break.

const STYLE = `
  * { box-sizing: border-box; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; padding: 12px; color: #1d2733; background: #f7f8fa; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  h2 { font-size: 1.15rem; margin: 0; }
  h3 { font-size: .95rem; margin: .75rem 0 .35rem; }
  .muted { color: #5d6875; }
  code, .node code { overflow-wrap: anywhere; }
  .store { background: #fff; border: 1px solid #d8dde3; border-radius: 8px; padding: 12px; margin: 12px 0; }
  .store > header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .5rem; }
  .problem { color: #9c2a22; background: #fdeeed; border-radius: 4px; padding: .4rem .6rem; overflow-wrap: anywhere; }
  .breaker { overflow-wrap: anywhere; margin: .3rem 0; }
  .warning { color: #7a5200; background: #fff6e0; border-radius: 4px; padding: .4rem .6rem; overflow-wrap: anywhere; }
  .badge { display: inline-block; border-radius: 999px; padding: 0 .5rem; font-size: .8rem; font-weight: 600; color: #fff; background: #66717d; margin-right: .4rem; }
  .badge.up { background: #2e8b57; } .badge.down { background: #c4382e; } .badge.ejected { background: #c27a00; }
  .tiers, .lower { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(260px, 100%), 1fr)); gap: 12px; }
  .tier, .l1, .nodes { border: 1px solid #e3e7eb; border-radius: 6px; padding: 0 10px 10px; min-width: 0; }
  .figures { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 8px; }
  .figure b { display: block; font-size: 1.1rem; font-variant-numeric: tabular-nums; }
  .figure span { font-size: .8rem; }
  .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(300px, 100%), 1fr)); gap: 12px; margin: 12px 0; }
  .chart { margin: 0; min-width: 0; }
  .chart figcaption { font-weight: 600; font-size: .85rem; }
  .chart svg { display: block; width: 100%; height: auto; background: #fbfcfd; border: 1px solid #e3e7eb; border-radius: 4px; }
  .chart .grid { stroke: #e6e9ed; } .chart .axis { stroke: #8a949e; }
  .chart .tick { font-size: 10px; fill: #5d6875; }
  .legend { display: flex; flex-wrap: wrap; gap: .75rem; font-size: .8rem; }
  .legend i { display: inline-block; width: .8rem; height: .25rem; margin-right: .3rem; vertical-align: middle; }
  ul, ol { padding-left: 1.1rem; margin: .25rem 0; }
  .node, #events li { margin: .2rem 0; overflow-wrap: anywhere; }
  .node > * { margin-right: .4rem; }
  #events time { margin-right: .5rem; font-variant-numeric: tabular-nums; }
  #events b { margin-right: .5rem; }
  section.panel { background: #fff; border: 1px solid #d8dde3; border-radius: 8px; padding: 12px; margin: 12px 0; }
`;

/** The page `GET /` sends. */
export const LIVE_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>larder — live</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<h1>larder — live</h1>
<p class="muted">Each store this app uses, per tier (L1 process memory, L2 the store): hit ratio, operations per second,
errors and p50/p95/p99 latency of the cache operations (loaders apart) over the last five minutes; the topology with each
node's real state, the L2 breaker, the L1 and its invalidation channel, the last topology events. <span id="updated"></span></p>
<div id="stores"></div>
<section class="panel"><h2>Last topology events</h2><ol id="events"></ol></section>
<section class="panel"><h2>Demo routes</h2><ul id="routes"></ul></section>
<script>${LIVE_PAGE_SCRIPT}</script>
</body>
</html>
`;
