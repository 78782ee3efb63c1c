import { describe, expect, it } from 'vitest';
import { percentile, refreshes, Source, steadyLoad } from '../src/remember/drive';

describe('remember bench helpers', () => {
  it('percentile is nearest-rank, NaN for no values', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('refreshes groups loader starts separated by more than the gap', () => {
    expect(refreshes([], 250)).toBe(0);
    expect(refreshes([1000, 1010, 1090, 2100, 2101, 3300], 250)).toBe(3);
    expect(refreshes([3300, 1000, 2100, 1010], 250)).toBe(3);
  });

  it('a Source counts every run, fails in down mode, and settles once none runs', async () => {
    const down = new Source('down', 1);
    await expect(down.load()).rejects.toThrow('source down');
    const slow = new Source('slow', 20);
    const runs = [slow.load(), slow.load()];
    await slow.settled(5000);
    expect(await Promise.all(runs)).toEqual(['v2', 'v2']);
    expect(slow.runs).toBe(2);
    expect(down.runs).toBe(1);
  });

  it('steadyLoad ticks each instance about rps × duration times and awaits what the ticks started', async () => {
    const ticks = [0, 0, 0];
    let settled = 0;
    await steadyLoad(3, 100, 200, (i) => {
      ticks[i] = (ticks[i] as number) + 1;
      return [new Promise<void>((resolve) => setTimeout(resolve, 30)).then(() => void settled++)];
    });
    // 200 ms at 100/s: 20 ticks per instance, however late the timers fire (late ticks are caught up).
    expect(ticks).toEqual([20, 20, 20]);
    expect(settled).toBe(60);
  });
});
