import { Memo } from './memo';

// RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms a recipient must accept.
const HTTP_DATE = [
  /^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
  /^[A-Za-z]{6,9}, \d{2}-[A-Za-z]{3}-\d{2} \d{2}:\d{2}:\d{2} GMT$/,
  /^[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/,
];

/** `httpDate` without the memo. */
function parseHttpDate(text: string): number {
  const trimmed = text.trim();
  return HTTP_DATE.some((form) => form.test(trimmed))
    ? Date.parse(trimmed.endsWith('GMT') ? trimmed : `${trimmed} GMT`)
    : Number.NaN;
}

const PARSED = new Memo<string, number>(256);

/**
 * Epoch ms of an HTTP-date, or NaN (`Date.parse` alone reads `'0'` as the year 2000). The texts
 * read last are kept: a stored response's `Date` is read again on each of its hits.
 */
export function httpDate(text: string): number {
  // A date is 29 characters: a longer text (a client's header) is not kept.
  if (text.length > 40) return parseHttpDate(text);
  return PARSED.get(text) ?? PARSED.keep(text, parseHttpDate(text));
}

let lastSecond = Number.NaN;
let lastText = '';

/** The IMF-fixdate of epoch ms `at` (`Date#toUTCString`), made once per second of the clock. */
export function imfDate(at: number): string {
  const second = Math.floor(at / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    lastText = new Date(at).toUTCString();
  }
  return lastText;
}
