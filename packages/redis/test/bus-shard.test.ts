import { describe, expect, it } from 'vitest';
import { shardChannel, shardKey, shardTag, slotOwner } from '../src/bus/bus-shard';
import { keySlot } from '../src/cluster-slots';

describe('the bus on a Redis Cluster: one slot for its channel and its fleet keys', () => {
  it('tags with the prefix, or a digest of it when the prefix holds a brace or is empty', () => {
    expect(shardChannel('app:')).toBe('__larder:l1:{app:}');
    for (const prefix of ['app:', '', 'a{b}', 'x}y{']) {
      const tag = shardTag(prefix);
      expect(tag).not.toMatch(/[{}]/);
      expect(tag.length).toBeGreaterThan(0);
      const slot = keySlot(shardChannel(prefix));
      expect(keySlot(shardKey(tag, `__larder:fleet:${prefix}lease:1`))).toBe(slot);
      expect(keySlot(shardKey(tag, `__larder:fleet:${prefix}members`))).toBe(slot);
    }
    expect(shardTag('a{b}')).not.toBe(shardTag('x}y{'));
  });

  it("reads the slot's master from CLUSTER SLOTS, and every node to ask again", () => {
    const channel = shardChannel('app:');
    const slot = keySlot(channel);
    const reply = [
      [0, slot - 1, ['10.0.0.1', 7000, 'a'], ['10.0.0.4', 7003, 'd']],
      [slot, slot, ['', 7001, 'b'], ['10.0.0.5', 7004, 'e']],
      [slot + 1, 16383, ['10.0.0.3', 7002, 'c']],
    ];
    const owner = slotOwner(reply, channel, '10.0.0.9');
    expect(owner.master).toEqual({ host: '10.0.0.9', port: 7001, id: 'b' });
    expect(owner.nodes.map((n) => n.port)).toEqual([7000, 7003, 7001, 7004, 7002]);
    expect(slotOwner([[0, slot - 1, ['h', 1, 'a']]], channel, 'h').master).toBeUndefined();
  });
});
