import { ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Captured, captureResponse } from '../src/node/capture';
import { type Served, serve, until } from './harness';

// `captureResponse` wraps a response's `writeHead`, `write` and `end` on a framework's own response
// prototype (Express's `app.response`), through a prototype layer over Node's (one per prototype),
// or on the response itself when something before it set its own (compression).

let served: Served | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});

/** Captures `res` and records what `onDone` reported. */
function record(res: ServerResponse, into: (Captured | undefined)[]): void {
  captureResponse(res, 1 << 20, { onHead: () => undefined, onDone: (captured) => into.push(captured) });
}

const body = (captured: Captured | undefined) => captured?.body.toString();

/** GETs `/captured` and `/plain` (both answer `12`); the capture's `count`th record is that body. */
async function capturedAndPlain(seen: (Captured | undefined)[], count: number): Promise<void> {
  expect((await served?.get('/captured'))?.text).toBe('12');
  expect((await served?.get('/plain'))?.text).toBe('12');
  await until(() => seen.length === count);
  expect(body(seen[count - 1])).toBe('12');
}

describe('captureResponse', () => {
  it('two captures of one response (two caches on a route) both record a streamed body', async () => {
    const outer: (Captured | undefined)[] = [];
    const inner: (Captured | undefined)[] = [];
    let layered = false;
    served = await serve((_req, res) => {
      const proto = Object.getPrototypeOf(res);
      record(res, outer);
      record(res, inner);
      layered = Object.getPrototypeOf(Object.getPrototypeOf(res)) !== proto && !Object.hasOwn(res, 'end');
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('a');
      res.end('b');
    });
    expect((await served.get('/')).text).toBe('ab');
    await until(() => outer.length === 1 && inner.length === 1);
    expect([body(outer[0]), body(inner[0])]).toEqual(['ab', 'ab']);
    expect(outer[0]?.headers['content-type']).toBe('text/plain');
    expect(layered).toBe(true);
  });

  it('a response whose own `write` and `end` were set before (compression) is wrapped on itself', async () => {
    const seen: (Captured | undefined)[] = [];
    let upstream = '';
    let protoKept = false;
    served = await serve((_req, res) => {
      const write = res.write.bind(res) as (chunk: unknown) => boolean;
      const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
      res.write = ((chunk: unknown) => {
        upstream += String(chunk);
        return write(chunk);
      }) as ServerResponse['write'];
      res.end = ((chunk?: unknown) => {
        if (chunk !== undefined) upstream += String(chunk);
        return end(chunk);
      }) as ServerResponse['end'];
      const proto = Object.getPrototypeOf(res);
      record(res, seen);
      protoKept = Object.getPrototypeOf(res) === proto;
      res.write('x');
      res.end('y');
    });
    expect((await served.get('/')).text).toBe('xy');
    await until(() => seen.length === 1);
    expect(body(seen[0])).toBe('xy');
    expect(upstream).toBe('xy');
    expect(protoKept).toBe(true);
  });

  it("a framework's own response prototype gets the methods itself: captured and other responses, a parent set later", async () => {
    // What Express does: a prototype of its own under every response of an app (`app.response`).
    const appResponse = Object.create(ServerResponse.prototype) as object;
    const seen: (Captured | undefined)[] = [];
    const protos: unknown[] = [];
    served = await serve((req, res) => {
      Object.setPrototypeOf(res, appResponse);
      if (req.url === '/captured') record(res, seen);
      protos.push(Object.getPrototypeOf(res));
      res.write('1');
      res.end('2');
    });
    await capturedAndPlain(seen, 1);
    expect(protos).toEqual([appResponse, appResponse]);
    expect(Object.hasOwn(appResponse, 'end')).toBe(true);
    // Express mounting a sub-app sets its prototype's parent later: the new parent's methods are used.
    let parentEnds = 0;
    const parent = Object.create(ServerResponse.prototype) as { end: (...args: unknown[]) => unknown };
    parent.end = function (this: ServerResponse, ...args: unknown[]) {
      parentEnds++;
      return (ServerResponse.prototype.end as (...a: unknown[]) => unknown).apply(this, args);
    };
    Object.setPrototypeOf(appResponse, parent);
    await capturedAndPlain(seen, 2);
    expect(parentEnds).toBe(2);
  });

  it('passes calls through once the response is settled, and leaves other responses alone', async () => {
    const seen: (Captured | undefined)[] = [];
    let plainWrites = 0;
    served = await serve((req, res) => {
      if (req.url === '/captured') record(res, seen);
      else {
        const write = res.write;
        res.write = function (this: ServerResponse, ...args: unknown[]) {
          plainWrites++;
          return (write as (...a: unknown[]) => boolean).apply(this, args);
        } as ServerResponse['write'];
      }
      res.write('1');
      res.end('2');
    });
    await capturedAndPlain(seen, 1);
    expect(plainWrites).toBe(1);
  });

  it('an intercepted response whose client left before the handler ended still ends through the capture', async () => {
    const intercepted: number[] = [];
    const done: (Captured | undefined)[] = [];
    let res: ServerResponse | undefined;
    served = await serve((_req, response) => {
      res = response;
      captureResponse(response, 1 << 20, {
        intercept: (status) => status === 304,
        onIntercepted: (status) => intercepted.push(status),
        onHead: () => undefined,
        onDone: (captured) => done.push(captured),
      });
      response.writeHead(304);
    });
    const socket = connect(served.port, '127.0.0.1');
    socket.write('GET / HTTP/1.1\r\nHost: a.example\r\n\r\n');
    await until(() => res !== undefined);
    socket.destroy();
    // The client left: the capture settles with nothing; the handler still ends its 304 through it.
    await until(() => done.length === 1);
    expect(done).toEqual([undefined]);
    expect(intercepted).toEqual([]);
    (res as ServerResponse).end();
    expect(intercepted).toEqual([304]);
  });
});
