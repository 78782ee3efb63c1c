import { exchange } from '../src/connect';

/** Sends raw bytes to host:port and resolves with everything received once `done` matches (text, latin1). */
export function rawExchange(port: number, request: string, done: RegExp, host = '127.0.0.1'): Promise<string> {
  return exchange({ host, port, timeoutMs: 3000 }, request, (buf) => {
    const text = buf.toString('latin1');
    return done.test(text) ? text : undefined;
  });
}
