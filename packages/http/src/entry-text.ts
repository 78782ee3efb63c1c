// The header text of a stored response: latin1 `gen\nname\nvalue\n...`, decoded by a hit with one
// split and no JSON. Header values are latin1 without line breaks (Node refuses anything else in
// a header, and a Web `Headers` value is a ByteString), so `\n` separates them.

/** `gen\nname\nvalue...` in latin1, or `undefined` when a part cannot be written so. */
export function flatText(gen: string, headers: Record<string, string | string[]>): string | undefined {
  if (!plain(gen)) return undefined;
  let text = gen;
  for (const name in headers) {
    const value = headers[name] as string | string[];
    if (!plain(name)) return undefined;
    for (const one of Array.isArray(value) ? value : [value]) {
      if (!plain(one)) return undefined;
      text += `\n${name}\n${one}`;
    }
  }
  return text;
}

/** The generation and headers `flatText` wrote; `undefined` for an odd split. */
export function parseFlatText(text: string): { gen: string; headers: Record<string, string | string[]> } | undefined {
  const parts = text.split('\n');
  if (parts.length % 2 !== 1) return undefined;
  const headers: Record<string, string | string[]> = {};
  for (let i = 1; i < parts.length; i += 2) {
    const name = parts[i] as string;
    const value = parts[i + 1] as string;
    const before = headers[name];
    if (before === undefined) headers[name] = value;
    else if (Array.isArray(before)) before.push(value);
    else headers[name] = [before, value];
  }
  return { gen: parts[0] as string, headers };
}

/** Reads the JSON tags a flag-2 entry keeps at `at` (`[u32 length][JSON]`): the tags and the offset after them. */
export function readTags(bytes: Buffer, at: number): { tags: string[]; end: number } | undefined {
  if (at + 4 > bytes.length) return undefined;
  const length = bytes.readUInt32BE(at);
  const end = at + 4 + length;
  if (end > bytes.length) return undefined;
  try {
    return { tags: JSON.parse(bytes.toString('utf8', at + 4, end)) as string[], end };
  } catch {
    return undefined;
  }
}

// Latin1 without a line break.
function plain(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c > 0xff) return false;
  }
  return true;
}
