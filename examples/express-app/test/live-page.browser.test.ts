import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ElastiCacheEmulator,
  type MemcachedCluster,
  type MemcachedNode,
  type RedisReplicaSet,
  type RedisServer,
  startElastiCacheEmulator,
  startMemcached,
  startRedis,
  startRedisReplicaSet,
  waitFor,
} from '@larder/dev-services';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Instance, instancePool } from './helpers';
import { live } from './live-data';

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = fileURLToPath(new URL('../test-output/', import.meta.url));
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

// The live page in Debian's chromium (headless), at desktop and phone width, on three backends:
// Redis with the L1, memcached behind the ElastiCache emulator with a node killed, and a Sentinel
// failover. Each test asserts what a person sees (a node down, an event listed, the L1's channel,
// no horizontal scrolling at 390 px) and keeps screenshots in test-output/ as artefacts.
describe('the live page in a real browser (Debian chromium, headless)', { timeout: 120_000 }, () => {
  let redis: RedisServer;
  let memcached: MemcachedCluster;
  let emulator: ElastiCacheEmulator;
  let sentinel: RedisReplicaSet;
  let browser: BrowserContext;
  let profile: string;
  const instances = instancePool();

  beforeAll(async () => {
    profile = mkdtempSync(join(tmpdir(), 'larder-chromium-'));
    mkdirSync(OUTPUT, { recursive: true });
    [redis, memcached, sentinel, browser] = await Promise.all([
      startRedis(),
      startMemcached({ count: 3 }),
      startRedisReplicaSet({ replicas: 1, sentinels: 1 }),
      // A fresh profile per run (playwright passes it as --user-data-dir).
      chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        viewport: DESKTOP,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
      }),
    ]);
    emulator = await startElastiCacheEmulator({
      nodes: memcached.nodes.map((n) => ({ host: 'localhost', ip: n.host, port: n.port })),
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await instances.stopAll();
    await Promise.allSettled([redis?.stop(), emulator?.stop(), memcached?.stop(), sentinel?.stop()]);
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  /** Opens the page, checks it loads without script errors; `expectations` run at desktop, then at phone width. */
  async function inBrowser(app: Instance, name: string, expectations: (page: Page) => Promise<void>): Promise<void> {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${app.url}/`);
    for (const [size, viewport] of [
      ['desktop', DESKTOP],
      ['390', PHONE],
    ] as const) {
      await page.setViewportSize(viewport);
      await expectations(page);
      // Nothing cut off: the document is no wider than the window, and neither is any section.
      // A string: the test is typed without the DOM library.
      const widest = await page.evaluate<number>(
        "Math.max(document.documentElement.scrollWidth, ...[...document.querySelectorAll('section, figure, li')].map((e) => e.getBoundingClientRect().right))",
      );
      expect(widest).toBeLessThanOrEqual(viewport.width);
      await page.screenshot({ path: join(OUTPUT, `live-page-${name}-${size}.png`), fullPage: true });
    }
    expect(problems).toEqual([]);
    await page.close();
  }

  /** Waits until the page shows `selector` (the page redraws every second). */
  const shows = (page: Page, selector: string) => page.locator(selector).first().waitFor({ timeout: 30_000 });

  it('Redis with the L1: both tiers, their figures, the L1 and its channel, charts with units', async () => {
    const app = await instances.start({
      CACHE_DRIVER: 'redis',
      REDIS_URL: redis.url,
      CACHE_L1: 'on',
      CACHE_BREAKER: 'on',
    });
    for (let i = 0; i < 8; i++)
      await request(app.url)
        .get(`/customers/${(i % 2) + 1}`)
        .expect(200);
    await waitFor(async () => ((await live(app.url)).stores[0]?.figures.tiers.l1.ops ?? 0) > 0);
    await inBrowser(app, 'redis-l1', async (page) => {
      const card = page.locator('section.store[data-store="redis"]');
      await shows(page, 'section.store[data-store="redis"] .l1[data-l1="on"] .channel[data-state="up"]');
      expect(await page.locator('section.store[data-store="redis"] [data-figure="l1-lease"] b').textContent()).toBe(
        'held',
      );
      expect(await card.locator('.channel').textContent()).toContain('invalidation tracking');
      // The L2 breaker (CACHE_BREAKER=on): closed, the store up.
      await shows(page, 'section.store[data-store="redis"] .breaker[data-state="up"]');
      expect(await card.locator('.breaker').textContent()).toContain('store up L2 breaker closed since');
      expect(await card.locator('.tier[data-tier="l1"] [data-figure="hit-share"] b').textContent()).toMatch(/%$/);
      expect(await card.locator('.tier[data-tier="l2"] [data-figure="p99"] b').textContent()).toMatch(
        /^[\d.]+ (µs|ms|s)$/,
      );
      expect(await card.locator('.node[data-status="up"][data-role="primary"]').textContent()).toContain(
        `127.0.0.1:${redis.port}`,
      );
      // Charts have axes with units on their ticks, and lines once there is traffic.
      const latency = card.locator('[data-chart="latency-l2"] svg');
      expect(await latency.locator('text').allTextContents()).toEqual(
        expect.arrayContaining([expect.stringMatching(/ (µs|ms)$/), 'now', '−5 min']),
      );
      expect(await card.locator('[data-chart="hits"] svg text').allTextContents()).toContain('100 %');
      expect(await card.locator('[data-chart="ops"] svg .series').count()).toBeGreaterThan(0);
    });
  });

  it('memcached behind the emulator with a node killed: the node is shown ejected or down, the event listed', async () => {
    const app = await instances.start({ CACHE_DRIVER: 'memcached', MEMCACHED_CONFIG_ENDPOINT: emulator.endpoint });
    await request(app.url).get('/customers/1').expect(200);
    const victim = memcached.nodes[1] as MemcachedNode;
    // The emulator names nodes by host name: the store shows them as localhost:<port>.
    const address = `localhost:${victim.port}`;
    await victim.kill();
    // Traffic over many keys reaches the dead node; after its failures it is ejected from the ring.
    const data = await waitFor(
      async () => {
        for (let i = 3; i < 23; i++) await request(app.url).get(`/customers/${i}`);
        const body = await live(app.url);
        const node = body.stores[0]?.nodes.find((n) => n.address === address);
        return node !== undefined && node.status !== 'up' && body.events.some((e) => e.event === 'node-ejected')
          ? body
          : undefined;
      },
      { timeoutMs: 30_000, description: 'the killed node shown not up, its ejection listed' },
    );
    expect(data.events.find((e) => e.event === 'node-ejected')).toMatchObject({
      driver: 'memcached',
      node: address,
    });
    await inBrowser(app, 'memcached-node-killed', async (page) => {
      await shows(page, `section.store[data-store="memcached"] .node:not([data-status="up"]) >> text=${address}`);
      await shows(page, '#events li[data-event="node-ejected"]');
      expect(await page.locator('#events li[data-event="node-ejected"]').first().textContent()).toContain(address);
      expect(await page.locator('section.store[data-store="memcached"] .node[data-status="up"]').count()).toBe(3); // the endpoint and two nodes
      expect(await page.locator('section.store[data-store="memcached"] .breaker').getAttribute('data-state')).toBe(
        'off',
      );
    });
    await victim.restart();
    await waitFor(async () => (await live(app.url)).events.some((e) => e.event === 'node-readmitted'), {
      timeoutMs: 20_000,
      description: 'the restarted node readmitted',
    });
  });

  it('a Sentinel failover: the new primary shown, the failover listed', async () => {
    const app = await instances.start({
      CACHE_DRIVER: 'redis',
      REDIS_SENTINELS: sentinel.sentinelAddresses,
      REDIS_SENTINEL_NAME: sentinel.masterName,
    });
    await request(app.url).get('/customers/1').expect(200);
    const { primary } = await sentinel.killPrimary();
    const data = await waitFor(
      async () => {
        await request(app.url).get('/customers/1');
        const body = await live(app.url);
        const node = body.stores[0]?.nodes.find((n) => n.role === 'primary');
        return node?.address === primary.address && body.events.some((e) => e.event === 'failover') ? body : undefined;
      },
      { timeoutMs: 40_000, description: 'the failover listed and the new primary shown' },
    );
    expect(data.stores[0]?.mode).toBe('sentinel');
    await inBrowser(app, 'sentinel-failover', async (page) => {
      await shows(page, '#events li[data-event="failover"]');
      expect(await page.locator('#events li[data-event="failover"]').first().textContent()).toContain('redis');
      // The Sentinel itself is a node with its state (describe() probes it).
      expect(await page.locator('.node[data-role="sentinel"][data-status="up"]').textContent()).toContain(
        sentinel.sentinelAddresses,
      );
      await shows(
        page,
        `section.store[data-store="redis"] .node[data-role="primary"][data-status="up"] >> text=${primary.address}`,
      );
    });
  });
});
