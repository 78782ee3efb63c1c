/** `SCAN MATCH` pattern for keys starting with `prefix` (glob characters escaped). */
export function scanPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
}
