import type { Redis } from 'ioredis';

const SCAN_COUNT = 1000;

/** `SCAN MATCH` pattern for keys starting with `prefix` (glob characters escaped). */
export function scanPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
}

/** Each batch of keys one SCAN MATCH call finds under `prefix`, node after node (a key can repeat). */
async function* scanBatches(nodes: Redis[], prefix: string): AsyncIterable<string[]> {
  const pattern = scanPattern(prefix);
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
}

/** Every key under `prefix` on `nodes` (SCAN MATCH), each once; a failed SCAN goes to `fail`. */
export async function* scanKeys(
  nodes: Redis[],
  prefix: string,
  fail: (error: unknown) => never,
): AsyncIterable<string> {
  const seen = new Set<string>();
  const batches = scanBatches(nodes, prefix)[Symbol.asyncIterator]();
  try {
    for (;;) {
      let batch: IteratorResult<string[]>;
      try {
        batch = await batches.next();
      } catch (error) {
        fail(error);
      }
      if (batch.done) return;
      for (const key of batch.value) {
        if (seen.has(key)) continue;
        seen.add(key);
        yield key;
      }
    }
  } finally {
    // The caller may stop early: end the scan too.
    await batches.return?.();
  }
}

/** SCAN each of `nodes` under `prefix` and hand every batch of keys found to `unlink`, one batch at a time. */
export async function unlinkPrefix(
  nodes: Redis[],
  prefix: string,
  unlink: (keys: string[]) => Promise<unknown>,
): Promise<void> {
  for await (const keys of scanBatches(nodes, prefix)) await unlink(keys);
}
