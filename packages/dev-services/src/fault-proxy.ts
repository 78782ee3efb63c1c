import { EventEmitter } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { findFreePort } from './ports';

/** A network fault the proxy applies, switchable at run time. */
export type Fault =
  /** Forward everything as it comes. */
  | { kind: 'none' }
  /** Delay every chunk by `ms`, in each direction (a round trip gets 2 × `ms`). */
  | { kind: 'latency'; ms: number }
  /** Cap each direction at `bytesPerSec`. */
  | { kind: 'bandwidth'; bytesPerSec: number }
  /** Accept connections but answer nothing: bytes wait (as TCP retransmits would) until the fault ends. */
  | { kind: 'blackhole' }
  /**
   * The server side vanishes without telling the client: every connection open now or opened while
   * the fault lasts loses its upstream and stays open and silent for good (bytes are dropped).
   */
  | { kind: 'halfOpen' }
  /** The next reply on each connection: forward about half of it, then reset (RST) the connection. */
  | { kind: 'resetMidReply' }
  /** Forward data, but pass a FIN (end of stream) on only after `ms`. */
  | { kind: 'slowClose'; ms: number }
  /** Deliver replies (server to client) one byte per packet. */
  | { kind: 'splitReplies' };

/** Options of `startFaultProxy`. */
export interface FaultProxyOptions {
  /** Where connections are forwarded. */
  target: { host: string; port: number };
  /** Port to listen on (loopback). @default a free port */
  listenPort?: number;
}

/** A running fault proxy. */
export interface FaultProxy {
  /** Loopback host the proxy listens on. */
  readonly host: string;
  /** Port the proxy listens on. */
  readonly port: number;
  /** The fault now in force. */
  readonly fault: Fault;
  /** Connections currently open through the proxy (client side). */
  readonly connections: number;
  /** Switches to `fault` for existing and new connections. */
  setFault(fault: Fault): void;
  /** Same as `setFault({ kind: 'none' })`. */
  clear(): void;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
// Slices per second under a bandwidth cap: small enough to look like a steady stream.
const SLICES_PER_SECOND = 50;
const RESET_PAUSE_MS = 10;

type Item = { data: Buffer; at: number } | { end: true; at: number };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));
const write = (socket: Socket, data: Buffer) =>
  new Promise<void>((resolve) => {
    if (socket.destroyed) resolve();
    else socket.write(data, () => resolve());
  });

/** Shared state of one proxy: the fault in force and a signal when it changes. */
class FaultState extends EventEmitter {
  fault: Fault = { kind: 'none' };
  closed = false;

  set(fault: Fault): void {
    this.fault = fault;
    this.emit('change');
  }

  /** Resolves when the fault is no longer `kind` (or the proxy closed). */
  async leave(kind: Fault['kind']): Promise<void> {
    while (this.fault.kind === kind && !this.closed) await new Promise((resolve) => this.once('change', resolve));
  }
}

/** One client connection and its upstream, with a pump per direction. */
class Link {
  /** Upstream gone for good (half-open): the client socket stays open but hears nothing. */
  dead = false;
  private readonly up: Pump;
  private readonly down: Pump;

  constructor(
    readonly client: Socket,
    readonly upstream: Socket,
    readonly state: FaultState,
    private readonly onClose: () => void,
  ) {
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.up = new Pump(this, upstream, false);
    this.down = new Pump(this, client, true);
    client.on('data', (data: Buffer) => this.up.push(data));
    upstream.on('data', (data: Buffer) => this.down.push(data));
    client.on('end', () => this.up.end());
    upstream.on('end', () => this.down.end());
    // A reset or error on one side is passed on as a reset of the other (unless half-open).
    client.on('error', () => this.destroy());
    upstream.on('error', () => {
      if (!this.dead) this.destroy();
    });
    client.on('close', () => this.destroy());
    upstream.on('close', () => {
      if (!this.dead) this.down.end();
    });
  }

  /** Drops the upstream and keeps the client socket open and silent. */
  goHalfOpen(): void {
    this.dead = true;
    this.upstream.destroy();
  }

  /** Resets the client connection (RST) and drops the upstream. */
  reset(): void {
    this.client.resetAndDestroy();
    this.upstream.destroy();
  }

