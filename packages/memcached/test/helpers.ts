import { type MemcachedCluster, startMemcached, waitFor } from '@larder/dev-services';
import type { MemjsServerLike } from '../src';
import { LarderServer } from '../src/memjs-internals';
import type { ConnectionOptions } from '../src/node-connection';

export { waitFor };

/** A payload read back, as text (undefined stays undefined). */
export const text = (value: unknown) => (value === undefined ? undefined : Buffer.from(value as Uint8Array).toString());

/** Starts `count` memcached processes for a test file. */
export function memcached(
  count: number,
  options: Parameters<typeof startMemcached>[0] = {},
): Promise<MemcachedCluster> {
  return startMemcached({ count, ...options });
}

/** A server factory that counts socket writes (= requests on the wire) per node. */
export function countingFactory(): {
  factory: (node: ConnectionOptions) => MemjsServerLike;
  writes: Map<string, number>;
  total(): number;
} {
  const writes = new Map<string, number>();
  return {
    writes,
    total: () => [...writes.values()].reduce((a, b) => a + b, 0),
    factory: (node) => {
      const server = new LarderServer(node);
      const write = server.write.bind(server);
      server.write = (blob: Buffer) => {
        writes.set(`${node.host}:${node.port}`, (writes.get(`${node.host}:${node.port}`) ?? 0) + 1);
        write(blob);
      };
      return server;
    },
  };
}
