import { redactText } from '@larder/core/driver';

/** A failure as an operator reads it. */
export interface HealthProblem {
  /** larder's error code (`E_BACKEND`, `E_TIMEOUT`, `E_CONFIG`, ...), or `E_CHECK` for a check of the CLI's own. */
  code: string;
  /** The cause in words and what to check; never a secret. */
  message: string;
}

// A timeout says only that nothing came back; these are the usual reasons.
const NO_ANSWER =
  'is the server frozen (stopped, swapping, a long-running command), overloaded, or unreachable (packets dropped)? Check it runs and the network path to it';

/**
 * The problem an error stands for. Drivers word their errors (cause and what to check), so a
 * larder error's own message is used, without its client-level cause (ioredis' "max retries",
 * an SDK stack); a timeout gets the usual reasons added.
 */
export function problemOf(error: unknown): HealthProblem {
  const e = (error ?? {}) as { code?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(error);
  const code = typeof e.code === 'string' && e.code.startsWith('E_') ? e.code : undefined;
  if (code === 'E_TIMEOUT' || / did not answer within \d+ms$/.test(message)) {
    return { code: 'E_TIMEOUT', message: redactText(`${message}: ${NO_ANSWER}`) };
  }
  return { code: code ?? 'E_CHECK', message: redactText(message) };
}
