import type { Cache } from '@larder/core';
import { Controller, Get, Inject, Injectable, Module, Param, Post } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rcBackends, type Served } from '../../http/test/harness';
import { Cached, InvalidateTags, LarderModule } from '../src/index';
import { serveNest } from './nest-app';

// @Cached and @InvalidateTags on a service and a controller of a Nest app (Express platform), over
// HTTP, on memory and a real redis-server: the methods run on misses only, and tags drop results.

/** A "database" that counts its loads. */
@Injectable()
class CatalogService {
  loads = 0;
  version = 1;

  @Cached({ ttl: '1m', tags: (args) => ['products', `product:${args[0]}`] })
  async product(id: string) {
    this.loads++;
    return { id, version: this.version };
  }

  @Cached({ ttl: 150, key: 'featured', lock: true })
  async featured() {
    this.loads++;
    return { version: this.version };
  }

  @InvalidateTags((args) => [`product:${args[0]}`])
  async rename(id: string) {
    this.version++;
    return { id };
  }

  @InvalidateTags(['products'])
  async failingUpdate(): Promise<never> {
    this.version++;
    throw new Error('the update failed');
  }
}

@Controller()
class CatalogController {
  constructor(@Inject(CatalogService) private readonly catalog: CatalogService) {}

  @Get('products/:id')
  product(@Param('id') id: string) {
    return this.catalog.product(id);
  }

  @Get('featured')
  featured() {
    return this.catalog.featured();
  }

  @Post('products/:id/rename')
  rename(@Param('id') id: string) {
    return this.catalog.rename(id);
  }

  @Post('fail')
  async fail() {
    await this.catalog.failingUpdate().catch(() => undefined);
    return 'failed';
  }

  @Get('loads')
  loads() {
    return { loads: this.catalog.loads };
  }

  // Above the route decorator: its metadata is kept on the wrapped method.
  @Cached({ ttl: '1m' })
  @Get('controller-cached/:n')
  controllerCached(@Param('n') n: string) {
    this.catalog.loads++;
    return { n, at: this.catalog.loads };
  }
}

const env = rcBackends();
beforeAll(() => env.start());
afterAll(() => env.stop());

describe.each(env.backends)('@Cached and @InvalidateTags over HTTP ($name)', (backend) => {
  let served: Served;
  let cache: Cache;
  const json = async (path: string, method = 'GET') => JSON.parse((await served.request(path, { method })).text);
  const loads = async () => (await json('/loads')).loads as number;

  beforeAll(async () => {
    cache = backend.cache();
    @Module({
      imports: [LarderModule.forRoot({ cache })],
      controllers: [CatalogController],
      providers: [CatalogService],
    })
    class AppModule {}
    ({ served } = await serveNest(AppModule));
  });
  afterAll(() => served?.close());

  it('runs the method on a miss only, keyed by class, method and arguments', async () => {
    const before = await loads();
    expect(await json('/products/1')).toEqual({ id: '1', version: 1 });
    expect(await json('/products/1')).toEqual({ id: '1', version: 1 });
    expect(await loads()).toBe(before + 1);
    expect(await json('/products/2')).toEqual({ id: '2', version: 1 });
    expect(await loads()).toBe(before + 2);
    expect(await cache.get('CatalogService.product:["1"]')).toEqual({ id: '1', version: 1 });
  });

  it('a key option and a ttl: the result expires and is loaded again', async () => {
    const before = await loads();
    await json('/featured');
    await json('/featured');
    expect(await loads()).toBe(before + 1);
    expect(await cache.get('featured')).toBeDefined();
    const end = Date.now() + 3000;
    while ((await cache.get('featured')) !== undefined && Date.now() < end) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await json('/featured');
    expect(await loads()).toBe(before + 2);
  });

  it('@InvalidateTags from the arguments drops only the tagged results, once the method resolved', async () => {
    await json('/products/3');
    await json('/products/4');
    const before = await loads();
    await json('/products/3/rename', 'POST');
    // The invalidation resolved before the response: the next read loads the new version.
    expect((await json('/products/3')).version).toBeGreaterThan(1);
    expect(await loads()).toBe(before + 1);
    expect((await json('/products/4')).version).toBe(1);
    expect(await loads()).toBe(before + 1);
  });

  it('@InvalidateTags invalidates nothing when the method throws', async () => {
    await json('/products/5');
    const before = await loads();
    expect((await served.request('/fail', { method: 'POST' })).text).toBe('failed');
    await json('/products/5');
    expect(await loads()).toBe(before);
  });

  it('@Cached above @Get on a controller: the route is kept and cached', async () => {
    const first = await json('/controller-cached/9');
    expect(await json('/controller-cached/9')).toEqual(first);
    expect(await cache.get('CatalogController.controllerCached:["9"]')).toEqual(first);
  });
});
