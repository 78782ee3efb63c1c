import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RedisServer, startRedis } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import manifest from '../package.json' with { type: 'json' };
import { ROOT, runProcess } from './helpers';

// The packages the CLI installs with: packed from their builds (`pnpm build` first), as npm would get them.
const PACKED = ['core', 'memory', 'redis', 'memcached', 'dynamodb', 'cli'];

describe('the larder command as a real process', { timeout: 120_000 }, () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());

  it('`pnpm larder` in the repository (from source) prints its version and runs doctor', async () => {
    const version = await runProcess('pnpm', ['--silent', 'larder', '--version'], { cwd: ROOT });
    expect(version).toMatchObject({ code: 0, stdout: `${manifest.version}\n` });
    const doctor = await runProcess('pnpm', ['--silent', 'larder', 'doctor'], {
      cwd: ROOT,
      env: { CACHE_DRIVER: 'redis', REDIS_URL: redis.url },
    });
    expect(doctor.stderr).toBe('');
    expect(doctor.stdout).toContain('[redis] driver redis');
    expect(doctor.code).toBe(0);
    const invalid = await runProcess('pnpm', ['--silent', 'larder', 'doctor'], {
      cwd: ROOT,
      env: { CACHE_DRIVER: 'redis', REDIS_URL: 'redis://:pw-77e1@127.0.0.1:99999' },
    });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toBe(
      "Invalid configuration: E_CONFIG: Invalid REDIS_URL='redis://:***@127.0.0.1:99999': expected a port from 1 to 65535 after the host, got '99999'\n",
    );
  });

  it('the built bin loads the drivers (it failed to load @larder/memory from core)', async () => {
    const bin = join(ROOT, 'packages/cli/dist/bin.js');
    expect(existsSync(bin), 'packages/cli/dist is missing: run `pnpm build` first').toBe(true);
    const { code, stdout } = await runProcess(process.execPath, [bin, 'doctor'], { cwd: tmpdir() });
    expect(stdout).toContain('probe     set/get/delete ok');
    expect(code).toBe(0);
  });

  // The install fetches the CLI's dependencies from the registry with an empty npm cache (CI). In one
  // clean-clone run it printed nothing for two minutes, twice; alone it takes 20 s (cause not found).
  // A stalled fetch would wait out npm's 5-minute `fetch-timeout`: here it gives up after 20 s and is
  // retried, and `--loglevel=http` leaves each request in stderr, which a failure prints.
  it('`npx @larder/cli` from packed tarballs, installed strictly (each package sees only its dependencies)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'larder-npx-'));
    try {
      for (const name of PACKED) {
        expect(
          existsSync(join(ROOT, 'packages', name, 'dist')),
          `packages/${name}/dist: run \`pnpm build\` first`,
        ).toBe(true);
      }
      const packs = await Promise.all(
        PACKED.map((name) =>
          runProcess('pnpm', ['pack', '--pack-destination', dir], { cwd: join(ROOT, 'packages', name) }),
        ),
      );
      for (const packed of packs) expect(packed.code, packed.stderr).toBe(0);
      const tarball = (name: string) => `file:${join(dir, `larder-${name}-${manifest.version}.tgz`)}`;
      // Only the CLI is a dependency; the other @larder packages come from their tarballs, not the registry.
      const overrides = Object.fromEntries(PACKED.filter((n) => n !== 'cli').map((n) => [`@larder/${n}`, tarball(n)]));
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify({
          name: 'npx-check',
          private: true,
          dependencies: { '@larder/cli': tarball('cli') },
          overrides,
        }),
      );
      const install = await runProcess(
        'npm',
        [
          'install',
          '--install-strategy=linked',
          '--prefer-offline',
          '--no-audit',
          '--no-fund',
          '--fetch-timeout=20000',
          '--fetch-retries=5',
          '--loglevel=http',
        ],
        { cwd: dir, timeoutMs: 300_000 },
      );
      expect(install.code, install.stderr).toBe(0);
      const version = await runProcess('npx', ['@larder/cli', '--version'], { cwd: dir });
      expect(version.stdout).toBe(`${manifest.version}\n`);
      const doctor = await runProcess('npx', ['@larder/cli', 'doctor'], {
        cwd: dir,
        env: { CACHE_DRIVER: 'redis', REDIS_URL: redis.url },
      });
      expect(doctor.stdout).toContain('role master');
      expect(doctor.stdout).toContain('1 store(s) ok, 0 failed');
      expect(doctor.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 420_000);
});
