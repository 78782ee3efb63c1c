import type { Cache } from '@larder/core';
import type { Request, Response } from 'express';
import { LIVE_PAGE_HTML } from './live-page-html';
import { type LiveStats, STEP_SECONDS, SUMMARY_SECONDS, WINDOW_SECONDS } from './live-stats';
import { breakerView, type TopologyLog, topologyViews } from './live-topology';

/** The demo routes the page links to. */
export const DEMO_ROUTES = [
  { method: 'GET', path: '/customers/1', what: 'cache-aside: remember() in front of a slow lookup' },
  { method: 'GET', path: '/customers/2', what: 'the same, another key' },
  { method: 'GET', path: '/reports/daily', what: 'responseCache: X-Cache and Cache-Status headers' },
  { method: 'GET', path: '/me', what: 'session (POST /login first)' },
  { method: 'GET', path: '/healthz', what: 'stores, drivers and latency as JSON' },
  { method: 'GET', path: '/metrics', what: 'Prometheus metrics from @larder/otel' },
];

/**
 * `GET /live.json` (polled every second by the page) and `GET /` (the page). Per store: its
 * health and topology (the doctor's checks: `describe()` with each node's real state, the L1),
 * its L2 breaker (`health()`, read at each request), the last minute's figures and the last five minutes as chart series, per tier; then the last
 * topology events. Addresses, roles, states and larder's worded errors only: never a secret.
 */
export function livePage(caches: Cache[], stats: LiveStats, events: TopologyLog) {
  const views = topologyViews(caches);
  return {
    async json(_req: Request, res: Response): Promise<void> {
      const now = Date.now();
      const stores = (await views()).map((view, i) => ({
        ...view,
        breaker: breakerView(caches[i] as Cache),
        figures: stats.figures(view.name, now),
        series: stats.series(view.name, now),
      }));
      res.set('Cache-Control', 'no-store').json({
        now,
        window: { seconds: WINDOW_SECONDS, step: STEP_SECONDS, summary: SUMMARY_SECONDS },
        stores,
        events: events.recent(),
        routes: DEMO_ROUTES,
      });
    },
    page(_req: Request, res: Response): void {
      res.set('Cache-Control', 'no-store').type('html').send(LIVE_PAGE_HTML);
    },
  };
}
