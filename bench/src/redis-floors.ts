/**
 * Floor clients of the Redis write rows (issue: "Redis SET at the floor"): raw ioredis with its
 * socket corked per turn of the event loop, and node-redis 5 raw. Each is what a client can do
 * with no cache logic at all, measured in the same run as larder.
 */
import type { Redis } from 'ioredis';
import { createClient } from 'redis';

/** The socket of an ioredis client (`stream` is not part of its typed API). */
interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * Sends `client`'s commands of one turn in one socket write: the first command of a turn corks
 * the socket and a `setImmediate` uncorks it, as node-redis 5 defers its writes (one `writev` per
 * turn). Call the returned function before each command.
 */
export function corkPerTurn(client: Redis): () => void {
  let corked: Corkable | undefined;
  const uncork = () => {
    const socket = corked;
    corked = undefined;
    socket?.uncork();
  };
  return () => {
    if (corked !== undefined) return;
    const socket = (client as unknown as { stream?: Corkable }).stream;
    if (socket === undefined) return;
    socket.cork();
    corked = socket;
    setImmediate(uncork);
  };
}

/** What the floor rows use of a node-redis 5 client. */
export interface NodeRedisClient {
  set(key: string, value: string): Promise<unknown>;
  mGet(keys: string[]): Promise<(string | null)[]>;
  close(): Promise<unknown>;
}

/** A connected node-redis 5 client (RESP2, no client-side cache). */
export async function nodeRedis(url: string): Promise<NodeRedisClient> {
  const client = createClient({ url });
  await client.connect();
  return client as unknown as NodeRedisClient;
}
