import { redactText } from '@larder/core/driver';

/** Where a command reads its environment and writes its output (process.* in the bin, buffers in tests). */
export interface CliIo {
  /** Environment the command reads, like the app would (`configFromEnv`). */
  env: Readonly<Record<string, string | undefined>>;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** Exit codes. */
export const EXIT_OK = 0;
/** A check or an operation failed. */
export const EXIT_FAILURE = 1;
/** Bad usage or invalid configuration. */
export const EXIT_USAGE = 2;

/** Line writers that redact secrets (URL passwords, secret query parameters) from everything printed. */
export function printer(io: CliIo): { out(line?: string): void; err(line?: string): void } {
  return {
    out: (line = '') => void io.stdout.write(`${redactText(line)}\n`),
    err: (line = '') => void io.stderr.write(`${redactText(line)}\n`),
  };
}

/** Message of an error, with its code when it has one, secrets redacted. */
export function describeError(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown; cause?: { message?: unknown } } | null;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  const cause =
    typeof e?.cause?.message === 'string' && !message.includes(e.cause.message) ? ` (${e.cause.message})` : '';
  const code = typeof e?.code === 'string' ? `${e.code}: ` : '';
  return redactText(`${code}${message}${cause}`);
}

/** The error of a call that did not answer in time, for core's `withTimeout`. */
export function didNotAnswer(what: string, ms: number): () => Error {
  return () => new Error(`${what} did not answer within ${ms}ms`);
}

/**
 * Parses a command's argv. On a parse error prints it and the command's help to stderr and returns EXIT_USAGE;
 * on --help prints the help to stdout and returns EXIT_OK; otherwise returns the parsed arguments.
 */
export function parseCommandArgs<T extends { values: { help?: boolean } }>(
  argv: string[],
  parse: (argv: string[]) => T,
  help: string,
  io: CliIo,
): T | number {
  const { out, err } = printer(io);
  let parsed: T;
  try {
    parsed = parse(argv);
  } catch (error) {
    err(describeError(error));
    err(help);
    return EXIT_USAGE;
  }
  if (parsed.values.help) {
    out(help);
    return EXIT_OK;
  }
  return parsed;
}
