import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** Where and how to open a probe connection. */
export interface ProbeTarget {
  /** Host to connect to (127.0.0.1). */
  host: string;
  /** Port to connect to. */
  port: number;
  /** Connect with TLS, trusting this CA (PEM text). */
  tlsCa?: string | Buffer;
  /** Per-exchange timeout in ms (default 2000). */
  timeoutMs?: number;
}

/**
 * Opens a connection, writes `request`, and feeds received bytes to `isComplete` until it returns a result;
 * always closes the socket. Used by the small protocol probes (redis, memcached, emulator tests).
 */
export function exchange<T>(
  target: ProbeTarget,
  request: Buffer | string,
  isComplete: (received: Buffer) => T | undefined,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let received = Buffer.alloc(0);
    let settled = false;
    const socket: Socket = target.tlsCa
      ? tlsConnect({ host: target.host, port: target.port, ca: target.tlsCa, servername: 'localhost' }, () =>
          socket.write(request),
        )
      : netConnect({ host: target.host, port: target.port }, () => socket.write(request));
    const finish = (error: Error | undefined, value?: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(value as T);
    };
    const timer = setTimeout(
      () =>
        finish(
          new Error(`no complete answer from ${target.host}:${target.port} within ${target.timeoutMs ?? 2000} ms`),
        ),
      target.timeoutMs ?? 2000,
    );
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      try {
        const value = isComplete(received);
        if (value !== undefined) finish(undefined, value);
      } catch (error) {
        finish(error as Error);
      }
    });
    socket.on('error', (error) => finish(error));
    socket.on('close', () =>
      finish(new Error(`connection to ${target.host}:${target.port} closed after ${received.length} bytes`)),
    );
  });
}
