import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, findFreePort, startFaultProxy, waitFor } from '../src/index';

/** A client socket that records what it receives and when it closed. */
interface Probe {
  socket: Socket;
  chunks: Buffer[];
  received: () => string;
  closed: boolean;
  error?: NodeJS.ErrnoException;
}

async function open(proxy: FaultProxy): Promise<Probe> {
  const socket = connect({ host: proxy.host, port: proxy.port });
  const probe: Probe = { socket, chunks: [], received: () => Buffer.concat(probe.chunks).toString(), closed: false };
  socket.on('data', (chunk: Buffer) => probe.chunks.push(chunk));
  socket.on('error', (error) => {
    probe.error = error;
  });
  socket.on('close', () => {
    probe.closed = true;
  });
  await once(socket, 'connect');
  return probe;
}

const echoed = (probe: Probe, text: string) =>
  waitFor(() => probe.received().endsWith(text), { timeoutMs: 5000, description: `echo of '${text}'` });

describe('fault proxy (in front of a TCP echo server)', () => {
  let echo: Server;
  let proxy: FaultProxy;
  // When the echo server saw the end of each connection, by the first text it received.
  const upstreamEnds = new Map<string, number>();
  const probes: Probe[] = [];
  beforeAll(async () => {
    echo = createServer((socket) => {
      let first = '';
      socket.on('data', (data) => {
        first ||= data.toString();
        socket.write(data);
      });
      socket.on('end', () => {
        upstreamEnds.set(first, Date.now());
        socket.end();
      });
      socket.on('error', () => {});
    });
    const port = await findFreePort();
    await new Promise<void>((resolve) => echo.listen(port, '127.0.0.1', resolve));
    proxy = await startFaultProxy({ target: { host: '127.0.0.1', port } });
  });
  afterEach(() => {
    proxy.clear();
    for (const probe of probes.splice(0)) probe.socket.destroy();
  });
  afterAll(async () => {
    await proxy?.close();
    echo?.close();
  });
  const probe = async () => {
    const p = await open(proxy);
    probes.push(p);
    return p;
  };
  const echoConnections = () => new Promise<number>((resolve) => echo.getConnections((_e, n) => resolve(n)));

  it('forwards both ways with no fault', async () => {
    const p = await probe();
    p.socket.write('hello');
    await echoed(p, 'hello');
    expect(proxy.fault).toEqual({ kind: 'none' });
  });

  it('latency delays each direction', async () => {
    const p = await probe();
    proxy.setFault({ kind: 'latency', ms: 150 });
    const started = Date.now();
    p.socket.write('slow');
    await echoed(p, 'slow');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('bandwidth caps the byte rate', async () => {
    const p = await probe();
    proxy.setFault({ kind: 'bandwidth', bytesPerSec: 2000 });
    const text = 'x'.repeat(400);
    const started = Date.now();
    p.socket.write(text);
    await echoed(p, text);
    // 400 bytes at 2000 B/s: at least 0.2 s (the two directions stream at the same time).
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('blackhole accepts and answers nothing, then delivers everything in order when cleared', async () => {
    const before = await probe();
    proxy.setFault({ kind: 'blackhole' });
    before.socket.write('held-1');
    const during = await probe(); // accepted
    during.socket.write('held-2');
    // Nothing may arrive while blackholed; give it a generous round-trip time to show up.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(before.received()).toBe('');
    expect(during.received()).toBe('');
    expect(before.closed || during.closed).toBe(false);
    proxy.clear();
    await echoed(before, 'held-1');
    await echoed(during, 'held-2');
  });

  it('halfOpen keeps the client connection open and silent for good, the server side closed', async () => {
    const p = await probe();
    p.socket.write('a');
    await echoed(p, 'a');
    const serverSide = await echoConnections();
    proxy.setFault({ kind: 'halfOpen' });
    await waitFor(async () => (await echoConnections()) === serverSide - 1, { description: 'upstream closed' });
    p.socket.write('b');
    const during = await probe();
    during.socket.write('c');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(p.received()).toBe('a');
    expect(during.received()).toBe('');
    expect(p.closed || during.closed).toBe(false);
    proxy.clear();
    // Connections that were half-open stay dead; a new one works.
    p.socket.write('d');
    const fresh = await probe();
    fresh.socket.write('e');
    await echoed(fresh, 'e');
    expect(p.received()).toBe('a');
    expect(p.closed).toBe(false);
  });

  it('resetMidReply forwards part of the next reply, then resets the connection', async () => {
    const p = await probe();
    proxy.setFault({ kind: 'resetMidReply' });
    const text = 'y'.repeat(100);
    p.socket.write(text);
    await waitFor(() => p.closed, { description: 'the reset' });
    expect(p.error?.code).toBe('ECONNRESET');
    expect(p.received().length).toBeLessThan(100);
  });

  it('slowClose passes the FIN on only after the delay', async () => {
    const p = await probe();
    p.socket.write('slow-close');
    await echoed(p, 'slow-close');
    proxy.setFault({ kind: 'slowClose', ms: 300 });
    const started = Date.now();
    p.socket.end();
    const ended = await waitFor(() => upstreamEnds.get('slow-close'), { description: 'FIN at the server' });
    expect(ended - started).toBeGreaterThanOrEqual(280);
    await waitFor(() => p.closed, { description: 'the FIN back' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(560);
  });

  it('splitReplies delivers replies one byte per packet', async () => {
    const p = await probe();
    proxy.setFault({ kind: 'splitReplies' });
    const text = 'split-me-into-bytes';
    p.socket.write(text);
    await echoed(p, text);
    // A busy machine may merge a few packets in one read, never all of them.
    expect(p.chunks.length).toBeGreaterThan(text.length / 2);
    expect(p.chunks.every((chunk) => chunk.length <= 2)).toBe(true);
  });

  it('switches faults at run time on a live connection', async () => {
    const p = await probe();
    proxy.setFault({ kind: 'latency', ms: 200 });
    let started = Date.now();
    p.socket.write('1');
    await echoed(p, '1');
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    proxy.clear();
    started = Date.now();
    p.socket.write('2');
    await echoed(p, '2');
    expect(Date.now() - started).toBeLessThan(200);
    expect(proxy.connections).toBeGreaterThan(0);
  });
});
