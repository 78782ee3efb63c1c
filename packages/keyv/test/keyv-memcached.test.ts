import { afterAll, beforeAll } from 'vitest';
import { memcachedBackend } from './backends';
import { keyvSuites } from './suites';

const backend = memcachedBackend();
beforeAll(() => backend.start());
afterAll(() => backend.stop());
keyvSuites(backend);
