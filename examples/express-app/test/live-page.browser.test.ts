import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@larder/dev-services';
import { type BrowserContext, chromium } from 'playwright-core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Instance, startInstance } from './helpers';

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = fileURLToPath(new URL('../test-output/', import.meta.url));

describe('the live page in a real browser (Debian chromium, headless)', () => {
  let app: Instance;
  let browser: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    app = await startInstance({});
    profile = mkdtempSync(join(tmpdir(), 'larder-chromium-'));
    // A fresh profile per run (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      viewport: { width: 1000, height: 640 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('loads without console errors, shows the stores, and its figures change after traffic', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${app.url}/`);
    const card = page.locator('section.store[data-store="memory"]');
    await card.waitFor();
    expect(await card.locator('.topology').textContent()).toContain('memory');
    expect(await page.locator('#routes a[href="/customers/1"]').count()).toBe(1);
    const ops = card.locator('.ops');
    const before = Number(await ops.textContent());

    for (let i = 0; i < 5; i++)
      await request(app.url)
        .get(`/customers/${(i % 2) + 1}`)
        .expect(200);
    await waitFor(async () => Number(await ops.textContent()) >= before + 5, {
      description: 'the page shows the traffic',
    });
    await waitFor(async () => (await card.locator('.hit-ratio').textContent()) !== '–', { description: 'a hit ratio' });
    expect(await card.locator('svg polyline').count()).toBe(2);

    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, 'live-page.png') });
    expect(problems).toEqual([]);
    await page.close();
  });
});
