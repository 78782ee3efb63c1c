import { type Cache, type CacheManager, ConfigError } from '@larder/core';
import type { FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    /** The default store of the manager given to the larder plugin (`caches.store()`). */
    cache: Cache;
    /** The manager given to the larder plugin: `app.caches.store('redis')` for a named store. */
    caches: CacheManager;
  }
}

/** Options of the larder plugin. */
export interface LarderPluginOptions {
  /** The stores of the app (`createCacheManager(configFromEnv())`). */
  caches: CacheManager;
  /** Closes the manager when the app closes. @default false (the app owns it) */
  closeOnShutdown?: boolean;
}

const plugin: FastifyPluginCallback<LarderPluginOptions> = (app, options, done) => {
  if (typeof options?.caches?.store !== 'function') {
    return done(new ConfigError('the larder plugin needs { caches }: a CacheManager from @larder/core', 'caches'));
  }
  app.decorate('caches', options.caches);
  app.decorate('cache', options.caches.store());
  if (options.closeOnShutdown) app.addHook('onClose', () => options.caches.close());
  done();
};

/** The larder plugin: decorates `app.cache` (the default store) and `app.caches` (the manager), for the whole app. */
export const larder = fp(plugin, { fastify: '5.x', name: '@larder/fastify' });
