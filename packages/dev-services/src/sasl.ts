import { writeFile } from 'node:fs/promises';
import { requireBinary } from './binaries';
import { runToCompletion } from './process';

/** SASL credentials for memcached `-S`. */
export interface SaslCredentials {
  /** SASL user name. */
  username: string;
  /** SASL password. */
  password: string;
}

/**
 * Writes `<dir>/memcached.conf` (`mech_list: plain`, `sasldb_path: <dir>/sasldb2`) and creates the user with
 * saslpasswd2. memcached then needs `SASL_CONF_PATH=<dir>` in its environment. Returns that environment.
 */
export async function prepareSasl(dir: string, credentials: SaslCredentials): Promise<NodeJS.ProcessEnv> {
  const saslpasswd2 = requireBinary('saslpasswd2');
  const db = `${dir}/sasldb2`;
  await writeFile(`${dir}/memcached.conf`, `mech_list: plain\nsasldb_path: ${db}\n`);
  // -p reads the password from stdin without a trailing newline; -a memcached is the app name cyrus-sasl looks up.
  await runToCompletion(saslpasswd2, ['-a', 'memcached', '-c', '-p', '-f', db, credentials.username], {
    input: credentials.password,
  });
  return { SASL_CONF_PATH: dir };
}
