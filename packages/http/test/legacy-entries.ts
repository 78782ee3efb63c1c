import type { BodyRef, StoredResponse } from '../src/entry';

// The layouts of earlier versions, byte for byte: they read as misses now (entry.ts, store.ts).

/** An entry as version 2 stored it. */
export function legacyV2(sample: StoredResponse): Buffer {
  const text = textOf(sample);
  const fixed = fixedFields(sample, 2, 28);
  fixed.writeUInt32BE(Buffer.byteLength(text, 'latin1'), 24);
  const parts = [fixed, Buffer.from(text, 'latin1')];
  if (sample.tags) parts.push(...tagsOf(sample.tags));
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

/** A head as version 3 stored it (binary; a head written with tags went as `legacyWrapped` of it). */
export function legacyV3Head(sample: Omit<StoredResponse, 'body'>, ref: BodyRef): Buffer {
  const text = textOf(sample);
  const id = Buffer.from(ref.id, 'latin1');
  const fixed = fixedFields(sample, 3, 37);
  fixed.writeDoubleBE(ref.until, 24);
  fixed.writeUInt32BE(Buffer.byteLength(text, 'latin1'), 32);
  fixed[36] = id.length;
  const parts = [fixed, id, Buffer.from(text, 'latin1')];
  if (sample.tags) parts.push(...tagsOf(sample.tags));
  return Buffer.concat(parts);
}

/** A version 3 head as written through a scope or with tags: its bytes in base64. */
export function legacyWrapped(head: Buffer): { t: 'b'; b: string } {
  return { t: 'b', b: head.toString('base64') };
}

// The parts versions 2 and 3 share: the header text, the fixed fields and the tags.
function textOf(sample: Omit<StoredResponse, 'body'>): string {
  let text = sample.gen;
  for (const [name, value] of Object.entries(sample.headers)) {
    for (const one of Array.isArray(value) ? value : [value]) text += `\n${name}\n${one}`;
  }
  return text;
}

function fixedFields(sample: Omit<StoredResponse, 'body'>, version: number, size: number): Buffer {
  const fixed = Buffer.alloc(size);
  fixed[0] = version;
  fixed.writeUInt16BE(sample.status, 1);
  fixed.writeDoubleBE(sample.storedAt, 3);
  fixed.writeDoubleBE(sample.expiresAt, 11);
  fixed.writeUInt32BE(sample.age, 19);
  fixed[23] = (sample.shared ? 1 : 0) | (sample.tags ? 2 : 0);
  return fixed;
}

function tagsOf(tags: string[]): Buffer[] {
  const json = Buffer.from(JSON.stringify(tags));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length);
  return [length, json];
}
