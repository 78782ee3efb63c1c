import { type MemcachedCluster, startMemcached } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemcachedFloor } from '../src/memcached-floor';

// The floor row is only a fair bound if it does the work it claims: every value of the key set
// comes back over the wire and is decoded, from all three nodes.
describe('MemcachedFloor', () => {
  let cluster: MemcachedCluster;
  let floor: MemcachedFloor;
  const keySets = [Array.from({ length: 100 }, (_, j) => j), Array.from({ length: 100 }, (_, j) => 100 + j)];

  beforeAll(async () => {
    cluster = await startMemcached({ count: 3 });
    floor = await MemcachedFloor.open(
      cluster.nodes.map((node) => node.address),
      keySets,
      JSON.stringify({ id: 1, name: 'Ada' }),
    );
  });

  afterAll(async () => {
    floor?.close();
    await cluster?.stop();
  });

  const total = () => floor.decodedPerNode().reduce((sum, n) => sum + n, 0);

  it('decodes every value of a key set per getMany, from every node, cycling through the key sets', async () => {
    await floor.getMany(0);
    expect(total()).toBe(100);
    // Keys go to node i % 3: 34, 33 and 33 of them.
    expect(floor.decodedPerNode()).toEqual([34, 33, 33]);
    await floor.getMany(1);
    await floor.getMany(2); // key set 0 again
    expect(total()).toBe(300);
  });
});
