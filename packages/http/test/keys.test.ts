import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { baseKey, bodyKey, literalKey, originFrom, variantKey } from '../src/key';

const origin = originFrom('/', 'shop.example:8080', false);
const key = (resource: string, host = 'shop.example:8080') =>
  baseKey(originFrom('/', host, false), resource, [], { host });

describe('response keys: the URI itself when short and printable, else its SHA-256', () => {
  it('keys a short printable URI by its scheme, host and resource as JSON (no hash per hit)', () => {
    expect(key('/item/1?sort=asc')).toBe('r:["http","shop.example:8080","/item/1?sort=asc"]');
    expect(baseKey(originFrom('/', 'a.example', true), '/x', [], {})).toBe('r:["https","a.example","/x"]');
  });

  it('hashes a URI with a space, a brace or a non-ASCII character, or over 128 characters of JSON', () => {
    const hashed = /^r\.[A-Za-z0-9_-]{43}$/;
    // A brace: Redis Cluster would place every key holding the same `{...}` in one slot.
    for (const resource of ['/a b', '/a{b}', '/a}', '/caf\u00e9', '/\u2603', `/${'x'.repeat(120)}`]) {
      expect(key(resource)).toMatch(hashed);
    }
    // JSON writes a control character as an escape: printable, and still one URI's own key.
    expect(key('/a\u0000')).toBe('r:["http","shop.example:8080","/a\\u0000"]');
    expect(literalKey('x'.repeat(128))).toBe(`r:${'x'.repeat(128)}`);
    expect(literalKey('x'.repeat(129))).toBeUndefined();
    expect(literalKey('a\u007fb')).toBeUndefined();
    // The vary option's request header values are always hashed.
    expect(baseKey(origin, '/x', ['accept-language'], { 'accept-language': 'de' })).toMatch(hashed);
  });

  it('keys every URI as the JSON of its scheme, host and resource, whether JSON escapes it or not', () => {
    // The key of a printable URI is written out without JSON.stringify: it must be the same text.
    const sha = (text: string) => `r.${createHash('sha256').update(text).digest('base64url')}`;
    const resources = ['/a', '/a"b', '/a\\b', '/a\u0001', '/\u007f', '/\u00e9', '/\ud800', '/\u2028', '/ ', '/~'];
    for (const host of ['shop.example:8080', 'sh"op', 'sh\\op', '\u00e9.example']) {
      for (const resource of resources) {
        const json = JSON.stringify(['http', host, resource]);
        expect(key(resource, host)).toBe(literalKey(json) ?? sha(json));
      }
    }
  });

  it('gives distinct URIs distinct keys, crafted resources included, in both forms', () => {
    const resources = ['/a', '/a/', '/a?', '/A', '/a","b', '/a"]', '/a\\"]', '/a.b', '/a"],["x', `/${'y'.repeat(200)}`];
    const keys = [
      ...resources.map((r) => key(r)),
      ...resources.map((r) => key(r, 'other.example')),
      baseKey(originFrom('/', 'shop.example:8080', true), '/a', [], {}),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('never makes a base key equal to another key’s body or variant key', () => {
    const bases = ['/a', '/a.b', '/a"].b', `/${'z'.repeat(200)}`].map((r) => key(r));
    const derived = bases.flatMap((base) => [bodyKey(base), variantKey(base, ['accept'], { accept: 'x' })]);
    for (const base of bases) expect(derived).not.toContain(base);
    // A literal base key ends with the JSON array's `]`; what is derived from one never does.
    for (const base of bases.filter((b) => b.startsWith('r:'))) expect(base.endsWith(']')).toBe(true);
    for (const one of derived) expect(one.endsWith(']')).toBe(false);
  });
});
