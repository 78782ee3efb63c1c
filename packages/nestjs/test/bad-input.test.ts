import 'reflect-metadata';
import { Cache, ConfigError, InvalidArgumentError, InvalidTtlError } from '@larder/core';
import { createMemoryStore } from '@larder/memory';
import { Inject, Injectable, type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { describe, expect, it } from 'vitest';
import {
  Cached,
  InvalidateTags,
  LARDER_CACHE,
  LarderModule,
  LarderResponseCacheMiddleware,
  LarderThrottlerStorage,
} from '../src/index';

// Bad input gets a typed error naming what is wrong: one test per case.

const cache = () => new Cache({ store: createMemoryStore(), prefix: 'bad:' });

/** Applies a method decorator to a fresh class's method `m`. */
function decorate(decorator: () => MethodDecorator) {
  return () => {
    class Target {
      m() {
        return 1;
      }
    }
    const descriptor = Object.getOwnPropertyDescriptor(Target.prototype, 'm')!;
    decorator()(Target.prototype, 'm', descriptor);
  };
}

function expectError(fn: () => unknown, type: typeof ConfigError | typeof InvalidArgumentError, argument: string) {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(type);
  expect((thrown as { argument?: string }).argument ?? (thrown as { variable?: string }).variable).toBe(argument);
}

describe('@Cached and @InvalidateTags', () => {
  it('@Cached with options that are not an object', () => {
    expectError(
      decorate(() => Cached(null as never)),
      InvalidArgumentError,
      'options',
    );
  });
  it('@Cached with a key that is neither a string nor a function', () => {
    expectError(
      decorate(() => Cached({ key: 5 as never })),
      InvalidArgumentError,
      'key',
    );
  });
  it('@Cached with tags that are not strings', () => {
    expectError(
      decorate(() => Cached({ tags: 'products' as never })),
      InvalidArgumentError,
      'tags',
    );
  });
  it('@InvalidateTags without tags', () => {
    expectError(
      decorate(() => InvalidateTags(undefined as never)),
      InvalidArgumentError,
      'tags',
    );
  });
  it('@InvalidateTags with tags that are not strings', () => {
    expectError(
      decorate(() => InvalidateTags([1] as never)),
      InvalidArgumentError,
      'tags',
    );
  });
  it('on something that is not a method (an accessor)', () => {
    expectError(() => Cached()({}, 'x', { get: () => 1 } as TypedPropertyDescriptor<unknown>), ConfigError, 'method');
  });

  class Plain {
    @Cached()
    async load(value: unknown) {
      return value;
    }
    @InvalidateTags(['t'])
    async save() {
      return 1;
    }
  }

  it('a decorated method called on an instance LarderModule did not wire', async () => {
    await expect(new Plain().load(1)).rejects.toSatisfy(
      (e) => e instanceof ConfigError && /LarderModule/.test(e.message),
    );
    await expect(new Plain().save()).rejects.toBeInstanceOf(ConfigError);
  });

  it('@Cached arguments that have no JSON (a BigInt) without a key option', async () => {
    @Injectable()
    class Service {
      @Cached()
      async load(value: unknown) {
        return String(value);
      }
    }
    @Module({ imports: [LarderModule.forRoot({ cache: cache() })], providers: [Service] })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    await expect(app.get(Service).load(1n)).rejects.toSatisfy(
      (e) => e instanceof InvalidArgumentError && e.argument === 'key',
    );
    expect(await app.get(Service).load(2)).toBe('2');
    await app.close();
  });
});

describe('LarderModule', () => {
  it('forRoot without a cache', () => {
    expectError(() => LarderModule.forRoot({} as never), ConfigError, 'cache');
  });
  it('forRootAsync without a factory', () => {
    expectError(() => LarderModule.forRootAsync({} as never), ConfigError, 'useFactory');
  });
  it('forRootAsync whose factory gives no cache: the app does not start', async () => {
    @Module({ imports: [LarderModule.forRootAsync({ useFactory: () => ({}) as never })] })
    class AppModule {}
    await expect(
      NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false }),
    ).rejects.toBeInstanceOf(ConfigError);
  });
  it('forRootAsync with injections provides the cache', async () => {
    const made = cache();
    @Module({ providers: [{ provide: 'MADE', useValue: made }], exports: ['MADE'] })
    class SourceModule {}
    @Injectable()
    class User {
      constructor(@Inject(LARDER_CACHE) readonly cache: Cache) {}
    }
    @Module({
      imports: [
        LarderModule.forRootAsync({
          imports: [SourceModule],
          inject: ['MADE'],
          useFactory: (c: Cache) => ({ cache: c }),
        }),
      ],
      providers: [User],
    })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    expect(app.get(User).cache).toBe(made);
    await app.close();
  });
  it('responseCache options the response cache refuses (a ttl that is no duration): the app does not start', async () => {
    @Module({ imports: [LarderModule.forRoot({ cache: cache(), responseCache: { ttl: 'soon' as never } })] })
    class AppModule {}
    await expect(NestFactory.create(AppModule, { logger: false, abortOnError: false })).rejects.toSatisfy(
      (e) => e instanceof InvalidTtlError,
    );
  });
  it('the response-cache middleware without responseCache options: the app does not start', async () => {
    @Module({ imports: [LarderModule.forRoot({ cache: cache() })] })
    class AppModule implements NestModule {
      configure(consumer: MiddlewareConsumer) {
        consumer.apply(LarderResponseCacheMiddleware).forRoutes('*');
      }
    }
    const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
    await expect(app.init()).rejects.toSatisfy((e) => e instanceof ConfigError && e.variable === 'responseCache');
    await app.close().catch(() => {});
  });
});

describe('LarderThrottlerStorage', () => {
  it('without a cache', () => {
    expectError(() => new LarderThrottlerStorage(undefined as never), ConfigError, 'cache');
  });
  it('with a name the limiter refuses', () => {
    expectError(() => new LarderThrottlerStorage(cache(), { name: 'a:b' }), InvalidArgumentError, 'name');
  });
  for (const [name, args] of [
    ['ttl', [1.5, 5, 0]],
    ['limit', [1000, -1, 0]],
    ['blockDuration', [1000, 5, -1]],
  ] as const) {
    it(`a ${name} that is not a whole number of ms`, async () => {
      const storage = new LarderThrottlerStorage(cache());
      await expect(storage.increment('k', args[0], args[1], args[2], 'default')).rejects.toSatisfy(
        (e) => e instanceof ConfigError && (e as ConfigError).variable === name,
      );
    });
  }
  it('limit 0 refuses every hit and counts nothing', async () => {
    const c = cache();
    const storage = new LarderThrottlerStorage(c);
    expect(await storage.increment('k', 1000, 0, 0, 'default')).toMatchObject({ isBlocked: true, totalHits: 1 });
    expect(await storage.increment('k', 1000, 1, 0, 'default')).toMatchObject({ isBlocked: false, totalHits: 1 });
  });
});
