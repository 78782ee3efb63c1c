import { exchange, type ProbeTarget } from './connect';

/** A decoded RESP2 reply (errors are returned as RedisReplyError values, not thrown). */
export type RespValue = string | number | null | RespValue[] | RedisReplyError;

/** An `-ERR ...` reply. */
export class RedisReplyError extends Error {
  override readonly name = 'RedisReplyError';
}

/** Credentials for AUTH before the commands. */
export interface RedisProbeTarget extends ProbeTarget {
  /** ACL user for AUTH. */
  username?: string;
  /** Password for AUTH. */
  password?: string;
}

function encode(args: readonly (string | number)[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) {
    const text = String(arg);
    out += `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
  }
  return out;
}

/** Parses one RESP2 value at `offset`; undefined when more bytes are needed. */
export function parseResp(buf: Buffer, offset = 0): { value: RespValue; next: number } | undefined {
  const lineEnd = buf.indexOf('\r\n', offset);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buf[offset]!);
  const line = buf.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, next };
    case '-':
      return { value: new RedisReplyError(line), next };
    case ':':
      return { value: Number(line), next };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, next };
      if (buf.length < next + len + 2) return undefined;
      return { value: buf.toString('utf8', next, next + len), next: next + len + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, next };
      const items: RespValue[] = [];
      let pos = next;
      for (let i = 0; i < count; i++) {
        const item = parseResp(buf, pos);
        if (!item) return undefined;
        items.push(item.value);
        pos = item.next;
      }
      return { value: items, next: pos };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

/**
 * Runs commands on one fresh connection (AUTH first when credentials are given) and returns every reply in order.
 * A tiny dependency-free client for readiness probes and test helpers; not for application traffic.
 */
export async function redisCommands(target: RedisProbeTarget, commands: (string | number)[][]): Promise<RespValue[]> {
  const all = [...commands];
  const auth = target.password !== undefined;
  if (auth) all.unshift(target.username ? ['AUTH', target.username, target.password!] : ['AUTH', target.password!]);
  const replies = await exchange(target, all.map(encode).join(''), (buf) => {
    const values: RespValue[] = [];
    let pos = 0;
    while (values.length < all.length) {
      const parsed = parseResp(buf, pos);
      if (!parsed) return undefined;
      values.push(parsed.value);
      pos = parsed.next;
    }
    return values;
  });
  if (auth) {
    const authReply = replies.shift();
    if (authReply instanceof RedisReplyError) throw authReply;
  }
  return replies;
}

/** Runs one command and returns its reply, throwing on an error reply. */
export async function redisCommand(target: RedisProbeTarget, ...args: (string | number)[]): Promise<RespValue> {
  const [reply] = await redisCommands(target, [args]);
  if (reply instanceof RedisReplyError) throw reply;
  return reply ?? null;
}

/** `INFO <section>` parsed into a key → value map. */
export async function redisInfo(target: RedisProbeTarget, section = 'server'): Promise<Record<string, string>> {
  const text = String(await redisCommand(target, 'INFO', section));
  return parseInfo(text);
}

/** Parses `key:value` lines (INFO, CLUSTER INFO). */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const idx = line.indexOf(':');
    if (idx > 0 && !line.startsWith('#')) out[line.slice(0, idx)] = line.slice(idx + 1);
  }
  return out;
}

/**
 * Calls of each command a Redis server has executed so far, by name (`get`, `evalsha`,
 * `client|tracking`), from `INFO commandstats`; commands run by scripts count too, and so do the
 * `INFO` calls of earlier stats. `node`: a `RedisServer` or `RedisNode` handle, or anything that
 * runs one command the same way.
 */
export async function redisCommandStats(node: {
  command(...args: (string | number)[]): Promise<unknown>;
}): Promise<Record<string, number>> {
  const stats: Record<string, number> = {};
  for (const [key, value] of Object.entries(parseInfo(String(await node.command('INFO', 'commandstats'))))) {
    const calls = /calls=(\d+)/.exec(value);
    if (key.startsWith('cmdstat_') && calls) stats[key.slice('cmdstat_'.length)] = Number(calls[1]);
  }
  return stats;
}
