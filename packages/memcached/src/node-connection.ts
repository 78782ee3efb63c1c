import type tls from 'node:tls';
import { type BinaryResponse, encodeRequest, encodeRequests, Opcode, type Request } from './binary-protocol';
import { encodeQuietGets } from './quiet-gets';

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

/** A response handler; one marked `quiet` stays registered until an answer with an empty body (memjs's `Server` convention). */
export type QuietHandler = ((response: BinaryResponse) => void) & { quiet?: boolean };

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
