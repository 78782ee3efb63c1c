/**
 * Every use this driver makes of memjs beyond its documented API, in one file. memjs stays the
 * product's client, but its public API (`Client`) has no CAS tokens, no quiet (batched)
 * requests, no 64-bit counters with an initial value and no TLS, which this driver is built on
 * (see the README, "memjs internals"). So each node's connection is memjs's own `Server` with
 * its connect, read and write steps replaced (`LarderServer`), over memjs's private fields and
 * methods. `probeMemjs` checks every one of them once, at start-up, on a memjs `Server` that
 * never connects; when any is missing or behaves otherwise there is no public fallback, and
 * creating a store fails with `UnsupportedClientError` naming what is missing (a store given a
 * `serverFactory` that builds its own servers does not need them, and is not checked).
 */
import net from 'node:net';
import tls from 'node:tls';
import { LarderError } from '@larder/core';
import { Server } from 'memjs';
import { type BinaryResponse, HEADER_BYTES, Opcode, Status } from './binary-protocol';
import { type ConnectionOptions, type QuietHandler, RequestTimeout } from './node-connection';
import { readResponse } from './response-reader';

const EMPTY = Buffer.alloc(0);

/** The installed memjs lacks private parts this driver is built on (`missing` names them); there is no public fallback. */
export class UnsupportedClientError extends LarderError {
  constructor(readonly missing: readonly string[]) {
    super(
      'E_UNSUPPORTED_CLIENT',
      `the installed memjs lacks what the memcached driver is built on: ${missing.join('; ')} (the driver supports memjs 1.3.2; see the @larder/memcached README, "memjs internals")`,
    );
  }
}

/** memjs's private state `LarderServer` touches. */
interface MemjsInternals {
  _socket?: net.Socket;
  connected: boolean;
  timeoutSet: boolean;
  responseBuffer: Buffer;
  requestTimeouts: number[];
  connectCallbacks: ((socket: net.Socket) => void)[];
  username?: string;
  password?: string;
  responseHandler(data: Buffer): void;
  responseCallbacks: Record<number, QuietHandler>;
  errorCallbacks: Record<number, (error: unknown) => void>;
  saslAuth(): void;
  listSasl(): void;
  error(error: unknown): void;
}

/**
 * memjs's `Server` with its connect step replaced. memjs keeps the response framing, the
 * per-opaque callback table, the SASL PLAIN handshake and the error fan-out; this subclass
 * adds what memjs 1.3.2 cannot do or gets wrong:
 * - TLS (memjs hard-codes `net.connect`);
 * - a socket closed without an 'error' (a killed server sends FIN) fails the pending requests
 *   (memjs forgets them, and its timeout timer lives on the dead socket, so they never settle);
 * - events of an old socket never touch its replacement (memjs's 'close' handler clears
 *   whatever socket is current, and stale bytes stay in its response buffer);
 * - one write carrying a quiet batch counts as one request for the deadline list;
 * - a request's deadline starts when it is made (memjs starts it once written, after the connect
 *   and SASL handshake) and is kept by a plain timer (memjs uses the socket's idle timeout, which
 *   every incoming byte pushes back: a reply trickling in never timed out);
 * - the writes of one tick are corked into one syscall.
 * The credentials come only from our options (memjs falls back to MEMCACHIER_* env vars).
 */
export class LarderServer extends Server {
  private readonly tlsOptions: tls.ConnectionOptions | undefined;
  private readonly timeoutMs: number;
  private corked = false;
  /** Sockets opened so far: the current one's id (see `connectionId`). */
  private sockets = 0;
  /** Fires at the oldest pending request's deadline (see `checkDeadlines`). */
  private deadlineTimer: NodeJS.Timeout | undefined;

  constructor(options: ConnectionOptions) {
    super(options.host, options.port, undefined, undefined, {
      timeout: options.timeoutMs / 1000,
      conntimeout: options.timeoutMs / 1000,
    });
    const self = this as unknown as MemjsInternals;
    self.username = options.username;
    self.password = options.password;
    this.tlsOptions = options.tls;
    this.timeoutMs = options.timeoutMs;
  }

