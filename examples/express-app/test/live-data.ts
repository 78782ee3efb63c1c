import request from 'supertest';
import { expect } from 'vitest';

// What tests read of /live.json (see src/live-page.ts).

export interface LiveTier {
  ops: number;
  opsPerSec: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface LiveStore {
  name: string;
  driver: string;
  ok: boolean;
  problem?: { code: string; message: string };
  mode?: string;
  nodes: { address: string; role: string; status: string; share?: number }[];
  l1?: { state: string; invalidation: string; entries: number; hits: number; flushes: number; fleet?: unknown };
  breaker?: {
    state: 'up' | 'down';
    since: number;
    consecutiveFailures: number;
    probeIntervalMs: number;
    failFast: boolean;
    lastError?: { code?: string; message: string };
  };
  figures: {
    reads: number;
    hits: number;
    hitRatio: number | null;
    l1HitShare: number | null;
    l2HitRatio: number | null;
    errors: number;
    tiers: { l1: LiveTier; l2: LiveTier };
  };
  series: { step: number; t: number[]; hitRatio: (number | null)[]; tiers: { l2: { opsPerSec: number[] } } };
}

export interface LiveData {
  now: number;
  stores: LiveStore[];
  events: { at: number; store: string; driver: string; event: string; node?: string; reason?: string }[];
  routes: { path: string }[];
}

/** GET /live.json, checked to be JSON with no caching. */
export async function live(url: string): Promise<LiveData> {
  const res = await request(url).get('/live.json').expect(200);
  expect(res.headers['cache-control']).toBe('no-store');
  return res.body as LiveData;
}

/** The first store of /live.json. */
export async function liveStore(url: string): Promise<LiveStore> {
  return (await live(url)).stores[0] as LiveStore;
}
