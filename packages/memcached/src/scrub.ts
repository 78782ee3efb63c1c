import { secretList } from '@larder/core/driver';

const MIN_SECRET_LENGTH = 3;

/**
 * The SASL credentials to keep out of errors, for core's `scrubError`/`scrubText`: an injected
 * client, or a future memjs, may attach its SASL frame or options to an error.
 */
export function secretsOf(options: { username?: string | undefined; password?: string | undefined }): string[] {
  return secretList([options.password, options.username], MIN_SECRET_LENGTH);
}
