import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import {
  killNode,
  type MemcachedCluster,
  memcachedAsciiStats,
  memcachedSaslStats,
  restartNode,
  startMemcached,
} from '../src/index';
import { rawExchange } from './helpers';

describe('startMemcached', () => {
  const clusters: MemcachedCluster[] = [];
  afterAll(async () => {
    await Promise.all(clusters.map((c) => c.stop()));
  });

  it('starts three nodes; a node killed comes back on the same port', async () => {
    const mc = await startMemcached({ count: 3, memoryMb: 16, maxItemSize: '2m' });
    clusters.push(mc);
    expect(mc.nodes).toHaveLength(3);
    expect(new Set(mc.nodes.map((n) => n.port)).size).toBe(3);
    for (const node of mc.nodes) {
      expect(node.port).toBeLessThan(32_768);
      const { stats } = await memcachedAsciiStats(node);
      expect(stats.pid).toBe(String(node.pid));
    }
    expect(mc.servers).toBe(mc.nodes.map((n) => `127.0.0.1:${n.port}`).join(','));
    const { port } = mc.nodes[1]!;
    expect(await rawExchange(port, 'set a 0 0 1\r\nx\r\n', /\r\n$/)).toBe('STORED\r\n');
    await mc.kill(1);
    expect(mc.nodes[1]!.pid).toBeUndefined();
    await expect(memcachedAsciiStats(mc.nodes[1]!)).rejects.toThrow();
    await mc.restart(1);
    expect(mc.nodes[1]!.port).toBe(port);
    expect(await rawExchange(port, 'get a\r\n', /END\r\n$/)).toBe('END\r\n');
    const settings = await rawExchange(port, 'stats settings\r\n', /END\r\n$/);
    expect(settings).toContain('STAT item_size_max 2097152');
    expect(settings).toContain(`STAT maxbytes ${16 * 1024 * 1024}`);
    const fourth = await mc.addNode();
    expect(mc.nodes).toHaveLength(4);
    expect(mc.servers.split(',')).toContain(fourth.address);
    expect((await memcachedAsciiStats(fourth)).stats.pid).toBe(String(fourth.pid));
    await killNode(fourth);
    expect(fourth.pid).toBeUndefined();
    await restartNode(fourth);
    expect((await memcachedAsciiStats(fourth)).stats.pid).toBe(String(fourth.pid));
  });

  it('SASL: binary PLAIN auth succeeds with the right password and fails with a wrong one', async () => {
    const mc = await startMemcached({ sasl: { username: 'larder', password: 'hunter2' } });
    clusters.push(mc);
    const node = mc.nodes[0]!;
    const { version, stats } = await memcachedSaslStats(node, 'larder', 'hunter2');
    expect(version).toMatch(/^\d+\.\d+/);
    expect(stats.pid).toBe(String(node.pid));
    await expect(memcachedSaslStats(node, 'larder', 'wrong')).rejects.toThrow(/auth/i);
  });

  it('TLS: serves only TLS, verifiable with the generated CA', async () => {
    const mc = await startMemcached({ tls: true });
    clusters.push(mc);
    const node = mc.nodes[0]!;
    const ca = readFileSync(mc.caPath!);
    const { stats } = await memcachedAsciiStats({ ...node, tlsCa: ca });
    expect(stats.pid).toBe(String(node.pid));
    await expect(
      new Promise((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port: node.port, servername: 'localhost' }, () => resolve(socket));
        socket.on('error', reject);
      }),
    ).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  });
});
