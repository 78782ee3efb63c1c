import net from 'node:net';
import tls from 'node:tls';
import type { NodeAddress } from '../options';
import { type ConfigParseResult, parseCompleteConfigResponse, parseConfigResponse } from './parse-config';

/**
 * Sends one ASCII discovery command (`config get cluster` or `get AmazonElastiCache:cluster`)
 * on a fresh connection and parses the answer; bounded by `timeoutMs`.
 */
export function askEndpoint(
  endpoint: NodeAddress,
  command: string,
  options: { timeoutMs: number; tls?: tls.ConnectionOptions; unref?: boolean },
): Promise<ConfigParseResult> {
  return new Promise((resolve, reject) => {
    const socket = options.tls
      ? tls.connect({ host: endpoint.host, port: endpoint.port, ...options.tls })
      : net.connect(endpoint.port, endpoint.host);
    // Background polls must not keep the process alive; the first one (awaited at start) must.
    if (options.unref) socket.unref();
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (error: Error | undefined, result?: ConfigParseResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(result!);
    };
    const timer = setTimeout(
      () =>
        finish(new Error(`no discovery answer from ${endpoint.host}:${endpoint.port} within ${options.timeoutMs}ms`)),
      options.timeoutMs,
    );
    timer.unref();
    socket.once(options.tls ? 'secureConnect' : 'connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      try {
        const result = parseConfigResponse(received);
        if (result.kind !== 'incomplete') finish(undefined, result);
      } catch (error) {
        finish(error as Error);
      }
    });
    socket.on('error', (error) => finish(error));
    socket.on('close', () => {
      try {
        finish(undefined, parseCompleteConfigResponse(received));
      } catch (error) {
        finish(error as Error);
      }
    });
  });
}
