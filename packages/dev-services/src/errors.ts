/** The one apt-get line that installs every binary dev-services can start. */
export const INSTALL_HINT =
  'apt-get install redis-server redis-sentinel memcached sasl2-bin openjdk-17-jre-headless openssl' +
  ' (with --no-install-recommends add libsasl2-modules, which has the SASL PLAIN mechanism)';

/** Which Debian package provides each binary dev-services runs. */
export const BINARY_PACKAGES: Record<string, string> = {
  'redis-server': 'redis-server',
  'redis-sentinel': 'redis-sentinel',
  'redis-cli': 'redis-tools (pulled in by redis-server)',
  memcached: 'memcached',
  java: 'openjdk-17-jre-headless',
  openssl: 'openssl',
  saslpasswd2: 'sasl2-bin',
};

/** A binary a service needs is not installed (the message says what to install). */
export class MissingBinaryError extends Error {
  /** The binary that was looked for, e.g. `redis-server`. */
  readonly binary: string;
  constructor(binary: string) {
    const pkg = BINARY_PACKAGES[binary] ?? binary;
    super(
      `dev-services: '${binary}' was not found on PATH. Install the Debian package ${pkg} ` +
        `(all of them at once: ${INSTALL_HINT}).`,
    );
    this.name = 'MissingBinaryError';
    this.binary = binary;
  }
}

/** A service did not become ready (the message carries the last lines of its log). */
export class ServiceStartError extends Error {
  /** The last lines of the service's stdout/stderr. */
  readonly logTail: string;
  constructor(message: string, logTail = '', options?: { cause?: unknown }) {
    super(logTail ? `${message}\n--- last log lines ---\n${logTail}` : message, options);
    this.name = 'ServiceStartError';
    this.logTail = logTail;
  }
}

/** The installed binary cannot do what was asked (e.g. a redis-server built without TLS). */
export class UnsupportedFeatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedFeatureError';
  }
}
