import { connect as connectTcp, type Socket } from 'node:net';
import { type ConnectionOptions, connect as connectTls } from 'node:tls';
import { formatHostPort, type NodeDescription } from '@larder/core/driver';

/** How long a Sentinel has to answer the probe. */
const SENTINEL_PROBE_MS = 500;

/** A Sentinel as ioredis keeps it in `options.sentinels`. */
export interface SentinelAddress {
  host?: string;
  port?: number;
}

/**
 * The Sentinels the store was given, each as a node with its real state: `up` when it answers a
 * `PING` within 500 ms (any reply counts: `+PONG`, or `-NOAUTH` from a Sentinel with a password,
 * which the probe does not send), `down` when it refuses, resets or stays silent. The client
 * itself asks only one Sentinel at a time, so its own connection says nothing of the others.
 */
export function sentinelNodes(
  sentinels: readonly SentinelAddress[],
  tls: ConnectionOptions | undefined,
): Promise<NodeDescription[]> {
  return Promise.all(
    sentinels.map(async ({ host = '127.0.0.1', port = 26379 }) => ({
      address: formatHostPort({ host, port }),
      role: 'sentinel' as const,
      status: (await answers(host, port, tls)) ? ('up' as const) : ('down' as const),
    })),
  );
}

function answers(host: string, port: number, tls: ConnectionOptions | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    let socket: Socket;
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const ping = () => socket.write('PING\r\n');
    socket =
      tls === undefined
        ? connectTcp({ host, port }, ping)
        : connectTls({ ...tls, host, port, servername: tls.servername ?? host }, ping);
    const timer = setTimeout(() => done(false), SENTINEL_PROBE_MS);
    socket.once('data', () => done(true));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}
