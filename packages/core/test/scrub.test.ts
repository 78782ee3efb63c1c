import { scrubError, scrubText, secretList } from '@larder/core/driver';
import { describe, expect, it } from 'vitest';

describe('scrub', () => {
  it('secretList keeps long enough strings once, longest first', () => {
    expect(secretList(['abc', undefined, 'abcdef', 'ab', 'abc', 7], 3)).toEqual(['abcdef', 'abc']);
  });

  it('scrubText replaces every secret, and URL passwords only when asked', () => {
    expect(scrubText('pw=hunter2 again hunter2', ['hunter2'])).toBe('pw=*** again ***');
    expect(scrubText('redis://u:pass@h', [])).toBe('redis://u:pass@h');
    expect(scrubText('redis://u:pass@h', [], true)).toBe('redis://u:***@h');
  });

  it('scrubError copies name, message, stack and primitive fields scrubbed, drops objects, and scrubs causes', () => {
    const inner = new Error('inner hunter2');
    const error = Object.assign(new Error('failed with hunter2', { cause: inner }), {
      code: 'E_X hunter2',
      errno: 5,
      request: { password: 'hunter2' },
    });
    error.name = 'ClientError';
    const copy = scrubError<Error & Record<string, unknown>>(error, ['hunter2']);
    expect(copy.name).toBe('ClientError');
    expect(copy.message).toBe('failed with ***');
    expect(copy.code).toBe('E_X ***');
    expect(copy.errno).toBe(5);
    expect(copy.request).toBeUndefined();
    expect(copy.stack).not.toContain('hunter2');
    expect((copy.cause as Error).message).toBe('inner ***');
  });

  it('scrubError applies a driver’s drop, keep, nonError and aggregate options', () => {
    const error = Object.assign(new AggregateError([new Error('a hunter2')], 'all'), {
      args: 'AUTH hunter2',
      meta: { id: 'r-hunter2' },
    });
    const copy = scrubError<Error & Record<string, unknown>>(error, ['hunter2'], {
      drop: new Set(['args']),
      aggregate: true,
      keep: (source, fields, scrub) => {
        const meta = (source as { meta?: { id: string } }).meta;
        if (meta) fields.meta = { id: scrub(meta.id) };
      },
    });
    expect(copy.args).toBeUndefined();
    expect(copy.meta).toEqual({ id: 'r-***' });
    expect((copy.errors as Error[])[0]!.message).toBe('a ***');
    expect(scrubError('hunter2!', ['hunter2'])).toBeInstanceOf(Error);
    expect(scrubError('hunter2!', ['hunter2'], { nonError: (value, scrub) => scrub(String(value)) })).toBe('***!');
  });
});
