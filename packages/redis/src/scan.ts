import type { Redis } from 'ioredis';

const SCAN_COUNT = 1000;

/** `SCAN MATCH` pattern for keys starting with `prefix` (glob characters escaped). */
export function scanPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
}

/** Every key under `prefix` on `nodes` (SCAN MATCH), each once; a failed SCAN goes to `fail`. */
export async function* scanKeys(
  nodes: Redis[],
  prefix: string,
  fail: (error: unknown) => never,
): AsyncIterable<string> {
  const seen = new Set<string>();
  for (const node of nodes) {
    let cursor = '0';
    do {
      let reply: [string, string[]];
      try {
        reply = await node.scan(cursor, 'MATCH', scanPattern(prefix), 'COUNT', SCAN_COUNT);
      } catch (error) {
        fail(error);
      }
      cursor = reply[0];
      for (const key of reply[1]) {
        if (seen.has(key)) continue;
        seen.add(key);
        yield key;
      }
    } while (cursor !== '0');
  }
}

/** SCAN each of `nodes` under `prefix` and hand every batch of keys found to `unlink`, one batch at a time. */
export async function unlinkPrefix(
  nodes: Redis[],
  prefix: string,
  unlink: (keys: string[]) => Promise<unknown>,
): Promise<void> {
  const pattern = scanPattern(prefix);
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
      cursor = next;
      if (keys.length > 0) await unlink(keys);
    } while (cursor !== '0');
  }
}
