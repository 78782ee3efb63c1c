import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** A response as the handler produced it. */
export interface Captured {
  status: number;
  /**
   * Headers at the moment the handler's response headed out, as this middleware saw them: a
   * middleware mounted before it that changes them at send time (compression's `Content-Encoding`)
   * is not in them, and its change of the body is not in `body` either. A hit replays both
   * through that same middleware again, which applies its change for the client at hand.
   */
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

/** What the capture reports. */
export interface CaptureHooks {
  /**
   * Once, just before the headers are sent (the last moment to set one): status and headers,
   * and whether the whole body is already known (`res.end` with no earlier write).
   */
  onHead(status: number, headers: OutgoingHttpHeaders, complete: boolean): void;
  /** Once: the response if it finished whole within `maxBodyBytes`, else `undefined` (destroyed, too large, short). */
  onDone(captured: Captured | undefined): void;
  /**
   * Whether a response heading out with this status is kept from the client (a revalidation's 304,
   * an error answered by a stale entry). Pure: it may be asked twice for one response.
   */
  intercept?(status: number): boolean;
  /**
   * Once, when an intercepted response ends: its status and headers. Nothing of it went out; from
   * here on every call of `res` passes straight through (this hook answers the client).
   */
  onIntercepted?(status: number, headers: OutgoingHttpHeaders): void;
}

// biome-ignore lint/suspicious/noExplicitAny: the wrapped methods take what Node's take.
type Method = (this: ServerResponse, ...args: any[]) => any;
type Wrapped = 'writeHead' | 'write' | 'end';
const WRAPPED: readonly Wrapped[] = ['writeHead', 'write', 'end'];

/**
 * Records what the handler writes (status, headers, body) by wrapping `writeHead`, `write` and
 * `end` of this response; everything is passed on unchanged.
 */
export function captureResponse(res: ServerResponse, maxBodyBytes: number, hooks: CaptureHooks): void {
  const capture = new ResponseCapture(res, maxBodyBytes, hooks);
  if (WRAPPED.some((name) => Object.hasOwn(res, name))) wrapOwn(res, capture);
  else {
    const base = Object.getPrototypeOf(res) as object;
    const layer = layerOver(base);
    (res as unknown as Record<symbol, ResponseCapture>)[layer.key] = capture;
    if (layer.proto !== base) Object.setPrototypeOf(res, layer.proto);
  }
  // Both events, each fired once (`on`: no wrapper to make and remove): a response made outside a
  // server, as a background revalidation's, never emits `close`; one cut short never emits
  // `finish`; `settle` runs once.
  res.on('finish', () => capture.finished());
  res.on('close', () => {
    if (!res.writableFinished) capture.settle(undefined);
  });
}

/** What one response's handler wrote so far, and the wrapped methods' logic (`base`: the method wrapped). */
class ResponseCapture {
  #chunks: Buffer[] = [];
  #size = 0;
  #tooLarge = false;
  #ending = false;
  #head: { status: number; headers: OutgoingHttpHeaders } | undefined;
  #settled = false;
  // A response kept from the client (`intercept`), then `through`: every call passes unrecorded.
  #intercepted: { status: number; headers: OutgoingHttpHeaders } | undefined;
  #through = false;

  constructor(
    readonly res: ServerResponse,
    readonly maxBodyBytes: number,
    readonly hooks: CaptureHooks,
  ) {}

