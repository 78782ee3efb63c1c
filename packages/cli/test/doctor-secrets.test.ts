import { describe, expect, it } from 'vitest';
import { larder } from './helpers';

// A password with an unencoded '/' or '@' used to be half-printed: the start-up error showed
// `redis://u:Pa/ss-SECRET@host:6379` whole, doctor `redis://:***@ss-SECRET@127.0.0.1`.
describe('larder doctor and URLs whose user:password part is not valid', () => {
  it.each([
    ['REDIS_URL', 'redis://u:Pa/ss-SECRET@host:6379'],
    ['REDIS_URL', 'redis://:p@ss-SECRET@127.0.0.1'],
    ['REDIS_REPLICA_URLS', 'redis://:p@ss-SECRET@127.0.0.1'],
  ])('%s=%s: refused as a config error, no part of it printed', async (variable, url) => {
    const { code, stdout, stderr } = await larder(['doctor'], { CACHE_DRIVER: 'redis', [variable]: url });
    expect(code).toBe(2);
    expect(stderr).toContain(`Invalid ${variable}`);
    expect(stderr).toContain('percent-encode the password');
    for (const part of ['SECRET', 'ss-', 'Pa/', 'host:6379', '127.0.0.1']) {
      expect(stdout + stderr).not.toContain(part);
    }
  });

  it('shows the user but not the password of a valid URL', async () => {
    const { stdout, stderr } = await larder(['doctor', '--timeout', '300'], {
      CACHE_DRIVER: 'redis',
      REDIS_URL: 'redis://app:Pa%2Fss-SECRET@127.0.0.1:1',
    });
    expect(stdout + stderr).not.toContain('SECRET');
    expect(stdout + stderr).toContain('redis://app:***@127.0.0.1:1');
  });
});