  destroy(): void {
    if (!this.client.destroyed) this.client.destroy();
    if (!this.upstream.destroyed) this.upstream.destroy();
    this.onClose();
  }
}

/** Moves chunks one way, in order, applying the fault in force when each chunk is delivered. */
class Pump {
  private readonly queue: Item[] = [];
  private running = false;
  private resetDone = false;

  constructor(
    private readonly link: Link,
    private readonly dest: Socket,
    private readonly isReply: boolean,
  ) {}

  push(data: Buffer): void {
    this.enqueue({ data, at: Date.now() });
  }

  end(): void {
    this.enqueue({ end: true, at: Date.now() });
  }

  private enqueue(item: Item): void {
    this.queue.push(item);
    if (!this.running) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    const state = this.link.state;
    while (this.queue.length > 0 && !state.closed && !this.dest.destroyed) {
      await state.leave('blackhole');
      if (this.link.dead) {
        this.queue.length = 0; // half-open: nothing goes anywhere any more
        break;
      }
      const item = this.queue.shift()!;
      const fault = state.fault;
      if (fault.kind === 'latency') await sleep(item.at + fault.ms - Date.now());
      if ('end' in item) {
        if (fault.kind === 'slowClose') await sleep(fault.ms);
        this.dest.end();
        continue;
      }
      await this.deliver(item.data, fault);
    }
    this.running = false;
  }

  private async deliver(data: Buffer, fault: Fault): Promise<void> {
    const state = this.link.state;
    if (fault.kind === 'bandwidth') {
      const slice = Math.max(1, Math.floor(fault.bytesPerSec / SLICES_PER_SECOND));
      let offset = 0;
      // A fault switched off mid-chunk lets the rest through at once.
      for (; offset < data.length && state.fault === fault; offset += slice) {
        const part = data.subarray(offset, offset + slice);
        await write(this.dest, part);
        await sleep((part.length / fault.bytesPerSec) * 1000);
      }
      if (offset < data.length) await write(this.dest, data.subarray(offset));
      return;
    }
    if (this.isReply && fault.kind === 'resetMidReply' && !this.resetDone) {
      this.resetDone = true;
      await write(this.dest, data.subarray(0, Math.floor(data.length / 2)));
      // Right after a write, Linux may turn the RST into a plain FIN at the peer: let the part land first.
      await sleep(RESET_PAUSE_MS);
      this.link.reset();
      return;
    }
    if (this.isReply && fault.kind === 'splitReplies') {
      let offset = 0;
      for (; offset < data.length && state.fault === fault; offset++) {
        await write(this.dest, data.subarray(offset, offset + 1));
        await new Promise(setImmediate); // a turn of the loop between writes: one packet each
      }
      if (offset < data.length) await write(this.dest, data.subarray(offset));
      return;
    }
    await write(this.dest, data);
  }
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Starts a TCP proxy on loopback in front of `target`, with faults switchable at run time (for tests). */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const state = new FaultState();
  state.setMaxListeners(0);
  const links = new Set<Link>();
  // Half-open sockets on both sides: a FIN is passed on by the pump (and can be delayed), not by Node.
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ host: options.target.host, port: options.target.port, allowHalfOpen: true });
    const link = new Link(client, upstream, state, () => links.delete(link));
    links.add(link);
    if (state.fault.kind === 'halfOpen') link.goHalfOpen();
  });
  // A port picked free can be taken before the bind: pick again (only when no port was asked for).
  let port = options.listenPort ?? (await findFreePort());
  for (let attempt = 1; ; attempt++) {
    try {
      await listen(server, port);
      break;
    } catch (error) {
      if (options.listenPort !== undefined || attempt >= 5) throw error;
      port = await findFreePort();
    }
  }

  return {
    host: HOST,
    port,
    get fault() {
      return state.fault;
    },
    get connections() {
      return links.size;
    },
    setFault(fault: Fault) {
      state.set(fault);
      if (fault.kind === 'halfOpen') for (const link of links) link.goHalfOpen();
    },
    clear() {
      state.set({ kind: 'none' });
    },
    close() {
      state.closed = true;
      state.emit('change');
      for (const link of links) link.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
