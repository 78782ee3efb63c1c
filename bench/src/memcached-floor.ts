/**
 * The floor of a memcached getMany on this machine: what a client with no logic at all pays.
 * Each node gets one socket; the quiet-get requests (GETKQ… + NOOP) of every key set are framed
 * once, up front; a call writes one ready buffer per node, walks the answers and JSON.parses each
 * value. No routing, key matching, timeouts, failure handling or result array: only socket I/O
 * and decoding, which every real client (larder included) pays on top of its own work.
 */
import net from 'node:net';
import { parseHostPort } from '@larder/core/driver';

const HEADER = 24;
const GETKQ = 0x0d;
const NOOP = 0x0a;
const SET = 0x01;

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/** One socket to one memcached node, reading binary responses in order; one request in flight at a time. */
class FloorConnection {
  private pending: Buffer = Buffer.alloc(0);
  private waiter: Waiter | undefined;
  /** Values decoded so far (so a test can check the floor does the decoding it claims). */
  decoded = 0;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.waiter?.reject(error));
  }

  static async open(address: string): Promise<FloorConnection> {
    const parsed = parseHostPort(address);
    if (!parsed) throw new Error(`bad memcached address '${address}' (expected host:port)`);
    const socket = net.connect(parsed.port, parsed.host);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new FloorConnection(socket);
  }

  /** Writes `request` and resolves when its NOOP answer has arrived (every earlier answer walked). */
  send(request: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.socket.write(request);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const bytes = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let at = 0;
    while (bytes.length - at >= HEADER) {
      const end = at + HEADER + bytes.readUInt32BE(at + 8);
      if (end > bytes.length) break;
      const opcode = bytes[at + 1];
      if (opcode === GETKQ) {
        const valueAt = at + HEADER + bytes[at + 4]! + ((bytes[at + 2]! << 8) | bytes[at + 3]!);
        JSON.parse(bytes.toString('utf8', valueAt, end));
        this.decoded++;
      }
      at = end;
      if (opcode === NOOP) this.waiter?.resolve();
    }
    this.pending = bytes.subarray(at);
  }
}

/** Frames one request per key of `keys` (`opcode` with `value` as the body's value, or a bare key), then a NOOP. */
function frame(opcode: number, keys: readonly string[], value?: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (const key of keys) {
    const keyBytes = Buffer.from(key);
    const extras = value ? 8 : 0; // SET: flags + expiry, both 0
    const header = Buffer.alloc(HEADER + extras);
    header[0] = 0x80;
    header[1] = opcode;
    header.writeUInt16BE(keyBytes.length, 2);
    header[4] = extras;
    header.writeUInt32BE(extras + keyBytes.length + (value?.length ?? 0), 8);
    parts.push(header, keyBytes);
    if (value) parts.push(value);
  }
  const noop = Buffer.alloc(HEADER);
  noop[0] = 0x80;
  noop[1] = NOOP;
  parts.push(noop);
  return Buffer.concat(parts);
}

/** The floor client: `keySets[s]` spread over the nodes by `i % nodes`, pre-framed per node. */
export class MemcachedFloor {
  private constructor(
    private readonly connections: FloorConnection[],
    private readonly requests: Buffer[][],
  ) {}

  /** Connects, stores `value` (JSON text) under every key, and frames the quiet gets of every key set. */
  static async open(addresses: readonly string[], keySets: readonly (readonly number[])[], value: string) {
    const connections = await Promise.all(addresses.map((address) => FloorConnection.open(address)));
    const nodes = connections.length;
    const keysOn = (indexes: readonly number[], node: number) =>
      indexes.filter((i) => i % nodes === node).map((i) => `floor:k${i}`);
    const all = [...new Set(keySets.flat())];
    await Promise.all(
      connections.map((connection, node) => {
        // Each SET answers on its own (walked and ignored); the NOOP after the last one resolves `send`.
        const request = frame(SET, keysOn(all, node), Buffer.from(value));
        return connection.send(request);
      }),
    );
    const requests = keySets.map((set) => connections.map((_, node) => frame(GETKQ, keysOn(set, node))));
    return new MemcachedFloor(connections, requests);
  }

  /** One getMany of key set `set`: one write per node, every value decoded. */
  getMany(set: number): Promise<unknown> {
    const perNode = this.requests[set % this.requests.length]!;
    return Promise.all(this.connections.map((connection, node) => connection.send(perNode[node]!)));
  }

  /** Values decoded so far, per node. */
  decodedPerNode(): number[] {
    return this.connections.map((connection) => connection.decoded);
  }

  close(): void {
    for (const connection of this.connections) connection.close();
  }
}
