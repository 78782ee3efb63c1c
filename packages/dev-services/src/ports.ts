import { createServer } from 'node:net';

/** Lowest port handed out (below it live well-known and registered service ports). */
export const MIN_PORT = 20_000;
/** Ports are taken below this (the Linux ephemeral range starts at 32768, so outgoing sockets never collide). */
export const MAX_PORT = 30_000;
/** Cluster node ports stay below this so that the bus port (port + 10000) stays below 32768. */
export const MAX_CLUSTER_PORT = 22_000;
/** Redis Cluster's bus port offset. */
export const CLUSTER_BUS_OFFSET = 10_000;

/** Options of findFreePorts. */
export interface FreePortOptions {
  /** Lowest port (inclusive), default 20000. */
  minPort?: number;
  /** Highest port (exclusive), default 30000; never above 32768. */
  maxPort?: number;
  /** Also require port + offset to be free (Redis Cluster: 10000). */
  alsoFreeOffset?: number;
  /** Ports that must not be returned. */
  exclude?: Iterable<number>;
}

/** True when 127.0.0.1:port can be bound right now. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** One free loopback port in [20000, 30000). */
export async function findFreePort(options: FreePortOptions = {}): Promise<number> {
  const [port] = await findFreePorts(1, options);
  return port!;
}

/** `n` distinct free loopback ports, picked at random (parallel test files rarely collide) in [minPort, maxPort). */
export async function findFreePorts(n: number, options: FreePortOptions = {}): Promise<number[]> {
  const min = options.minPort ?? MIN_PORT;
  const max = Math.min(options.maxPort ?? MAX_PORT, 32_768);
  const offset = options.alsoFreeOffset ?? 0;
  if (min >= max) throw new RangeError(`findFreePorts: empty range [${min}, ${max})`);
  if (offset && max - 1 + offset >= 32_768) {
    throw new RangeError(
      `findFreePorts: port + ${offset} must stay below 32768, so maxPort must be <= ${32_768 - offset}`,
    );
  }
  const taken = new Set(options.exclude ?? []);
  const result: number[] = [];
  for (let attempt = 0; result.length < n; attempt++) {
    if (attempt > 500 + n * 50) throw new Error(`findFreePorts: no ${n} free ports in [${min}, ${max})`);
    const port = min + Math.floor(Math.random() * (max - min));
    if (taken.has(port) || (offset && (taken.has(port + offset) || taken.has(port - offset)))) continue;
    if (!(await isPortFree(port))) continue;
    if (offset && !(await isPortFree(port + offset))) continue;
    taken.add(port);
    if (offset) taken.add(port + offset);
    result.push(port);
  }
  return result;
}
