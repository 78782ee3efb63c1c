import { clientVersionSuite } from './client-versions';

// The driver runs on its `ioredis` dev dependency, kept at the newest version the peer range allows.
clientVersionSuite({
  bound: 'highest',
  packageName: 'ioredis',
  probe: {
    missing: [],
    deadlines: true,
    corking: true,
    clusterSubmitTimeouts: true,
    reconnectAttempts: true,
    textCommands: true,
  },
  fallbacks: [],
});
