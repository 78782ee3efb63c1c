import type { StoredResponse } from '../src/entry';

// The one-value layouts of earlier versions, byte for byte: they read as misses now (entry.ts, store.ts).

/** An entry as version 2 stored it. */
export function legacyV2(sample: StoredResponse): Buffer {
  let text = sample.gen;
  for (const [name, value] of Object.entries(sample.headers)) {
    for (const one of Array.isArray(value) ? value : [value]) text += `\n${name}\n${one}`;
  }
  const fixed = Buffer.alloc(28);
  fixed[0] = 2;
  fixed.writeUInt16BE(sample.status, 1);
  fixed.writeDoubleBE(sample.storedAt, 3);
  fixed.writeDoubleBE(sample.expiresAt, 11);
  fixed.writeUInt32BE(sample.age, 19);
  fixed[23] = (sample.shared ? 1 : 0) | (sample.tags ? 2 : 0);
  fixed.writeUInt32BE(Buffer.byteLength(text, 'latin1'), 24);
  const parts = [fixed, Buffer.from(text, 'latin1')];
  if (sample.tags) {
    const tags = Buffer.from(JSON.stringify(sample.tags));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(tags.length);
    parts.push(length, tags);
  }
  return Buffer.concat([...parts, sample.body]);
}

/** An entry as version 1 stored it. */
export function legacyV1(sample: StoredResponse): Buffer {
  const meta = Buffer.from(
    JSON.stringify({
      s: sample.status,
      h: sample.headers,
      at: sample.storedAt,
      exp: sample.expiresAt,
      age: sample.age,
      sh: sample.shared ? 1 : 0,
      g: sample.gen,
    }),
  );
  const fixed = Buffer.alloc(5);
  fixed[0] = 1;
  fixed.writeUInt32BE(meta.length, 1);
  return Buffer.concat([fixed, meta, sample.body]);
}
