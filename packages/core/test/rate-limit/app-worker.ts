// One app instance of the framework rate-limit fleet tests (see app-fleet.ts), in its own OS
// process: the apps of LARDER_APP_FLEET, each made by its framework's factory module over its own
// cache, listening on loopback. Each request names an app and runs that many concurrent HTTP
// callers against it; the reply is every answer's status and time, and the unhandled rejections so far.
import { pathToFileURL } from 'node:url';
import { Cache } from '@larder/core';
import type { AppFleetSpec, AppSpec, CallBurst, CallResult, RateLimitAppFactory, RunningApp } from './app-fleet';
import { storeFor } from './stores';

const spec = JSON.parse(process.env.LARDER_APP_FLEET ?? '{}') as AppFleetSpec;
const unhandled: string[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(String(reason)));

async function call(app: RunningApp, burst: CallBurst): Promise<CallResult> {
  const answers: CallResult['answers'] = [];
  const caller = async () => {
    for (let i = 0; i < burst.hits; i++) {
      const started = performance.now();
      // A request that waited for a hung store would stall: the abort fails the burst instead.
      const res = await fetch(`${app.url}/`, { headers: { 'x-key': burst.key }, signal: AbortSignal.timeout(30_000) });
      await res.arrayBuffer();
      answers.push([res.status, Math.round(performance.now() - started)]);
    }
  };
  await Promise.all(Array.from({ length: burst.callers }, caller));
  return { answers, unhandled: [...unhandled] };
}

async function main(): Promise<void> {
  const caches: Cache[] = [];
  const apps = new Map<string, RunningApp>();
  const start = async (app: AppSpec) => {
    const driverDefaults = app.timeoutMs !== undefined;
    const cache = new Cache({
      store: storeFor(app.store, driverDefaults),
      prefix: app.store.prefix,
      timeout: app.timeoutMs ?? 60_000,
    });
    caches.push(cache);
    await cache.getStore();
    const { createApp } = (await import(pathToFileURL(app.module).href)) as { createApp: RateLimitAppFactory };
    const { limit, windowMs, onStoreDown, limitPerRequest } = app;
    apps.set(app.name, await createApp({ cache, limit, windowMs, onStoreDown, limitPerRequest }));
  };
  await Promise.all(spec.apps.map(start));
  process.on('message', (message: CallBurst & { id: number }) => {
    const app = apps.get(message.app);
    (app ? call(app, message) : Promise.reject(new Error(`no app ${message.app}`))).then(
      (result) => process.send?.({ id: message.id, ...result }),
      (error: Error) =>
        process.send?.({ id: message.id, answers: [], unhandled, error: `${error.name}: ${error.message}` }),
    );
  });
  process.on('SIGTERM', () => {
    Promise.allSettled([...apps.values()].map((app) => app.close()))
      .then(() => Promise.allSettled(caches.map((cache) => cache.close())))
      .finally(() => process.exit(0));
  });
  process.send?.({ ready: Object.fromEntries([...apps].map(([name, app]) => [name, app.url])) });
}

main().catch((error: Error) => process.send?.(`failed ${error.stack ?? error.message}`));
