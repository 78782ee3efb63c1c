import { vi } from 'vitest';
import { clientVersionSuite } from './client-versions';

// The driver runs on the lowest ioredis its peer range allows (dev-dependency alias `ioredis-lowest`).
vi.mock('ioredis', () => import('ioredis-lowest'));

clientVersionSuite({
  bound: 'lowest',
  packageName: 'ioredis-lowest',
  // ioredis 5 marks a command resolved (`isResolved`), not settled: its own timeouts stay.
  probe: {
    missing: ['Command#isSettled'],
    deadlines: false,
    corking: true,
    clusterSubmitTimeouts: true,
    reconnectAttempts: true,
    textCommands: true,
  },
  fallbacks: ["command timeouts: ioredis' commandTimeout and socketTimeout (timers per command)"],
});
