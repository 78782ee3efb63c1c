import { randomBytes } from 'node:crypto';
import type { BodyRef, StoredResponse } from './entry';

/**
 * A stored head: everything of a response but its body, which it names (`id`). JSON, as core
 * keeps any value with a tag section (every head is written through its resource's scope), and
 * shaped for the parse every hit pays (a head read again answers from the memo, heads.ts): its
 * numbers packed in one string (V8 parses a long number in JSON several times slower than the
 * string's digits), its headers as one text.
 */
export interface StoredHead {
  t: 'h';
  /** Unique to this head's write (this process's id and a count): an equal `n` is an equal head. */
  n: string;
  /** `status,storedAt,expiresAt,age,shared (0|1),body until` (the epoch ms the store keeps the body to). */
  m: string;
  /** The generation mark (`gen`). */
  g: string;
  /** Its body's id. */
  id: string;
  /** Replayable headers (lower-case names) as `name\nvalue\n...`, a name once for each of its values. */
  x?: string;
  /** The headers as an object instead: on an in-process store, or when a name or value holds a line break (never through Node's or `Headers`' own checks). */
  h?: Record<string, string | string[]>;
  /**
   * The body's bytes, on an in-process store that copies what it keeps only (store.ts
   * `#oneValue`): the response is then one value, which a hit reads once. Bytes, not text: a
   * store holding many responses keeps them off the JavaScript heap, where the collector would
   * move them. Elsewhere the body is a value of its own.
   */
  b?: Uint8Array;
  tags?: string[];
}

/** This process's part of every head's `n`: random, so that two processes never write the same `n`. */
const WRITER = randomBytes(9).toString('base64url');
let written = 0;
const NO_BODY = Buffer.alloc(0);

/**
 * The head of a stored response (everything but its body) naming the body `ref`, with the layout
 * mark `gen`. `inProcess`: for a store that keeps values as given (no JSON), its headers as an
 * object, which a hit then uses as it is (the text is for JSON: one string parses faster than an
 * object of them, but splitting it builds an object per hit). `withBody`: the body inside it (`b`).
 */
export function encodeHead(
  entry: Omit<StoredResponse, 'body' | 'gen'> & { body?: Buffer },
  ref: BodyRef,
  gen: string,
  inProcess = false,
  withBody = false,
): StoredHead {
  const numbers = [entry.status, entry.storedAt, entry.expiresAt, entry.age, entry.shared ? 1 : 0, ref.until];
  const head: StoredHead = {
    t: 'h',
    n: `${WRITER}.${(++written).toString(36)}`,
    m: numbers.join(','),
    g: gen,
    id: ref.id,
  };
  const text = inProcess ? undefined : flatText(entry.headers);
  if (text === undefined) head.h = entry.headers;
  else head.x = text;
  if (withBody && entry.body !== undefined) head.b = entry.body;
  if (entry.tags !== undefined) head.tags = entry.tags;
  return head;
}

/** Whether a stored head carries its body (`b`): it is then a whole response, with no body value to read. */
export function carriesBody(value: unknown): boolean {
  return (value as StoredHead | undefined)?.b instanceof Uint8Array;
}

/**
 * A head's stored response: with the body it carries (`b`), else without it (`bodyRef` names the
 * body's own value); `undefined` for anything but a head.
 */
export function decodeHead(value: unknown): StoredResponse | undefined {
  const head = value as StoredHead;
  if (typeof head !== 'object' || head === null || head.t !== 'h' || typeof head.n !== 'string') return undefined;
  if (typeof head.g !== 'string' || typeof head.id !== 'string' || typeof head.m !== 'string') return undefined;
  if (head.tags !== undefined && !strings(head.tags)) return undefined;
  if (head.b !== undefined && !(head.b instanceof Uint8Array)) return undefined;
  // Text or an object, never both.
  if (head.x !== undefined && head.h !== undefined) return undefined;
  const headers = typeof head.x === 'string' ? headersOf(head.x) : checkedHeaders(head.h);
  const numbers = numbersOf(head.m);
  const [status, storedAt, expiresAt, age, shared, until] = numbers as number[];
  const valid =
    numbers.length === 6 &&
    numbers.every(Number.isFinite) &&
    Number.isInteger(status) &&
    (status as number) >= 100 &&
    (status as number) <= 999 &&
    Number.isInteger(age) &&
    (age as number) >= 0 &&
    (shared === 0 || shared === 1);
  if (headers === undefined || !valid) return undefined;
  const body = asBuffer(head.b) ?? NO_BODY;
  const entry: StoredResponse = {
    status: status as number,
    headers,
    body,
    length: body.length,
    storedAt: storedAt as number,
    expiresAt: expiresAt as number,
    age: age as number,
    shared: shared === 1,
    gen: head.g,
    bodyRef: { id: head.id, until: until as number },
  };
  if (head.tags !== undefined) entry.tags = head.tags;
  return entry;
}

const COMMA = 44;
const ZERO = 48;
/** Digits of an integer below 2^53: a longer run may not be exact, and is left to `Number`. */
const MAX_DIGITS = 15;

/**
 * The comma-separated numbers of a head's `m`, read digit by digit when each is a plain integer
 * (every hit decodes one: no substrings, no `Number` calls); `Number` of each part otherwise (a
 * fraction, a sign, anything else, read as `split(',').map(Number)` would).
 */
function numbersOf(text: string): number[] {
  const numbers: number[] = [];
  let value = 0;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === COMMA && digits > 0) {
      numbers.push(value);
      value = 0;
      digits = 0;
      continue;
    }
    const digit = code - ZERO;
    if (digit < 0 || digit > 9 || digits === MAX_DIGITS) return text.split(',').map(Number);
    value = value * 10 + digit;
    digits++;
  }
  if (digits === 0) return text.split(',').map(Number);
  numbers.push(value);
  return numbers;
}

function strings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((one) => typeof one === 'string');
}

/** The headers as `name\nvalue\n...`, or `undefined` when a name or value holds a line break. */
function flatText(headers: Record<string, string | string[]>): string | undefined {
  let text = '';
  for (const name in headers) {
    const value = headers[name] as string | string[];
    if (name.includes('\n')) return undefined;
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one.includes('\n')) return undefined;
      text += text === '' ? `${name}\n${one}` : `\n${name}\n${one}`;
    }
  }
  return text;
}

/** The headers `flatText` wrote; `undefined` for an odd split. */
function headersOf(text: string): Record<string, string | string[]> | undefined {
  const headers: Record<string, string | string[]> = {};
  if (text === '') return headers;
  const parts = text.split('\n');
  if (parts.length % 2 !== 0) return undefined;
  for (let i = 0; i < parts.length; i += 2) {
    const name = parts[i] as string;
    const value = parts[i + 1] as string;
    const before = headers[name];
    if (before === undefined) headers[name] = value;
    else if (Array.isArray(before)) before.push(value);
    else headers[name] = [before, value];
  }
  return headers;
}

/** Headers stored as an object: string or list-of-strings values (what `writeHead` takes), else `undefined`. */
function checkedHeaders(headers: unknown): Record<string, string | string[]> | undefined {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return undefined;
  for (const name in headers) {
    const value = (headers as Record<string, unknown>)[name];
    if (typeof value !== 'string' && !strings(value)) return undefined;
  }
  return headers as Record<string, string | string[]>;
}

/** `value` as a Buffer over the same memory when it is bytes (no bytes are copied), else `undefined`. */
export function asBuffer(value: unknown): Buffer | undefined {
  if (!(value instanceof Uint8Array)) return undefined;
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
