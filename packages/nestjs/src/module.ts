import { type Cache, ConfigError } from '@larder/core';
import {
  type DynamicModule,
  type FactoryProvider,
  Global,
  Inject,
  Injectable,
  Module,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryModule, DiscoveryService } from '@nestjs/core';
import { LARDER_RESPONSE_CACHE_OPTIONS, LarderResponseCache, type NestResponseCacheOptions } from './response-cache';
import { attachCache, LARDER_CACHE } from './wiring';

/** Options of `LarderModule.forRoot`. */
export interface LarderModuleOptions {
  /** The app's cache (`createCacheManager(configFromEnv()).store()`): injected as `LARDER_CACHE`, used by `@Cached` and `@InvalidateTags`. */
  cache: Cache;
  /** Options of the response cache that `LarderResponseCacheMiddleware` applies (`cache` defaults to the one above). */
  responseCache?: NestResponseCacheOptions;
}

/** Options of `LarderModule.forRootAsync`: a factory of the options, with its injections. */
export interface LarderModuleAsyncOptions {
  imports?: DynamicModule['imports'];
  // biome-ignore lint/suspicious/noExplicitAny: Nest's factories take whatever their tokens inject.
  useFactory: (...args: any[]) => LarderModuleOptions | Promise<LarderModuleOptions>;
  inject?: FactoryProvider['inject'];
}

/** Gives the cache to every singleton provider and controller with `@Cached` or `@InvalidateTags` methods. */
@Injectable()
class LarderExplorer implements OnModuleInit {
  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(LARDER_CACHE) private readonly cache: Cache,
  ) {}

  /** Runs once every singleton exists, before the app listens. */
  onModuleInit(): void {
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      attachCache(wrapper.instance, this.cache);
    }
  }
}

const OPTIONS = 'LARDER_MODULE_OPTIONS';
const common = [LarderExplorer, LarderResponseCache];
const exported = [LARDER_CACHE, LarderResponseCache];

function checked(options: LarderModuleOptions): Cache {
  if (typeof options?.cache?.remember !== 'function') {
    throw new ConfigError('LarderModule needs { cache }: a Cache from @larder/core', 'cache');
  }
  return options.cache;
}

/**
 * The larder module, global like @nestjs/cache-manager's `CacheModule` with `isGlobal`: provides
 * the cache as `LARDER_CACHE` and wires the `@Cached` / `@InvalidateTags` methods of the app's
 * singleton providers and controllers to it. Import it once, in the root module.
 */
@Global()
@Module({})
export class LarderModule {
  /** The module over `cache` (the app owns it: close it after `app.close()`). */
  static forRoot(options: LarderModuleOptions): DynamicModule {
    const cache = checked(options);
    return {
      module: LarderModule,
      imports: [DiscoveryModule],
      providers: [
        { provide: LARDER_CACHE, useValue: cache },
        { provide: LARDER_RESPONSE_CACHE_OPTIONS, useValue: options.responseCache },
        ...common,
      ],
      exports: exported,
    };
  }

  /** The module over a cache made by a factory (`inject` names its injections). */
  static forRootAsync(options: LarderModuleAsyncOptions): DynamicModule {
    if (typeof options?.useFactory !== 'function') {
      throw new ConfigError('LarderModule.forRootAsync needs { useFactory }', 'useFactory');
    }
    return {
      module: LarderModule,
      imports: [DiscoveryModule, ...(options.imports ?? [])],
      providers: [
        { provide: OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
        { provide: LARDER_CACHE, useFactory: (resolved: LarderModuleOptions) => checked(resolved), inject: [OPTIONS] },
        {
          provide: LARDER_RESPONSE_CACHE_OPTIONS,
          useFactory: (resolved: LarderModuleOptions) => resolved.responseCache ?? null,
          inject: [OPTIONS],
        },
        ...common,
      ],
      exports: exported,
    };
  }
}