  /** Replaces memjs's `Server#sock`: same contract, plus TLS and the fixes above. */
  override sock(sasl: boolean, go: (socket: net.Socket) => void): void {
    const self = this as unknown as MemjsInternals;
    if (self._socket) {
      if (!self.connected && !sasl) self.connectCallbacks.push(go);
      else go(self._socket);
      return;
    }
    self.connected = false;
    self.responseBuffer = Buffer.alloc(0);
    this.sockets++;
    const socket = this.tlsOptions
      ? tls.connect({
          host: this.host,
          port: this.port,
          servername: net.isIP(this.host) ? undefined : this.host,
          ...this.tlsOptions,
        })
      : net.connect(this.port, this.host);
    self._socket = socket;
    socket.setNoDelay(true);
    const current = () => self._socket === socket;
    const onAuthenticated = () => {
      if (!current()) return;
      self.connected = true;
      socket.setTimeout(0);
      self.timeoutSet = false;
      go(socket);
      const callbacks = self.connectCallbacks;
      self.connectCallbacks = [];
      for (const callback of callbacks) callback(socket);
    };
    socket.once(this.tlsOptions ? 'secureConnect' : 'connect', () => {
      if (!current()) return;
      if (self.username && self.password) {
        this.once('authenticated', onAuthenticated);
        self.listSasl();
      } else {
        onAuthenticated();
      }
    });
    socket.on('data', (data: Buffer) => {
      if (current()) self.responseHandler(data);
    });
    socket.on('error', (error) => {
      if (current()) self.error(error);
    });
    socket.on('close', () => {
      this.removeListener('authenticated', onAuthenticated);
      if (!current()) return;
      self.error(new Error(`connection to ${this.host}:${this.port} closed`));
    });
    self.timeoutSet = true;
    socket.setTimeout(this.timeoutMs, () => {
      if (current() && !self.connected) {
        this.removeListener('authenticated', onAuthenticated);
        self.error(new RequestTimeout(`timed out connecting to ${this.host}:${this.port}`));
      }
    });
  }

  /**
   * Replaces memjs's `Server#responseHandler`: same dispatch (SASL steps, then `respond` by opaque),
   * reading responses in place (see response-reader.ts); a malformed stream fails the connection.
   */
  override responseHandler(data: Buffer): void {
    const self = this as unknown as MemjsInternals;
    const socket = self._socket;
    const pending = self.responseBuffer;
    const buffer = pending.length === 0 ? data : Buffer.concat([pending, data]);
    let at = 0;
    for (;;) {
      let response: BinaryResponse | undefined;
      try {
        response = readResponse(buffer, at);
      } catch (error) {
        self.error(error);
        return;
      }
      if (!response) break;
      at += HEADER_BYTES + response.header.totalBodyLength;
      const { opcode, status } = response.header;
      if (opcode === Opcode.SASL_LIST_MECHS) self.saslAuth();
      else if (status === Status.AUTH_ERROR) self.error('Memcached server authentication failed!');
      else if (opcode === Opcode.SASL_AUTH) this.emit('authenticated');
      else respond(self, response);
      // An error above dropped this socket (and reset the buffer): the rest is stale.
      if (self._socket !== socket) return;
    }
    self.responseBuffer = at === buffer.length ? EMPTY : buffer.subarray(at);
  }

  /**
   * Id of the open, ready connection, or `undefined` when none is. A CAS read on one connection is
   * trusted only while it stays open: a restarted server hands out CAS values again from 1.
   */
  connectionId(): number | undefined {
    const self = this as unknown as MemjsInternals;
    return self._socket && self.connected ? this.sockets : undefined;
  }

  /** Replaces memjs's `Server#write`: one deadline per write, from now, checked by our own timer. */
  override write(blob: Buffer): void {
    const self = this as unknown as MemjsInternals;
    // Deadlines are pushed in write order, which is the order requests reach the socket and are answered.
    self.requestTimeouts.push(Date.now() + this.timeoutMs);
    if (!this.deadlineTimer) this.armDeadline(this.timeoutMs);
    // Connected: write now (`sock` would call back at once, through a closure per request).
    if (self._socket && self.connected) this.writeTo(self._socket, blob);
    else this.sock(false, (socket) => this.writeTo(socket, blob));
  }

  private writeTo(socket: net.Socket, blob: Buffer): void {
    // Requests written in one tick leave in one syscall (writev) instead of one each.
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    socket.write(blob);
  }

  /** Checks the deadlines in `ms`: the oldest request still unanswered fails the connection once its deadline passed. */
  private armDeadline(ms: number): void {
    this.deadlineTimer = setTimeout(() => this.checkDeadlines(), ms);
    // The socket keeps the process alive while requests are out; the timer alone must not.
    this.deadlineTimer.unref();
  }

  private checkDeadlines(): void {
    const self = this as unknown as MemjsInternals;
    this.deadlineTimer = undefined;
    const soonest = self.requestTimeouts[0];
    if (soonest === undefined) return;
    const now = Date.now();
    if (soonest > now) {
      this.armDeadline(soonest - now);
      return;
    }
    self.error(new RequestTimeout(`no answer from ${this.host}:${this.port} within ${this.timeoutMs}ms`));
  }
}

