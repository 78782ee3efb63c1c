import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  CLUSTER_BUS_OFFSET,
  findFreePort,
  findFreePorts,
  isPortFree,
  MAX_CLUSTER_PORT,
  MissingBinaryError,
  requireBinary,
  startMemcached,
} from '../src/index';

describe('free ports', () => {
  it('hands out distinct free ports in [20000, 30000), never >= 32768', async () => {
    const ports = await findFreePorts(50);
    expect(new Set(ports).size).toBe(50);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(30_000);
    }
    expect(await findFreePort({ maxPort: 99_999 })).toBeLessThan(32_768);
  });

  it('cluster ports stay below 22000 with a free bus port below 32768', async () => {
    const ports = await findFreePorts(6, { maxPort: MAX_CLUSTER_PORT, alsoFreeOffset: CLUSTER_BUS_OFFSET });
    for (const port of ports) {
      expect(port).toBeLessThan(22_000);
      expect(port + CLUSTER_BUS_OFFSET).toBeLessThan(32_768);
      expect(await isPortFree(port + CLUSTER_BUS_OFFSET)).toBe(true);
    }
    await expect(findFreePorts(1, { maxPort: 25_000, alsoFreeOffset: CLUSTER_BUS_OFFSET })).rejects.toThrow(/32768/);
  });

  it('skips a port that is taken', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const taken = (server.address() as { port: number }).port;
    expect(await isPortFree(taken)).toBe(false);
    server.close();
  });
});

describe('missing binaries', () => {
  it('names the binary and the apt-get line', async () => {
    expect(() => requireBinary('larder-no-such-binary')).toThrow(MissingBinaryError);
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const error = await startMemcached().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MissingBinaryError);
      expect((error as Error).message).toContain("'memcached' was not found");
      expect((error as Error).message).toContain(
        'apt-get install redis-server redis-sentinel memcached sasl2-bin openjdk-17-jre-headless openssl',
      );
    } finally {
      process.env.PATH = saved;
    }
  });
});
