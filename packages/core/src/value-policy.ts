import {
  ConfigError,
  DriverNotFoundError,
  InvalidKeyError,
  InvalidTtlError,
  type LarderError,
  SerializationError,
  UnsupportedOperationError,
  ValueTooLargeError,
} from './errors';

/**
 * Errors caused by the caller's input or set-up. They reject whatever `onError` says: failing
 * open on them would hide bugs, and nothing was sent to the backend.
 */
export function isInputError(error: LarderError): boolean {
  return (
    error instanceof InvalidKeyError ||
    error instanceof InvalidTtlError ||
    error instanceof SerializationError ||
    error instanceof ValueTooLargeError ||
    error instanceof UnsupportedOperationError ||
    error instanceof ConfigError ||
    error instanceof DriverNotFoundError ||
    error.code === 'E_INVALID_ARGUMENT'
  );
}

/**
 * For stores that keep values as given (`capabilities.rawValues`): rejects what the JSON codec
 * would reject — `undefined`, functions, symbols, non-finite numbers at the top, and functions,
 * symbols or cycles anywhere inside — so every driver accepts the same values.
 */
export function checkRawValue(value: unknown, key: string): void {
  const type = typeof value;
  if (type === 'string' || type === 'boolean' || type === 'bigint' || value === null) return;
  if (type === 'number') {
    if (!Number.isFinite(value)) throw new SerializationError(`Cannot cache ${value} under key '${key}'`, key);
    return;
  }
  if (type === 'object') {
    walk(value as object, key, '', []);
    return;
  }
  throw new SerializationError(
    `Cannot cache a value of type ${value === undefined ? 'undefined' : type} under key '${key}'`,
    key,
  );
}

function walk(value: object, key: string, path: string, ancestors: object[]): void {
  if (value instanceof Date || ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof RegExp) {
    return;
  }
  if (ancestors.includes(value)) {
    throw new SerializationError(`Cannot cache a circular structure${at(path)} under key '${key}'`, key);
  }
  ancestors.push(value);
  if (value instanceof Map) {
    for (const [k, v] of value) {
      child(k, key, `${path}<key>`, ancestors);
      child(v, key, `${path}.${String(k)}`, ancestors);
    }
  } else if (value instanceof Set) {
    for (const v of value) child(v, key, `${path}[]`, ancestors);
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) child(value[i], key, `${path}[${i}]`, ancestors);
  } else {
    for (const name of Object.keys(value))
      child((value as Record<string, unknown>)[name], key, `${path}.${name}`, ancestors);
  }
  ancestors.pop();
}

function child(value: unknown, key: string, path: string, ancestors: object[]): void {
  const type = typeof value;
  if (type === 'function' || type === 'symbol') {
    throw new SerializationError(`Cannot cache a value of type ${type}${at(path)} under key '${key}'`, key);
  }
  if (type === 'object' && value !== null) walk(value as object, key, path, ancestors);
}

function at(path: string): string {
  return path ? ` at '${path.replace(/^\./, '')}'` : '';
}
