/**
 * Stored entries and what they hold: the test vectors of the stored entry format (core's
 * `ENTRY_FORMAT`, exported by `@larder/core/driver`). Every reader of the format checks itself
 * against this one table: core's TypeScript parser, the Redis scripts. The stored strings are
 * written out mark by mark (not built from `ENTRY_FORMAT`), so a change of the format shows here.
 */
export interface EntryVector {
  readonly name: string;
  /** The payload as the store holds it (text). */
  readonly stored: string;
  /** The header's write time (epoch ms), `undefined` without a header. */
  readonly writtenAt: number | undefined;
  /** The header's expiry (epoch ms), `undefined` without a header or without an expiry. */
  readonly expiresAt: number | undefined;
  /** The tags the entry recorded, in stored order (empty when untagged). */
  readonly tags: readonly string[];
  /** The counter version each tag recorded. */
  readonly versions: readonly number[];
  /** The JSON text after the header and the tag section. */
  readonly body: string;
  /** The value the entry holds (a graced entry's `v`). */
  readonly value: unknown;
  /** A graced entry's logical expiry (epoch ms), `undefined` for a plain entry. */
  readonly grace: number | undefined;
  /** The logical expiry is the header's third field (codecs other than JSON), not inside the body. */
  readonly graceInHeader?: true;
}

// 2025-11-24T16:00:00Z and a minute later, in base 36 as headers carry them.
const T = 1764000000000;
const T36 = T.toString(36);
const E = T + 60_000;
const E36 = E.toString(36);
const H = `\u0001${T36},${E36}\u0001`;
const V = 2 ** 20 * 3; // a counter's first version: a random epoch of HARD_STEP (2^20)

/** The stored entry format's vectors (see `EntryVector`). */
export const ENTRY_VECTORS: readonly EntryVector[] = [
  {
    name: 'plain JSON without a header (an earlier version, another writer)',
    stored: '"hello"',
    writtenAt: undefined,
    expiresAt: undefined,
    tags: [],
    versions: [],
    body: '"hello"',
    value: 'hello',
    grace: undefined,
  },
  {
    name: 'a counter increment made (plain decimal text)',
    stored: '42',
    writtenAt: undefined,
    expiresAt: undefined,
    tags: [],
    versions: [],
    body: '42',
    value: 42,
    grace: undefined,
  },
  {
    name: 'header with an expiry',
    stored: `${H}{"n":1,"s":"x"}`,
    writtenAt: T,
    expiresAt: E,
    tags: [],
    versions: [],
    body: '{"n":1,"s":"x"}',
    value: { n: 1, s: 'x' },
    grace: undefined,
  },
  {
    name: 'header without an expiry (forever)',
    stored: `\u0001${T36},\u0001[1,2,3]`,
    writtenAt: T,
    expiresAt: undefined,
    tags: [],
    versions: [],
    body: '[1,2,3]',
    value: [1, 2, 3],
    grace: undefined,
  },
  {
    name: 'control characters in the value are JSON escapes, never raw marks',
    stored: `${H}"\\u0001\\u0002\\u0003\\u0004"`,
    writtenAt: T,
    expiresAt: E,
    tags: [],
    versions: [],
    body: '"\\u0001\\u0002\\u0003\\u0004"',
    value: '\u0001\u0002\u0003\u0004',
    grace: undefined,
  },
  {
    name: 'one tag',
    stored: `${H}\u0002users\u0003${V}\u0002{"id":7}`,
    writtenAt: T,
    expiresAt: E,
    tags: ['users'],
    versions: [V],
    body: '{"id":7}',
    value: { id: 7 },
    grace: undefined,
  },
  {
    name: 'three tags, sorted, with non-ASCII, spaces and punctuation, and versions past soft bumps',
    stored: `${H}\u0002a b\u0003${V + 5}\u0004user:1{x}\u0003${2 ** 20 * 4_000_000_000 + 1}\u0004é✓\u0003${V}\u0002"v"`,
    writtenAt: T,
    expiresAt: E,
    tags: ['a b', 'user:1{x}', 'é✓'],
    versions: [V + 5, 2 ** 20 * 4_000_000_000 + 1, V],
    body: '"v"',
    value: 'v',
    grace: undefined,
  },
  {
    name: 'a graced entry (remember with grace), tagged, without an expiry',
    stored: `\u0001${T36},\u0001\u0002t\u0003${V}\u0002{"\\u0000grace":${E},"v":{"ok":true}}`,
    writtenAt: T,
    expiresAt: undefined,
    tags: ['t'],
    versions: [V],
    body: `{"\\u0000grace":${E},"v":{"ok":true}}`,
    value: { ok: true },
    grace: E,
  },
  {
    name: "another codec's graced entry, tagged: its logical expiry the header's third field, the body the value alone",
    stored: `\u0001${T36},${E36},${(E - 30_000).toString(36)}\u0001\u0002t\u0003${V}\u0002{"ok":true}`,
    writtenAt: T,
    expiresAt: E,
    tags: ['t'],
    versions: [V],
    body: '{"ok":true}',
    value: { ok: true },
    grace: E - 30_000,
    graceInHeader: true,
  },
  {
    name: 'a tag section in the JSON text is not one (it follows no header)',
    stored: '"\\u0002t\\u00031\\u0002"',
    writtenAt: undefined,
    expiresAt: undefined,
    tags: [],
    versions: [],
    body: '"\\u0002t\\u00031\\u0002"',
    value: '\u0002t\u00031\u0002',
    grace: undefined,
  },
];
