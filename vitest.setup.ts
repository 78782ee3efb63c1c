import { registerDriverEnvironment } from '@larder/core/driver';
import { larderEnv as dynamodb } from '@larder/dynamodb/env';
import { larderEnv as memcached } from '@larder/memcached/env';
import { larderEnv as memory } from '@larder/memory/env';
import { larderEnv as redis } from '@larder/redis/env';

// Every test process: configFromEnv uses the drivers' source env modules (see vitest.config.ts).
for (const environment of [memory, redis, memcached, dynamodb]) registerDriverEnvironment(environment);
