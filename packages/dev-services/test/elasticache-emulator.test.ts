import { afterEach, describe, expect, it } from 'vitest';
import {
  configGetClusterResponse,
  type ElastiCacheEmulator,
  legacyGetClusterResponse,
  parseNodeList,
  startElastiCacheEmulator,
} from '../src/index';
import { rawExchange } from './helpers';

const NODES = [
  { host: 'mycluster.fnjyzo.0001.use1.cache.amazonaws.com', ip: '10.82.235.120', port: 11211 },
  { host: 'mycluster.fnjyzo.0002.use1.cache.amazonaws.com', ip: '10.80.249.27', port: 11211 },
];

describe('ElastiCache configuration-endpoint emulator', () => {
  let emulator: ElastiCacheEmulator | undefined;
  afterEach(async () => {
    await emulator?.stop();
    emulator = undefined;
  });

  it('formats the config payload byte-exactly', () => {
    const payload =
      '12\nmycluster.fnjyzo.0001.use1.cache.amazonaws.com|10.82.235.120|11211 mycluster.fnjyzo.0002.use1.cache.amazonaws.com|10.80.249.27|11211\n';
    expect(configGetClusterResponse(12, NODES)).toBe(`CONFIG cluster 0 ${payload.length}\r\n${payload}\r\nEND\r\n`);
    expect(legacyGetClusterResponse(12, NODES)).toBe(
      `VALUE AmazonElastiCache:cluster 0 ${payload.length}\r\n${payload}\r\nEND\r\n`,
    );
    // an empty ip prints as host||port; byte count is in bytes, not characters
    expect(configGetClusterResponse(1, [{ host: 'häst', port: 1 }])).toBe(
      'CONFIG cluster 0 11\r\n1\nhäst||1\n\r\nEND\r\n',
    );
  });

  it('answers config get cluster, version and quit over TCP', async () => {
    emulator = await startElastiCacheEmulator({ nodes: NODES, version: 12 });
    expect(emulator.port).toBeGreaterThanOrEqual(20_000);
    expect(emulator.port).toBeLessThan(32_768);
    const reply = await rawExchange(emulator.port, 'config get cluster\r\n', /END\r\n$/);
    expect(reply).toBe(configGetClusterResponse(12, NODES));
    const [, bytes, payload] = /^CONFIG cluster 0 (\d+)\r\n([\s\S]*)\r\nEND\r\n$/.exec(reply)!;
    expect(Buffer.byteLength(payload!)).toBe(Number(bytes));
    expect(await rawExchange(emulator.port, 'version\r\n', /\r\n$/)).toMatch(/^VERSION \d+\.\d+\.\d+\r\n$/);
    expect(await rawExchange(emulator.port, 'bogus\r\n', /\r\n$/)).toBe('ERROR\r\n');
    // pipelined commands in one write, then quit closes the connection
    const both = await rawExchange(emulator.port, 'version\r\nconfig get cluster\r\nquit\r\n', /END\r\n$/);
    expect(both).toMatch(/^VERSION [^\r]+\r\nCONFIG cluster 0 \d+\r\n12\n/);
    expect(emulator.requests).toBe(2);
  });

  it('prints an empty ip as host||port and bumps the version on setNodes', async () => {
    emulator = await startElastiCacheEmulator({ nodes: [{ host: 'localhost', port: 21001 }] });
    expect(await rawExchange(emulator.port, 'config get cluster\r\n', /END\r\n$/)).toBe(
      'CONFIG cluster 0 19\r\n1\nlocalhost||21001\n\r\nEND\r\n',
    );
    emulator.setNodes([
      { host: 'localhost', port: 21001 },
      { host: 'localhost', ip: '127.0.0.1', port: 21002 },
    ]);
    expect(emulator.version).toBe(2);
    expect(await rawExchange(emulator.port, 'config get cluster\r\n', /END\r\n$/)).toBe(
      'CONFIG cluster 0 45\r\n2\nlocalhost||21001 localhost|127.0.0.1|21002\n\r\nEND\r\n',
    );
    emulator.setNodes([{ host: 'localhost', port: 21003 }], 10);
    expect(emulator.version).toBe(10);
    expect(await rawExchange(emulator.port, 'config get cluster\r\n', /END\r\n$/)).toContain(
      '\n10\nlocalhost||21003\n',
    );
  });

  it('legacy mode: config get cluster is ERROR, get AmazonElastiCache:cluster answers the list', async () => {
    emulator = await startElastiCacheEmulator({ nodes: NODES, version: 3, legacy: true });
    expect(await rawExchange(emulator.port, 'config get cluster\r\n', /\r\n$/)).toBe('ERROR\r\n');
    expect(await rawExchange(emulator.port, 'get AmazonElastiCache:cluster\r\n', /END\r\n$/)).toBe(
      legacyGetClusterResponse(3, NODES),
    );
    expect(await rawExchange(emulator.port, 'get other\r\n', /\r\n$/)).toBe('END\r\n');
    expect(emulator.requests).toBe(2);
  });

  it('plain mode answers like a plain memcached; setMode switches at run time; waitForRequests', async () => {
    emulator = await startElastiCacheEmulator({ nodes: NODES, mode: 'plain' });
    expect(await rawExchange(emulator.port, 'config get cluster\r\n', /\r\n$/)).toBe('ERROR\r\n');
    expect(await rawExchange(emulator.port, 'get AmazonElastiCache:cluster\r\n', /\r\n$/)).toBe('END\r\n');
    emulator.setMode('elasticache');
    const waiting = emulator.waitForRequests(3);
    expect(await rawExchange(emulator.port, 'config get cluster\r\n', /END\r\n$/)).toMatch(/^CONFIG cluster 0 /);
    await expect(waiting).resolves.toBe(3);
  });

  it('stop() refuses connections; restart() comes back on the same port with the same list', async () => {
    emulator = await startElastiCacheEmulator({ nodes: NODES, version: 5 });
    const { port } = emulator;
    await emulator.stop();
    await expect(rawExchange(port, 'config get cluster\r\n', /END\r\n$/)).rejects.toThrow(/ECONNREFUSED/);
    await emulator.restart();
    expect(emulator.port).toBe(port);
    expect(await rawExchange(port, 'config get cluster\r\n', /END\r\n$/)).toBe(configGetClusterResponse(5, NODES));
  });

  it('parses CLI node lists', () => {
    expect(parseNodeList('a:1,b|10.0.0.1|2 c:3')).toEqual([
      { host: 'a', port: 1 },
      { host: 'b', ip: '10.0.0.1', port: 2 },
      { host: 'c', port: 3 },
    ]);
    expect(() => parseNodeList('nohost')).toThrow(/host:port/);
  });
});
