import { type RedisServer, startRedis } from '@larder/dev-services';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendText } from '../src/ioredis-internals';
import { evalScript, script } from '../src/scripts';

// `sendText` builds an ioredis command whose arguments are set after it is built (no copy); a
// client that prefixes keys or keeps error stacks gets ioredis' own command instead.
const ECHO_KEYS = script(`return table.concat(KEYS, ',') .. '|' .. table.concat(ARGV, ',')`);

describe('sendText: a command of text arguments, not copied by ioredis', () => {
  let server: RedisServer;
  const clients: Redis[] = [];
  const client = (options: RedisOptions = {}) => {
    const c = new Redis({ host: server.host, port: server.port, ...options });
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.quit()));
    await server?.stop();
  });

  it('sends every argument, in order, and answers the reply as text', async () => {
    const c = client();
    const values = Array.from({ length: 500 }, (_, i) => `v${i}`);
    await sendText(c, 'rpush', ['st:list', ...values]);
    expect(await c.lrange('st:list', 0, -1)).toEqual(values);
    expect(await sendText(c, 'lindex', ['st:list', '499'])).toBe('v499');
  });

  it('runs a script by its SHA, loading it with EVAL the first time (NOSCRIPT)', async () => {
    const c = client();
    await c.script('FLUSH');
    expect(await evalScript(c, ECHO_KEYS, 2, ['a', 'b', 'x', 'y'])).toBe('a,b|x,y');
    expect(await c.script('EXISTS', ECHO_KEYS.sha)).toEqual([1]);
    expect(await evalScript(c, ECHO_KEYS, 1, ['a', 'x'])).toBe('a|x');
  });

  it("writes numbers as text and Buffers as bytes (those through ioredis' own evalsha)", async () => {
    const c = client();
    expect(await evalScript(c, ECHO_KEYS, 1, ['k', 7, 'x'])).toBe('k|7,x');
    expect(await evalScript(c, ECHO_KEYS, 1, ['k', Buffer.from([0xc3, 0xa9]), 2])).toBe('k|é,2');
  });

  it("leaves a client with a keyPrefix to ioredis' own command, which prefixes the keys", async () => {
    const c = client({ keyPrefix: 'p:' });
    expect(await evalScript(c, ECHO_KEYS, 1, ['k', 'arg'])).toBe('p:k|arg');
  });

  it('rejects with the server error', async () => {
    const c = client();
    await expect(sendText(c, 'incr', ['st:list'])).rejects.toThrow(/WRONGTYPE/);
    const friendly = client({ showFriendlyErrorStack: true });
    await expect(sendText(friendly, 'incr', ['st:list'])).rejects.toThrow(/WRONGTYPE/);
  });
});
