import { Cache } from '@larder/core';
import { createMemoryStore } from '@larder/memory';
import { afterAll, beforeAll, describe } from 'vitest';
import { buildApp } from './fixtures/session-app';
import { type Instances, instanceScenarios } from './session-instances';

// The memory driver lives in one process: the two app instances share it inside this process
// (each with its own Cache and CacheSessionStore), still over real HTTP.
describe('sessions across two app instances on the memory driver', () => {
  let instances: Instances;
  beforeAll(async () => {
    const store = createMemoryStore();
    const apps = await Promise.all([0, 1].map(() => buildApp(new Cache({ store, prefix: 'inst:' }))));
    instances = {
      urls: apps.map((app) => `http://127.0.0.1:${app.port}`) as [string, string],
      stop: async () => {
        await Promise.all(apps.map((app) => app.close()));
      },
    };
  });
  afterAll(async () => {
    await instances?.stop();
  });
  instanceScenarios(() => instances);
});
