import { exchange, type ProbeTarget } from './connect';

/** Sends `version` + `stats` over the ASCII protocol; returns the version and the STAT map. */
export async function memcachedAsciiStats(
  target: ProbeTarget,
): Promise<{ version: string; stats: Record<string, string> }> {
  const text = await exchange(target, 'version\r\nstats\r\n', (buf) => {
    const s = buf.toString('latin1');
    if (/^(ERROR|CLIENT_ERROR|SERVER_ERROR)/m.test(s))
      throw new Error(`memcached answered ${JSON.stringify(s.slice(0, 80))}`);
    return s.endsWith('END\r\n') ? s : undefined;
  });
  const version = /^VERSION (.*)\r\n/.exec(text)?.[1];
  if (!version) throw new Error(`unexpected answer to version: ${JSON.stringify(text.slice(0, 80))}`);
  const stats: Record<string, string> = {};
  for (const m of text.matchAll(/^STAT (\S+) (.*)\r$/gm)) stats[m[1]!] = m[2]!;
  return { version, stats };
}

/** One binary-protocol response packet. */
export interface BinaryResponse {
  /** Request opcode echoed back. */
  opcode: number;
  /** 0 = success. */
  status: number;
  /** Key (stat name for `stat`). */
  key: string;
  /** Value bytes. */
  value: Buffer;
}

/** Binary-protocol opcodes used by the probes. */
export const OP = { version: 0x0b, stat: 0x10, saslAuth: 0x21 } as const;

/** Encodes a binary-protocol request without extras. */
export function binaryRequest(opcode: number, key = '', value: Buffer | string = ''): Buffer {
  const k = Buffer.from(key);
  const v = Buffer.isBuffer(value) ? value : Buffer.from(value);
  const header = Buffer.alloc(24);
  header[0] = 0x80;
  header[1] = opcode;
  header.writeUInt16BE(k.length, 2);
  header.writeUInt32BE(k.length + v.length, 8);
  return Buffer.concat([header, k, v]);
}

/** Splits complete response packets off a buffer. */
export function parseBinaryResponses(buf: Buffer): { packets: BinaryResponse[]; rest: Buffer } {
  const packets: BinaryResponse[] = [];
  let pos = 0;
  while (buf.length - pos >= 24) {
    if (buf[pos] !== 0x81) throw new Error(`bad binary response magic 0x${buf[pos]!.toString(16)}`);
    const keyLen = buf.readUInt16BE(pos + 2);
    const extrasLen = buf[pos + 4]!;
    const bodyLen = buf.readUInt32BE(pos + 8);
    if (buf.length - pos < 24 + bodyLen) break;
    const body = buf.subarray(pos + 24, pos + 24 + bodyLen);
    packets.push({
      opcode: buf[pos + 1]!,
      status: buf.readUInt16BE(pos + 6),
      key: body.toString('utf8', extrasLen, extrasLen + keyLen),
      value: Buffer.from(body.subarray(extrasLen + keyLen)),
    });
    pos += 24 + bodyLen;
  }
  return { packets, rest: buf.subarray(pos) };
}

/**
 * Binary protocol: SASL PLAIN auth, `version`, then `stat`; throws when auth fails. Returns the version and stats.
 * (With `-S`, memcached speaks only the binary protocol, so the ASCII probe cannot be used.)
 */
export async function memcachedSaslStats(
  target: ProbeTarget,
  username: string,
  password: string,
): Promise<{ version: string; stats: Record<string, string> }> {
  const request = Buffer.concat([
    binaryRequest(OP.saslAuth, 'PLAIN', `\0${username}\0${password}`),
    binaryRequest(OP.version),
    binaryRequest(OP.stat),
  ]);
  const packets = await exchange(target, request, (buf) => {
    const { packets } = parseBinaryResponses(buf);
    const last = packets[packets.length - 1];
    if (packets[0] && packets[0].status !== 0) return packets;
    // The stat answer ends with an empty-key packet.
    return last && last.opcode === OP.stat && last.key === '' ? packets : undefined;
  });
  const auth = packets[0]!;
  if (auth.status !== 0)
    throw new Error(
      `SASL PLAIN auth as '${username}' failed: status 0x${auth.status.toString(16)} ${auth.value.toString()}`,
    );
  const version = packets.find((p) => p.opcode === OP.version)?.value.toString() ?? '';
  const stats: Record<string, string> = {};
  for (const p of packets) if (p.opcode === OP.stat && p.key) stats[p.key] = p.value.toString();
  return { version, stats };
}
