/**
 * Reused option objects for lru-cache: its `get(k, options = {})` and `set(k, v, options = {})`
 * otherwise allocate an object per call, a measurable share of an in-process hit. lru-cache writes
 * `status` into them (only used by its diagnostics channel), so it is reset before each call.
 */
export const GET_OPTIONS: { status?: undefined } = {};
export const PEEK_OPTIONS = {};
const SET_OPTIONS: { size: number; status?: undefined } = { size: 0 };

/** The set options for an entry of `size`. */
export function sized(size: number): typeof SET_OPTIONS {
  SET_OPTIONS.size = size;
  SET_OPTIONS.status = undefined;
  return SET_OPTIONS;
}
