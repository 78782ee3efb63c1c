/** A start-up failure as one block of text for the console: what went wrong and what to do, never a stack (larder's errors come redacted). */
export function startupFailure(error: unknown, port: number): string {
  const e = (error ?? {}) as { code?: unknown; message?: unknown; variable?: unknown; syscall?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(error);
  if (e.code === 'EADDRINUSE') {
    return block(`port ${port} is already in use (EADDRINUSE): another program is listening there.`, [
      `Stop that program, or start on another port: PORT=${port + 1} pnpm example`,
    ]);
  }
  if (e.code === 'EACCES' && e.syscall === 'listen') {
    return block(`not allowed to listen on port ${port} (EACCES): ports below 1024 need privileges.`, [
      'Use a port from 1024 up, e.g. PORT=3000.',
    ]);
  }
  if (e.code === 'E_CONFIG') {
    const variable = typeof e.variable === 'string' ? e.variable : undefined;
    return block(`invalid configuration: ${message}`, [
      variable ? `Fix ${variable} (or unset it for the default).` : 'Fix the configuration.',
      'The variables and their defaults: examples/express-app/README.md.',
    ]);
  }
  const code = typeof e.code === 'string' ? ` (${e.code})` : '';
  return block(`${message}${code}`, []);
}

/** `PORT` as a TCP port, or a start-up failure text when it is not one. */
export function portFrom(value: string | undefined): number | string {
  if (value === undefined || value.trim() === '') return 3000;
  const port = Number(value);
  if (Number.isInteger(port) && port >= 0 && port <= 65535) return port;
  return block(`invalid configuration: PORT='${value}' is not a TCP port.`, ['Set PORT to a number from 1 to 65535.']);
}

function block(headline: string, advice: string[]): string {
  return [`larder example could not start: ${headline}`, ...advice.map((line) => `  ${line}`)].join('\n');
}
