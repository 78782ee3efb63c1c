import { describe, expect, it } from 'vitest';
import { ModelMismatch, ReferenceModel } from '../src/model/model';

const PRECISION = { precisionMs: 1000, slackMs: 10 };
const at = (ms: number) => ({ start: ms, end: ms + 5 });

/** A forever counter decremented with a TTL, then `add` long after that TTL: the memcached case. */
function decrementThenAdd(model: ReferenceModel, addStored: boolean): void {
  model.write('a', 4, undefined, at(0));
  model.increment('a', -2, 2500, at(10), { value: 2 });
  model.add('a', [1], 6000, at(10_000), { value: addStored });
}

describe('the reference model and a driver limit', () => {
  it('without a declared limit, a counter keeps its expiry: an add past the call TTL must fail', () => {
    expect(() => decrementThenAdd(new ReferenceModel(PRECISION), true)).toThrow(ModelMismatch);
    expect(() => decrementThenAdd(new ReferenceModel(PRECISION), false)).not.toThrow();
  });

  it('with counterTakesCallTtl, either expiry is allowed, and what a read sees decides', () => {
    expect(() => decrementThenAdd(new ReferenceModel(PRECISION, { counterTakesCallTtl: true }), true)).not.toThrow();
    expect(() => decrementThenAdd(new ReferenceModel(PRECISION, { counterTakesCallTtl: true }), false)).not.toThrow();
    const model = new ReferenceModel(PRECISION, { counterTakesCallTtl: true });
    model.write('a', 4, undefined, at(0));
    model.increment('a', -2, 2500, at(10), { value: 2 });
    // Seen gone after the call TTL: the counter took it, so it cannot be back later.
    model.get('a', at(5000), { value: undefined });
    expect(() => model.get('a', at(6000), { value: 2 })).toThrow(ModelMismatch);
  });
});
