import { afterAll, beforeAll } from 'vitest';
import { redisBackend } from './backends';
import { keyvSuites } from './suites';

const backend = redisBackend();
beforeAll(() => backend.start());
afterAll(() => backend.stop());
keyvSuites(backend);