/**
 * memjs's `Server#respond`, kept here so its property reads see only this reader's response
 * shape (memjs's own stays monomorphic for memjs clients in the same process).
 */
function respond(server: MemjsInternals, response: BinaryResponse): void {
  const { opaque } = response.header;
  const callback = server.responseCallbacks[opaque];
  // No callback: SASL steps and answers to requests already failed.
  if (!callback) return;
  callback(response);
  if (!callback.quiet || response.header.totalBodyLength === 0) {
    delete server.responseCallbacks[opaque];
    server.requestTimeouts.shift();
    delete server.errorCallbacks[opaque];
  }
}

let probed: string[] | undefined;

/** The memjs internals this file uses that the installed memjs lacks (empty: all there); checked once per process. */
export function probeMemjs(): readonly string[] {
  probed ??= missingParts();
  return probed;
}

/** Throws `UnsupportedClientError` unless the installed memjs has every internal `LarderServer` uses. */
export function assertMemjsInternals(): void {
  const missing = probeMemjs();
  if (missing.length > 0) throw new UnsupportedClientError(missing);
}

/** A socket that records what memjs does with it (the probe never opens one). */
function probeSocket() {
  const calls: string[] = [];
  return {
    calls,
    write: () => calls.push('write'),
    destroy: () => calls.push('destroy'),
    end: () => calls.push('end'),
  };
}

/**
 * Checks each field and method `LarderServer` reads, writes, overrides or calls, on a memjs `Server`
 * that never connects: the fields the constructor sets, and what `onResponse`, `onError`,
 * `listSasl`/`saslAuth` (through `sock(true)`), `error` and `close` do with them.
 */
function missingParts(): string[] {
  const missing: string[] = [];
  const need = (ok: boolean, part: string) => {
    if (!ok) missing.push(part);
  };
  const proto = Server.prototype as unknown as Record<string, unknown>;
  for (const method of [
    'sock',
    'responseHandler',
    'write',
    'error',
    'listSasl',
    'saslAuth',
    'onResponse',
    'onError',
    'close',
  ])
    need(typeof proto[method] === 'function', `Server#${method}`);
  if (missing.length > 0) return missing;
  const server = new Server('127.0.0.1', 1, 'probe', 'secret', { timeout: 1, conntimeout: 1 });
  const self = server as unknown as MemjsInternals & { sock(sasl: boolean, go: (socket: unknown) => void): void };
  need(self.connected === false, 'Server#connected');
  need(self.timeoutSet === false, 'Server#timeoutSet');
  need(Buffer.isBuffer(self.responseBuffer), 'Server#responseBuffer');
  need(Array.isArray(self.requestTimeouts), 'Server#requestTimeouts');
  need(Array.isArray(self.connectCallbacks), 'Server#connectCallbacks');
  need(self.username === 'probe' && self.password === 'secret', 'Server#username/password');
  const onAnswer = () => {};
  let failedWith: unknown;
  server.onResponse(7, onAnswer);
  server.onError(7, (error) => {
    failedWith = error;
  });
  need(self.responseCallbacks?.[7] === onAnswer, 'Server#responseCallbacks');
  need(typeof self.errorCallbacks?.[7] === 'function', 'Server#errorCallbacks');
  // The SASL steps go through `sock(true, ...)`, which LarderServer replaces, and write one frame each.
  const sasl = probeSocket();
  const socks: boolean[] = [];
  self.sock = (isSasl, go) => {
    socks.push(isSasl);
    go(sasl);
  };
  self.listSasl();
  self.saslAuth();
  need(socks.join() === 'true,true' && sasl.calls.join() === 'write,write', 'Server#listSasl/saslAuth via sock(true)');
  // `error` fails every pending request, destroys `_socket`, forgets it and resets the tables.
  const dropped = probeSocket();
  self._socket = dropped as unknown as net.Socket;
  self.requestTimeouts.push(1);
  const failure = new Error('probe');
  self.error(failure);
  need(
    failedWith === failure &&
      dropped.calls.join() === 'destroy' &&
      self._socket === undefined &&
      Object.keys(self.errorCallbacks).length === 0 &&
      Object.keys(self.responseCallbacks).length === 0 &&
      self.requestTimeouts.length === 0 &&
      self.connectCallbacks.length === 0,
    'Server#error (fails the pending requests, drops _socket)',
  );
  // `close` ends `_socket`.
  const closed = probeSocket();
  self._socket = closed as unknown as net.Socket;
  server.close();
  need(closed.calls.join() === 'end', 'Server#close (ends _socket)');
  return missing;
}
