import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { BackendError, TimeoutError } from '@larder/core';
import { findFreePort } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbStore } from '../src/index';

const credentials = { accessKeyId: 'larder', secretAccessKey: 'larder' };

// A server that accepts connections and never answers: the worst case for "never hang".
let stalled: Server;
let stalledPort: number;
const sockets = new Set<Socket>();

beforeAll(async () => {
  stalledPort = await findFreePort();
  stalled = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => stalled.listen(stalledPort, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => stalled.close(resolve));
});

describe('failures are bounded in time and typed', () => {
  it('a server that never answers gives TimeoutError within the store timeout, for single and batch ops', async () => {
    const store = createDynamoDbStore({ endpoint: `http://127.0.0.1:${stalledPort}`, credentials, timeout: 400 });
    const started = Date.now();
    const results = await Promise.allSettled([
      store.get('a'),
      store.getMany(['a', 'b']),
      store.set('a', 'x', 1000),
      store.setMany([['a', 'x']], 1000),
      store.increment('n', 1, undefined),
      store.add('a', 'x', 1000),
    ]);
    expect(Date.now() - started).toBeLessThan(3000);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(TimeoutError);
    }
    await store.close();
  });

  it('a refused connection gives BackendError with the SDK error as cause', async () => {
    const port = await findFreePort();
    const store = createDynamoDbStore({ endpoint: `http://127.0.0.1:${port}`, credentials, maxAttempts: 2 });
    const error = await store.get('a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).cause).toBeDefined();
    expect((error as BackendError).message).toMatch(/dynamodb get on table 'CacheTable' failed/);
    await store.close();
  });
});

describe('throttling', () => {
  it('is retried by the SDK with backoff, then surfaces as BackendError with the cause', async () => {
    // An endpoint that answers every request like DynamoDB under throttling.
    let requests = 0;
    const throttling = createHttpServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(
          JSON.stringify({
            __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
            message: 'The level of configured provisioned throughput for the table was exceeded.',
          }),
        );
      });
    });
    const port = await findFreePort();
    await new Promise<void>((resolve) => throttling.listen(port, '127.0.0.1', resolve));
    const store = createDynamoDbStore({ endpoint: `http://127.0.0.1:${port}`, credentials, maxAttempts: 3 });
    try {
      const error = await store.set('a', 'x', 1000).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackendError);
      expect((error as BackendError).message).toMatch(/throttled after retries/);
      expect(((error as BackendError).cause as Error).name).toBe('ProvisionedThroughputExceededException');
      expect(requests).toBe(3);
    } finally {
      await store.close();
      await new Promise((resolve) => throttling.close(resolve));
    }
  });
});
