import type { FleetBackend } from '@larder/core/driver';
import type { RedisClient } from './options';

/**
 * The L1 fleet's registry as a Redis set (`FleetBackend.addMember`...): an instance joins with
 * SADD and leaves with SREM, one command each, however many join at once; SMEMBERS on the primary.
 */
export function fleetMembers(
  client: () => RedisClient,
): Required<Pick<FleetBackend, 'addMember' | 'removeMembers' | 'listMembers'>> {
  return {
    async addMember(key, id) {
      await client().sadd(key, id);
    },
    async removeMembers(key, ids) {
      if (ids.length > 0) await client().srem(key, ...ids);
    },
    listMembers(key) {
      return client().smembers(key);
    },
  };
}
