import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Replayed } from '../replay';

/** A Web request's headers as the rules read them: lower-case names, one value each (Headers joins repeats). */
export function requestHeaders(headers: Headers): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  headers.forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

/** A Web response's headers as the rules read them; `Set-Cookie` kept as its list. */
export function responseHeaders(headers: Headers): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  headers.forEach((value, name) => {
    if (name !== 'set-cookie') out[name] = value;
  });
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) out['set-cookie'] = cookies;
  return out;
}

/** `Headers` from a record (lists as repeated fields). */
export function toHeaders(record: Record<string, unknown>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(record)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, String(one));
  }
  return headers;
}

/** A Web `Response` of a replayed entry. */
export function replayedResponse(answer: Replayed): Response {
  const headers = toHeaders(answer.stored);
  for (const name of answer.removed) headers.delete(name);
  for (const name in answer.added) headers.set(name, answer.added[name] as string);
  // The body as it is: a `Response` copies a view's bytes itself (a copy here would be a second).
  return new Response(answer.body === undefined ? null : (answer.body as Uint8Array<ArrayBuffer>), {
    status: answer.status,
    headers,
  });
}

/** `response` with `set` headers added, on a copy whose headers may be changed. */
export function withHeaders(response: Response, set: Record<string, string>): Response {
  const copy = new Response(response.body, response);
  for (const [name, value] of Object.entries(set)) copy.headers.set(name, value);
  return copy;
}

/** The body read up to `max` bytes: `whole` when it ended within them, else a stream of all of it. */
export async function readUpTo(
  body: ReadableStream<Uint8Array> | null,
  max: number,
): Promise<{ whole: Buffer } | { stream: ReadableStream<Uint8Array> }> {
  if (body === null) return { whole: Buffer.alloc(0) };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { whole: Buffer.concat(chunks, size) };
    chunks.push(value);
    size += value.byteLength;
    if (size > max) break;
  }
  // Too large to keep: what was read, then the rest as it comes.
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return { stream };
}
