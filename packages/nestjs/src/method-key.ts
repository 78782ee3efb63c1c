import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '@larder/core';

// Above this many characters the arguments' JSON is replaced by its hash (keys stay short and within every driver's limit).
const MAX_ARGS_CHARS = 160;

/** The default key of a `@Cached` call: `Class.method:` and the arguments' JSON (hashed when long). */
export function methodKey(where: string, args: readonly unknown[]): string {
  let json: string;
  try {
    json = JSON.stringify(args);
  } catch (error) {
    throw new InvalidArgumentError(
      `@Cached on ${where} cannot make a key from its arguments (${(error as Error).message}): give a key option`,
      'key',
    );
  }
  const part = json.length > MAX_ARGS_CHARS ? `#${createHash('sha256').update(json).digest('base64url')}` : json;
  return `${where}:${part}`;
}
