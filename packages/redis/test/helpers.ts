/** Test helpers: per-command call counts from `INFO commandstats`. */

interface Node {
  command(...args: (string | number)[]): Promise<unknown>;
}

/** Calls of each command on a server, from INFO commandstats. */
export async function commandStats(node: Node): Promise<Record<string, number>> {
  const text = String(await node.command('INFO', 'commandstats'));
  const stats: Record<string, number> = {};
  for (const match of text.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)) stats[match[1]!] = Number(match[2]);
  return stats;
}

/** Reads (GET + MGET) a server has executed. */
export async function readCalls(node: Node): Promise<number> {
  const stats = await commandStats(node);
  return (stats.get ?? 0) + (stats.mget ?? 0);
}

/** Decodes a payload to text. */
export function text(payload: unknown): string | undefined {
  if (payload === undefined) return undefined;
  return typeof payload === 'string' ? payload : Buffer.from(payload as Uint8Array).toString();
}
