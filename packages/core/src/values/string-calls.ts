// Once any class in the process extends String (ioredis's `VerbatimString` does: every app on
// Redis has one), V8 compiled the reads of a string's `charCodeAt`, `indexOf`, `slice`, `includes`
// and `isWellFormed` on the read path (`entry-format.ts`, the JSON codec's `decode`, `getMany`,
// the key check) as generic property loads, five per payload decoded (`--print-opt-code`). Called
// through String.prototype's own functions they stay direct calls. A one-character test reads the
// element (`charIs`): no method at all, compiled inline.

// Node >= 20 has `isWellFormed` (ES2024); the TypeScript lib targeted here does not declare it yet.
const { charCodeAt, includes, indexOf, slice, isWellFormed } = String.prototype as typeof String.prototype & {
  isWellFormed(): boolean;
};

/** Whether `text` holds the one-character string `char` at `at` (false past the end). */
export const charIs = (text: string, at: number, char: string): boolean => text[at] === char;
/** `text.charCodeAt(at)`. */
export const codeAt = (text: string, at: number): number => charCodeAt.call(text, at);
/** `text.indexOf(what, from)`. */
export const find = (text: string, what: string, from: number): number => indexOf.call(text, what, from);
/** `text.slice(from, to)`. */
export const cut = (text: string, from: number, to?: number): string => slice.call(text, from, to);
/** `text.includes(what)`. */
export const holds = (text: string, what: string): boolean => includes.call(text, what);
/** `text.isWellFormed()`: no lone surrogate. */
export const wellFormed = (text: string): boolean => isWellFormed.call(text);