  writeHead(base: Method, res: ServerResponse, args: unknown[]): unknown {
    if (this.#through) return base.apply(res, args);
    if (this.#intercepted) return res;
    if (this.#head === undefined) {
      const status = args[0] as number;
      const headers: OutgoingHttpHeaders = res.getHeaders();
      mergeGiven(
        headers,
        args.find((arg, i) => i > 0 && typeof arg === 'object' && arg !== null),
      );
      if (this.hooks.intercept?.(status)) {
        this.#intercepted = { status, headers };
        return res;
      }
      this.#head = { status, headers };
      this.hooks.onHead(status, headers, this.#ending && !this.#tooLarge);
    }
    return base.apply(res, args);
  }

  write(base: Method, res: ServerResponse, args: unknown[]): unknown {
    if (this.#through) return base.apply(res, args);
    this.#interceptImplicit();
    if (this.#intercepted) return true;
    this.#collect(args[0], args[1]);
    return base.apply(res, args);
  }

  end(base: Method, res: ServerResponse, args: unknown[]): unknown {
    if (this.#through) return base.apply(res, args);
    this.#interceptImplicit();
    const intercepted = this.#intercepted;
    if (intercepted) {
      this.#through = true;
      this.hooks.onIntercepted?.(intercepted.status, intercepted.headers);
      return res;
    }
    this.#collect(args[0], args[1]);
    this.#ending = true;
    return base.apply(res, args);
  }

  /** The response finished: settled with what was captured, if whole. */
  finished(): void {
    const head = this.#head;
    const declared = head?.headers['content-length'];
    // A body shorter or longer than it said is not the response the handler meant.
    const whole = head !== undefined && !this.#tooLarge && (declared === undefined || Number(declared) === this.#size);
    this.settle(
      whole ? { status: head.status, headers: head.headers, body: Buffer.concat(this.#chunks, this.#size) } : undefined,
    );
  }

  settle(captured: Captured | undefined): void {
    if (this.#settled) return;
    this.#settled = true;
    this.hooks.onDone(captured);
  }

  // Node's `write`/`end` would send the headers themselves: an intercepted status is caught first.
  #interceptImplicit(): void {
    const res = this.res;
    if (this.#intercepted || this.#head !== undefined || res.headersSent || !this.hooks.intercept?.(res.statusCode)) {
      return;
    }
    // `getHeaders` makes a new object each call: no copy needed.
    this.#intercepted = { status: res.statusCode, headers: res.getHeaders() };
  }

  #collect(chunk: unknown, encoding: unknown): void {
    if (chunk == null || typeof chunk === 'function' || this.#tooLarge) return;
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : chunk instanceof Uint8Array
        ? Buffer.from(chunk)
        : Buffer.from(String(chunk), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    this.#size += buf.length;
    if (this.#size > this.maxBodyBytes) {
      this.#tooLarge = true;
      this.#chunks.length = 0;
    } else this.#chunks.push(buf);
  }
}

/** A prototype whose `writeHead`, `write` and `end` run the capture of the response, if any, over those of the one below. */
interface CaptureLayer {
  readonly proto: object;
  /**
   * The property a captured response holds its capture under, one per layer (a response under two
   * layers, an Express sub-app's over its app's, is captured by the one it was given to). Not a
   * WeakMap: one keyed by responses, young objects, makes every scavenge process its entries as
   * ephemerons, which cost a revalidated hit 18% of its instructions on Node 24.
   */
  readonly key: symbol;
}

const layers = new WeakMap<object, CaptureLayer>();

/**
 * The capture layer of responses whose prototype is `base` (made once per prototype). A
 * framework's own response prototype (Express's `app.response`, which defines none of the three
 * methods) gets them itself, calling through for responses not captured; Node's own prototypes
 * get a prototype laid over them, set on each captured response. Why not the three methods set
 * on each response: V8 then copies the object's map and descriptors for each property added
 * (about 1.5 KB each); and why not a layer over Express's prototype too: setting a response's
 * prototype (Express already set it once) costs about as much again.
 */
function layerOver(base: object): CaptureLayer {
  const known = layers.get(base);
  if (known !== undefined) return known;
  const key = Symbol('larder.capture');
  const inPlace = !WRAPPED.some((name) => Object.hasOwn(base, name));
  const proto = (inPlace ? base : Object.create(base)) as Record<Wrapped, Method>;
  for (const name of WRAPPED) {
    // The method below is looked up at each call: a prototype patched or re-parented later (an APM
    // agent, Express mounting a sub-app) is honoured.
    // `arguments`, not a rest parameter: a response not captured (every hit, every other route)
    // passes its call through with no array made for it.
    proto[name] = function (this: ServerResponse) {
      const method = (Object.getPrototypeOf(proto) as Record<Wrapped, Method>)[name];
      const capture = (this as unknown as Record<symbol, ResponseCapture | undefined>)[key];
      // biome-ignore lint/complexity/noArguments: the call's own arguments, passed on as they came (see above).
      if (capture === undefined) return method.apply(this, arguments as unknown as unknown[]);
      // biome-ignore lint/complexity/noArguments: a captured call's arguments, as the capture takes them.
      return capture[name](method, this, Array.prototype.slice.call(arguments));
    };
  }
  const layer = { proto, key };
  layers.set(base, layer);
  return layer;
}

/** The capture's methods set on `res` itself: a middleware before this one set its own (`compression`), which a prototype would not reach. */
function wrapOwn(res: ServerResponse, capture: ResponseCapture): void {
  const own = res as unknown as Record<Wrapped, Method>;
  for (const name of WRAPPED) {
    const base = own[name];
    own[name] = function (this: ServerResponse, ...args: unknown[]) {
      return capture[name](base, this, args);
    };
  }
}

/** Adds the headers given to `writeHead` (an object, a flat `[name, value, ...]` list or pairs). */
function mergeGiven(headers: OutgoingHttpHeaders, given: unknown): void {
  if (given === undefined) return;
  if (Array.isArray(given)) {
    const pairs: unknown[][] = Array.isArray(given[0])
      ? (given as unknown[][])
      : Array.from({ length: given.length >> 1 }, (_, i) => [given[2 * i], given[2 * i + 1]]);
    for (const [name, value] of pairs) headers[String(name).toLowerCase()] = value as string;
    return;
  }
  for (const [name, value] of Object.entries(given as Record<string, unknown>)) {
    if (value !== undefined) headers[name.toLowerCase()] = value as string;
  }
}
