import { inspect } from 'node:util';

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

/** Everything a logger could print of `value`: `util.inspect` (depth 10, hidden fields), `String` and JSON. */
export function printed(value: unknown): string {
  let json = '';
  try {
    json = JSON.stringify(value) ?? '';
  } catch {
    // Cycles and BigInts: inspect covers them.
  }
  return `${inspect(value, { depth: 10, showHidden: true })}\n${String(value)}\n${json}`;
}

/** Lines written through `console` while capturing (they are still printed). */
export interface ConsoleCapture {
  readonly lines: string[];
  /** Puts the original console methods back. */
  restore(): void;
}

/** Records every `console.log/info/warn/error/debug/trace` call as the line it prints. */
export function captureConsole(): ConsoleCapture {
  const lines: string[] = [];
  const originals = CONSOLE_METHODS.map((name) => [name, console[name]] as const);
  for (const [name, original] of originals) {
    console[name] = (...args: unknown[]) => {
      lines.push(args.map((arg) => printed(arg)).join(' '));
      original.apply(console, args);
    };
  }
  return {
    lines,
    restore: () => {
      for (const [name, original] of originals) console[name] = original;
    },
  };
}

/** The secrets found in what `items` print, each with the first item (as printed, shortened) that shows it. */
export function secretLeaks(items: readonly unknown[], secrets: readonly string[]): string[] {
  const texts = items.map(printed);
  const leaks: string[] = [];
  for (const secret of secrets) {
    const at = texts.find((text) => text.includes(secret));
    if (at !== undefined) leaks.push(`'${secret}' in: ${at.slice(0, 500)}`);
  }
  return leaks;
}
