import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryStore, larderDriver as memoryDriver } from '@larder/memory';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPackageDriver } from '../src/config/driver-loading';
import { customDriver } from '../src/config/store-config';
import { DriverNotFoundError } from '../src/contract/errors';
import { createCacheManager } from '../src/manager/manager';

// Built-in drivers are looked for from the app (its root, then its main script), then from core.
// The test runner registers source drivers for every test (vitest.setup.ts), so the search itself
// is tested here through loadPackageDriver with an app root of our own; consumers/ runs it for
// real in a pnpm workspace with hoist=false.

const apps = mkdtempSync(join(tmpdir(), 'larder-resolution-'));
afterAll(() => rmSync(apps, { recursive: true, force: true }));

/** An app folder with these packages in node_modules (name -> CommonJS source of its index). */
function app(name: string, packages: Record<string, string>): string {
  const root = join(apps, name);
  for (const [pkg, source] of Object.entries(packages)) {
    const dir = join(root, 'node_modules', pkg);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: pkg, version: '1.0.0', main: 'index.js' }));
    writeFileSync(join(dir, 'index.js'), source);
  }
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name, private: true }));
  return root;
}

async function failure(promise: Promise<unknown>): Promise<DriverNotFoundError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DriverNotFoundError);
  return error as DriverNotFoundError;
}

describe('driver packages are found from the app', () => {
  const registered = ['memory', 'redis'];

  it("loads the app's copy of a driver package", async () => {
    const root = app('has-redis', { '@larder/redis': 'exports.larderDriver = () => "the app\'s redis";' });
    const factory = await loadPackageDriver('redis', '@larder/redis', { root, registered });
    expect((factory as unknown as () => string)()).toBe("the app's redis");
  });

  it('not installed: says where it looked and how to install or pass it', async () => {
    // A package no folder has (pnpm puts this repository's own packages on NODE_PATH for its scripts).
    const root = app('bare', {});
    const error = await failure(loadPackageDriver('absent', '@larder/absent-driver', { root, registered }));
    expect(error.packageName).toBe('@larder/absent-driver');
    expect(error.message).toContain(`@larder/absent-driver was not found from the app root (${root})`);
    expect(error.message).toMatch(/@larder\/core \(/);
    expect(error.message).toContain("createCacheManager({ drivers: [await import('@larder/absent-driver')]");
    expect(error.message).toContain('Registered drivers: memory, redis');
  });

  it('installed but missing its own dependency: names that dependency, never the installed package', async () => {
    const root = app('no-ioredis', {
      '@larder/redis': "require('ioredis-not-installed-here'); exports.larderDriver = () => 1;",
    });
    const error = await failure(loadPackageDriver('redis', '@larder/redis', { root, registered }));
    expect(error.packageName).toBe('ioredis-not-installed-here');
    expect(error.message).toContain('@larder/redis is installed, but its dependency ioredis-not-installed-here is not');
    expect(error.message).not.toContain('npm install @larder/redis');
  });

  it('installed but not a driver package: says so', async () => {
    const root = app('not-a-driver', { '@larder/redis': 'exports.somethingElse = 1;' });
    const error = await failure(loadPackageDriver('redis', '@larder/redis', { root, registered }));
    expect(error.message).toMatch(/does not export a larderDriver function/);
  });
});

describe('drivers given explicitly', () => {
  it('drivers: [module] and drivers: [larderDriver] serve their names, before anything registered', async () => {
    const built: string[] = [];
    const tracked = (name: string) => ({
      larderDriver: Object.assign(
        () => {
          built.push(name);
          return createMemoryStore();
        },
        { environment: { ...memoryDriver.environment, driver: name } },
      ),
    });
    const caches = createCacheManager({
      drivers: [tracked('memory'), tracked('custom').larderDriver],
      stores: { other: { driver: customDriver('custom') } },
    });
    await caches.store().set('k', 1);
    await caches.store('other').set('k', 1);
    expect(built).toEqual(['memory', 'custom']);
    expect(caches.drivers()).toContain('custom');
    await caches.close();
  });

  it('refuses an entry that is not a driver, naming it', () => {
    expect(() => createCacheManager({ drivers: [{ nope: true } as never] })).toThrow(
      /drivers\[0\]: expected a driver package/,
    );
  });
});
