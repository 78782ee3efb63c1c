import { connect, type Socket } from 'node:net';
import type { ProbeTarget } from './connect';

/** One command the server ran, as MONITOR reports it. */
export interface MonitoredCommand {
  /** The command and its arguments, unescaped (`['set', 'k', 'v']`: the name as the client sent it). */
  args: string[];
  /** Who ran it: `127.0.0.1:port` for a client, `lua` for a script's own commands. */
  source: string;
}

/** A MONITOR connection; `close()` ends it. */
export interface RedisMonitor {
  /** Every command seen since the monitor started, in the server's order. */
  readonly seen: MonitoredCommand[];
  close(): void;
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b', '"': '"', '\\': '\\' };

/** Splits MONITOR's `"set" "k" "v\"x"` into its unescaped arguments (Redis's sdscatrepr quoting). */
export function parseMonitorArgs(text: string): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] !== '"') {
      i++;
      continue;
    }
    let arg = '';
    for (i++; i < text.length && text[i] !== '"'; i++) {
      if (text[i] !== '\\') {
        arg += text[i];
      } else if (text[i + 1] === 'x') {
        arg += String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 4), 16));
        i += 3;
      } else {
        arg += ESCAPES[text[i + 1]!] ?? text[i + 1];
        i++;
      }
    }
    args.push(arg);
    i++;
  }
  return args;
}

/** Parses one MONITOR line: `1700000000.123456 [0 127.0.0.1:5000] "get" "k"`. */
function parseLine(line: string): MonitoredCommand | undefined {
  const open = line.indexOf('[');
  const close = line.indexOf(']', open);
  if (open < 0 || close < 0) return undefined;
  const [, source = ''] = line.slice(open + 1, close).split(' ');
  return { args: parseMonitorArgs(line.slice(close + 1)), source };
}

/**
 * Starts MONITOR on its own connection and resolves once the server has confirmed it. Reads the
 * feed itself (each line a RESP simple string): ioredis's `monitor()` can fail with "Command
 * queue state error" when the feed's first lines arrive in the same packet as MONITOR's `+OK`.
 */
export function watchRedis(target: ProbeTarget): Promise<RedisMonitor> {
  return new Promise((resolve, reject) => {
    const seen: MonitoredCommand[] = [];
    let pending = '';
    let confirmed = false;
    const socket: Socket = connect({ host: target.host, port: target.port }, () => socket.write('MONITOR\r\n'));
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      pending += chunk;
      let end = pending.indexOf('\r\n');
      while (end >= 0) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 2);
        end = pending.indexOf('\r\n');
        if (!confirmed) {
          if (line !== '+OK') return reject(new Error(`MONITOR answered ${line}`));
          confirmed = true;
          resolve({ seen, close: () => socket.destroy() });
          continue;
        }
        const command = line.startsWith('+') ? parseLine(line.slice(1)) : undefined;
        if (command) seen.push(command);
      }
    });
    socket.on('error', (error) => (confirmed ? undefined : reject(error)));
  });
}
