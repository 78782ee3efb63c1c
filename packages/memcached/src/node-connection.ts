import net from 'node:net';
import tls from 'node:tls';
import { Server } from 'memjs';
import {
  type BinaryResponse,
  encodeRequest,
  encodeRequests,
  HEADER_BYTES,
  Opcode,
  type Request,
  Status,
} from './binary-protocol';
import { encodeQuietGets } from './quiet-gets';
import { readResponse } from './response-reader';

const EMPTY = Buffer.alloc(0);

/** What the driver needs from a per-node memjs `Server` (an injected one must provide it). */
export interface MemjsServerLike {
  onResponse(opaque: number, handler: (response: BinaryResponse) => void): void;
  onError(opaque: number, handler: (error: unknown) => void): void;
  write(blob: Buffer): void;
  close(): void;
  /** Id of the open connection (changes with every new socket), or `undefined` when none is open. Without it, no CAS is memoized. */
  connectionId?(): number | undefined;
}

/** Per-node connection settings. */
export interface ConnectionOptions {
  host: string;
  port: number;
  /** SASL PLAIN credentials (memjs's handshake). */
  username?: string;
  password?: string;
  /** TLS options; `undefined` for plain TCP. */
  tls?: tls.ConnectionOptions;
  /** Per-request and connect timeout, ms. */
  timeoutMs: number;
}

type QuietHandler = ((response: BinaryResponse) => void) & { quiet?: boolean };

/** memjs's private state this subclass touches. */
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

/** A request got no answer in time (the connection is reset). */
export class RequestTimeout extends Error {
  override name = 'RequestTimeout';
}

/** A node's connection: binary requests over one memjs `Server`, matched by opaque. */
export class NodeConnection {
  private opaque = 0;

  constructor(
    /** Ring id of the node (`host:port`). */
    readonly id: string,
    readonly server: MemjsServerLike,
  ) {}

  /** Sends one request and resolves with its answer. */
  request(request: Request): Promise<BinaryResponse> {
    const opaque = this.nextOpaque();
    return new Promise((resolve, reject) => {
      this.server.onResponse(opaque, resolve);
      this.server.onError(opaque, (error) => reject(toError(error)));
      this.server.write(encodeRequest(request, opaque));
    });
  }

  /**
   * Sends quiet requests followed by a NOOP in one write; resolves with every answer the
   * server sent before the NOOP (hits for GETKQ, failures for SETQ/DELETEQ).
   */
  quiet(requests: readonly Request[]): Promise<BinaryResponse[]> {
    const opaque = this.nextOpaque();
    return this.sendQuiet(encodeRequests([...requests, { opcode: Opcode.NOOP }], opaque), opaque);
  }

  /** `quiet` for GETKQ of each key, framed straight from the strings; resolves with the hits, in request order. */
  quietGets(keys: readonly string[]): Promise<BinaryResponse[]> {
    const opaque = this.nextOpaque();
    return this.sendQuiet(encodeQuietGets(keys, opaque), opaque);
  }

  /** Writes a framed quiet batch ending in a NOOP; collects the answers until the NOOP. */
  private sendQuiet(blob: Buffer, opaque: number): Promise<BinaryResponse[]> {
    const answers: BinaryResponse[] = [];
    return new Promise((resolve, reject) => {
      this.server.onResponse(opaque, quietHandler(answers, resolve));
      this.server.onError(opaque, (error) => reject(toError(error)));
      this.server.write(blob);
    });
  }

  /** Closes the socket. */
  close(): void {
    this.server.close();
  }

  /** Id of the open connection (a new one per socket), or `undefined` when none is open or the server cannot say. */
  connectionId(): number | undefined {
    return this.server.connectionId?.();
  }

  private nextOpaque(): number {
    // 0 is left to memjs's SASL handshake.
    this.opaque = this.opaque >= 0xffff_fffe ? 1 : this.opaque + 1;
    return this.opaque;
  }
}

/**
 * Collects a quiet batch's answers until its NOOP. memjs keeps a handler marked `quiet` registered
 * until an answer with an empty body (the NOOP). (An unnamed closure: the bench's TypeScript loader
 * would define a `name` on a named one at every call.)
 */
function quietHandler(answers: BinaryResponse[], resolve: (answers: BinaryResponse[]) => void): QuietHandler {
  return Object.assign(
    (response: BinaryResponse) => {
      if (response.header.opcode === Opcode.NOOP) resolve(answers);
      else answers.push(response);
    },
    { quiet: true },
  );
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
