// An HTTP proxy in front of DynamoDB Local that counts the requests it forwards, by operation
// (the X-Amz-Target header): what the server is asked, whatever the SDK does on the way.
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running counting proxy. */
export interface CountingProxy {
  /** `http://127.0.0.1:<port>`: the endpoint to give clients. */
  readonly endpoint: string;
  /** Requests forwarded so far, by operation (e.g. `UpdateItem`). */
  readonly counts: Map<string, number>;
  close(): Promise<void>;
}

/** Starts a proxy forwarding to `target` (`http://host:port`). */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const { hostname, port } = new URL(target);
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    const operation = String(req.headers['x-amz-target'] ?? 'unknown')
      .split('.')
      .pop() as string;
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
    const upstream = request(
      { host: hostname, port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
