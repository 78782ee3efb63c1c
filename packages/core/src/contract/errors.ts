/**
 * The brand of every larder error: a registered symbol, so it is the same in every copy of core
 * (two installs, a bundle, another realm), where `instanceof` against one copy's classes fails.
 */
const LARDER_ERROR = Symbol.for('larder.error');

/** Every error larder throws carries a stable `code`, the brand (see `isLarderError`) and, where there is one, the `cause`. */
export class LarderError extends Error {
  /** Stable machine-readable code, e.g. `E_INVALID_KEY`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
// On the prototype: inherited by every subclass (in drivers too), and not printed by util.inspect.
Object.defineProperty(LarderError.prototype, LARDER_ERROR, { value: true });

/** The class of each code core's own errors use (drivers and integrations add codes of their own). */
export interface LarderErrorCodes {
  E_INVALID_KEY: InvalidKeyError;
  E_INVALID_TTL: InvalidTtlError;
  E_SERIALIZATION: SerializationError;
  E_VALUE_TOO_LARGE: ValueTooLargeError;
  E_INVALID_ARGUMENT: InvalidArgumentError;
  E_INVALID_TAG: InvalidTagError;
  E_UNSUPPORTED_OPERATION: UnsupportedOperationError;
  E_DRIVER_NOT_FOUND: DriverNotFoundError;
  E_CONFIG: ConfigError;
  E_BACKEND: BackendError;
  E_TIMEOUT: TimeoutError;
  E_LOCK_TIMEOUT: LockTimeoutError;
  E_LOADER_TIMEOUT: LoaderTimeoutError;
  E_VALUE_STEP_MISSING: MissingValueStepError;
  E_DECRYPTION: DecryptionError;
  E_CHUNKED_VALUE: ChunkedValueError;
  E_LOADER_BACKOFF: LoaderBackoffError;
}

/**
 * True for an error larder threw, whichever copy of larder threw it: checks the registered brand
 * (`Symbol.for('larder.error')`) and the `code`, never `instanceof`. With `code` (one or a list),
 * also checks the code: `isLarderError(err, 'E_SERIALIZATION')`.
 */
export function isLarderError<C extends keyof LarderErrorCodes>(error: unknown, code: C): error is LarderErrorCodes[C];
export function isLarderError(error: unknown, code?: string | readonly string[]): error is LarderError;
export function isLarderError(error: unknown, code?: string | readonly string[]): error is LarderError {
  if (typeof error !== 'object' || error === null) return false;
  const branded = error as { [LARDER_ERROR]?: unknown; code?: unknown };
  if (branded[LARDER_ERROR] !== true || typeof branded.code !== 'string') return false;
  if (code === undefined) return true;
  return typeof code === 'string' ? branded.code === code : code.includes(branded.code);
}

/** The key is empty, not a string, or too long for the backend. */
export class InvalidKeyError extends LarderError {
  constructor(
    message: string,
    readonly key: unknown,
  ) {
    super('E_INVALID_KEY', message);
  }
}

/** The TTL is not a positive finite number of ms nor a duration string like `10m`. */
export class InvalidTtlError extends LarderError {
  constructor(readonly ttl: unknown) {
    super(
      'E_INVALID_TTL',
      `Invalid TTL ${describe(ttl)}: use a positive number of milliseconds or a duration like '500ms', '30s', '10m', '2h', '1d'`,
    );
  }
}

/** The value cannot be encoded (undefined, function, symbol, circular...) or a payload cannot be decoded. */
export class SerializationError extends LarderError {
  constructor(
    message: string,
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super('E_SERIALIZATION', message, options);
  }
}

/** The encoded value is larger than the backend accepts; nothing was sent. */
export class ValueTooLargeError extends LarderError {
  constructor(
    readonly key: string,
    readonly size: number,
    readonly limit: number,
    driver: string,
  ) {
    super(
      'E_VALUE_TOO_LARGE',
      `Value for key '${key}' is ${size} bytes; the ${driver} driver accepts at most ${limit}`,
    );
  }
}

/** An argument other than a key, TTL or value is invalid (e.g. a non-integer `increment` step, a `remember` loader that is not a function). */
export class InvalidArgumentError extends LarderError {
  constructor(
    message: string,
    readonly argument: string,
  ) {
    super('E_INVALID_ARGUMENT', message);
  }
}

/** A tag is not a non-empty string of at most 256 characters without control characters, or an entry has more than 64 tags. */
export class InvalidTagError extends LarderError {
  constructor(
    message: string,
    readonly tag: unknown,
  ) {
    super('E_INVALID_TAG', message);
  }
}

/** The driver cannot do this operation safely. */
export class UnsupportedOperationError extends LarderError {
  constructor(
    readonly operation: string,
    readonly driver: string,
    reason?: string,
  ) {
    super(
      'E_UNSUPPORTED_OPERATION',
      `The ${driver} driver does not support ${operation}${reason ? `: ${reason}` : ''}`,
    );
  }
}

/**
 * No driver is registered (or installed) under this name. `packageName` is what to install (the
 * driver package, or a dependency of it); `detail` says what was searched and where.
 */
export class DriverNotFoundError extends LarderError {
  constructor(
    readonly driver: string,
    readonly registered: readonly string[],
    readonly packageName?: string,
    options?: { cause?: unknown; detail?: string },
  ) {
    const why = options?.detail
      ? ` ${options.detail}`
      : packageName
        ? ` Install it with: npm install ${packageName}`
        : '';
    super(
      'E_DRIVER_NOT_FOUND',
      `Driver '${driver}' is not available.${why} Registered drivers: ${registered.join(', ') || '(none)'}`,
      options,
    );
  }
}

/** Configuration is invalid; `variable` names the setting or environment variable. */
export class ConfigError extends LarderError {
  constructor(
    message: string,
    readonly variable?: string,
  ) {
    super('E_CONFIG', message);
  }
}

/** The backend failed; `cause` is the client's error. */
export class BackendError extends LarderError {
  constructor(
    message: string,
    readonly driver: string,
    options?: { cause?: unknown; code?: string },
  ) {
    super(options?.code ?? 'E_BACKEND', message, options);
  }
}

/** A backend call did not answer within the store's timeout. */
export class TimeoutError extends BackendError {
  constructor(
    readonly operation: string,
    driver: string,
    readonly timeoutMs: number,
  ) {
    super(`${driver} ${operation} timed out after ${timeoutMs}ms`, driver, { code: 'E_TIMEOUT' });
  }
}

/** A lock could not be acquired in time. */
export class LockTimeoutError extends LarderError {
  constructor(readonly key: string) {
    super('E_LOCK_TIMEOUT', `Could not acquire lock '${key}' in time`);
  }
}

/** A `remember` loader ran past its hard timeout (`timeout.hard`): its signal was aborted and its key's flight released. */
export class LoaderTimeoutError extends LarderError {
  constructor(
    readonly key: string,
    readonly timeoutMs: number,
  ) {
    super('E_LOADER_TIMEOUT', `The loader of '${key}' did not settle within ${timeoutMs}ms`);
  }
}

/** A stored entry needs a step of the value pipeline this reader lacks (a decryption key id, a compression algorithm, a codec); `step` names it. */
export class MissingValueStepError extends LarderError {
  constructor(
    readonly key: string,
    readonly step: 'compress' | 'encrypt' | 'codec' | 'chunk',
    readonly detail: string,
  ) {
    super('E_VALUE_STEP_MISSING', `The entry of key '${key}' cannot be read: ${detail}`);
  }
}

/** An encrypted entry failed authentication: altered bytes, or a ciphertext moved to another key. Never garbage. */
export class DecryptionError extends LarderError {
  constructor(
    readonly key: string,
    readonly keyId: string,
    options?: { cause?: unknown },
  ) {
    super(
      'E_DECRYPTION',
      `The entry of key '${key}' does not decrypt with key id '${keyId}' (altered, or written under another key)`,
      options,
    );
  }
}

/** A `remember` loader failed lately and its key is backing off (`failure`): no run until `retryAt`, and no stale value to serve; `cause` is the last failure when this process saw it. */
export class LoaderBackoffError extends LarderError {
  constructor(
    readonly key: string,
    /** When the next run may start, epoch ms. */
    readonly retryAt: number,
    failure: string,
    options?: { cause?: unknown },
  ) {
    super(
      'E_LOADER_BACKOFF',
      `The loader of '${key}' failed (${failure}); backing off until ${new Date(retryAt).toISOString()}`,
      options,
    );
  }
}

/** `increment` met a value stored in chunks (above the backend's item limit): the backend's counter cannot apply, and it is not emulated. */
export class ChunkedValueError extends LarderError {
  constructor(
    readonly key: string,
    readonly operation: string,
  ) {
    super(
      'E_CHUNKED_VALUE',
      `${operation} cannot act on key '${key}': its value is stored in chunks (above the backend's item limit)`,
    );
  }
}

/** Short, safe description of a value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 60 ? `${value.slice(0, 60)}...` : value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  return typeof value;
}
