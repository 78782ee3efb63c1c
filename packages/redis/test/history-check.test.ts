import { describe, expect, it } from 'vitest';
import { checkHistory } from './coherence/harness';
import type { HistoryOp } from './coherence/protocol';

const set = (value: string, start: number, end: number, failed?: boolean): HistoryOp => ({
  kind: 'set',
  key: 'k',
  value,
  start,
  end,
  ...(failed ? { failed } : {}),
});
const get = (value: string | null, start: number, end: number): HistoryOp => ({
  kind: 'get',
  key: 'k',
  value,
  start,
  end,
});

describe('checkHistory (the L1 history harness)', () => {
  it('accepts a current read and one within the window; a read overwritten longer before is a violation', () => {
    const writes = [set('a', 0, 1), set('b', 10, 11)];
    expect(checkHistory([...writes, get('b', 12, 13), get('a', 5, 6)], 0).violations).toEqual([]);
    expect(checkHistory([...writes, get('a', 20, 21)], 100).violations).toEqual([]);
    const late = get('a', 200, 201);
    expect(checkHistory([...writes, late], 100).violations).toEqual([late]);
  });

  it('lets a read return a write that threw (it may have landed), and never counts one as an overwrite', () => {
    const read = get('lost', 50, 51);
    expect(checkHistory([set('lost', 0, 30, true), read], 0).violations).toEqual([]);
    // Without the failed write on record, the value has no source: a violation.
    expect(checkHistory([read], 0).violations).toEqual([read]);
    const old = get('a', 500, 501);
    expect(checkHistory([set('a', 0, 1), set('b', 10, 11, true), old], 100).violations).toEqual([]);
    expect(checkHistory([set('a', 0, 1), set('b', 10, 11), old], 100).violations).toEqual([old]);
  });

  it('reads a miss as current until the first write that did not throw completed', () => {
    const miss = get(null, 500, 501);
    expect(checkHistory([set('a', 0, 1, true), miss], 100).violations).toEqual([]);
    expect(checkHistory([set('a', 0, 1), miss], 100).violations).toEqual([miss]);
  });
});
