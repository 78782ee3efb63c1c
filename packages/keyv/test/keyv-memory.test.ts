import { afterAll } from 'vitest';
import { memoryBackend } from './backends';
import { keyvSuites } from './suites';

const backend = memoryBackend();
afterAll(() => backend.stop());
keyvSuites(backend);
