import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type ElastiCacheEmulator, type MemcachedCluster, startElastiCacheEmulator } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memcached } from './helpers';

const run = promisify(execFile);
const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));

describe('discovery never keeps the process alive', () => {
  let cluster: MemcachedCluster;
  let emulator: ElastiCacheEmulator;
  beforeAll(async () => {
    cluster = await memcached(1);
    emulator = await startElastiCacheEmulator({
      nodes: [{ host: 'localhost', ip: cluster.nodes[0]!.host, port: cluster.nodes[0]!.port }],
    });
  });
  afterAll(async () => {
    await emulator?.stop();
    await cluster?.stop();
  });

  it('a process whose store discovered nodes and keeps polling (never closed) exits by itself', async () => {
    const script = `
      const { createMemcachedStore } = await import(${JSON.stringify(entry)});
      const store = await createMemcachedStore({ configEndpoint: ${JSON.stringify(emulator.endpoint)}, discoveryInterval: 100 });
      await new Promise((r) => setTimeout(r, 300)); // a few background polls happen
      console.log('nodes', store.nodeIds().length);
    `;
    const started = Date.now();
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      timeout: 20_000,
    });
    expect(stdout.trim()).toBe('nodes 1');
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('a process whose store probes an ejected node (never closed) exits by itself', async () => {
    // Nothing listens on ports 1 and 2: one node is ejected and probed, the other (the last) stays.
    const script = `
      const { createMemcachedStore } = await import(${JSON.stringify(entry)});
      const store = await createMemcachedStore({ servers: ['127.0.0.1:1', '127.0.0.1:2'], timeout: 200, retries: 0 });
      for (let i = 0; store.ejectedNodes().length === 0 && i < 50; i++) await store.get('k' + i).catch(() => {});
      await new Promise((r) => setTimeout(r, 300)); // a few background probes happen
      console.log('ejected', store.ejectedNodes().length);
    `;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      timeout: 20_000,
    });
    expect(stdout.trim()).toBe('ejected 1');
  });
});
