import { describe, expect, it } from 'vitest';
import { explainRedisError, isConnectionLost, type RedisTarget } from '../src/explain';

const target: RedisTarget = { what: 'Redis at 10.0.0.5:6379', variable: 'REDIS_URL' };
const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });
const socket = (code: string, extra: object = {}) => Object.assign(new Error(`connect ${code}`), { code, ...extra });

// The words an operator sees for each failure (pure: the server tests are in the CLI and the example).
describe('explainRedisError', () => {
  it('names the reply and what to check, never repeating a secret', () => {
    expect(explainRedisError(reply('WRONGPASS invalid username-password pair'), target)).toBe(
      'Redis at 10.0.0.5:6379 refused the user name or password (WRONGPASS): check the user and password in REDIS_URL',
    );
    expect(explainRedisError(reply('NOAUTH Authentication required.'), target)).toContain(
      'requires a password and none was given (NOAUTH)',
    );
    expect(explainRedisError(reply('NOPERM this user has no permissions to run the get command'), target)).toContain(
      "check the user's ACL",
    );
    expect(explainRedisError(reply('LOADING Redis is loading the dataset in memory'), target)).toContain('LOADING');
  });

  it('names socket failures with the address and the variable', () => {
    expect(explainRedisError(socket('ECONNREFUSED', { address: '127.0.0.1', port: 7 }), target)).toBe(
      'nothing is listening at 127.0.0.1:7 (connection refused): is Redis running there? Check the host and port in REDIS_URL',
    );
    expect(
      explainRedisError(socket('ENOTFOUND', { hostname: 'cache.internal' }), {
        what: 'the Redis Cluster',
        variable: 'REDIS_CLUSTER_NODES',
      }),
    ).toBe("the host 'cache.internal' was not found (DNS ENOTFOUND): check the host name in REDIS_CLUSTER_NODES");
    expect(explainRedisError(socket('SELF_SIGNED_CERT_IN_CHAIN'), target)).toContain('REDIS_TLS_CA_FILE');
    expect(explainRedisError(new Error('ERR unknown command'), target)).toBeUndefined();
  });

  it("knows ioredis' words for a command failed by a connection that is down", () => {
    expect(
      isConnectionLost(
        new Error(
          'Reached the max retries per request limit (which is 0). Refer to "maxRetriesPerRequest" option for details.',
        ),
      ),
    ).toBe(true);
    expect(isConnectionLost(new Error('Connection is closed.'))).toBe(true);
    expect(isConnectionLost(reply('WRONGPASS x'))).toBe(false);
  });
});
