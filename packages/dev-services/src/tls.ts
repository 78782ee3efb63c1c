import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireBinary } from './binaries';
import { runToCompletion } from './process';

/** PEM files of a throw-away test PKI (all paths absolute). */
export interface TestCertificates {
  /** CA certificate to trust in clients. */
  caPath: string;
  /** Server certificate (CN=localhost, SAN localhost + 127.0.0.1 + ::1), signed by the CA. */
  certPath: string;
  /** Server private key. */
  keyPath: string;
  /** A client certificate signed by the same CA (for mutual TLS). */
  clientCertPath: string;
  /** The client certificate's key. */
  clientKeyPath: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Generates a CA and a server + client certificate with the `openssl` CLI into `dir`. */
export async function generateTestCertificates(dir: string): Promise<TestCertificates> {
  const openssl = requireBinary('openssl');
  const p = (name: string) => join(dir, name);
  await runToCompletion(openssl, [
    'req',
    '-x509',
    ...EC,
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.crt'),
    '-days',
    '3650',
    '-subj',
    '/CN=larder dev-services test CA',
  ]);
  await writeFile(
    p('server.ext'),
    'basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  await writeFile(p('client.ext'), 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [
    ['server', 'localhost'],
    ['client', 'larder-client'],
  ] as const) {
    await runToCompletion(openssl, [
      'req',
      '-new',
      ...EC,
      '-keyout',
      p(`${name}.key`),
      '-out',
      p(`${name}.csr`),
      '-subj',
      `/CN=${cn}`,
    ]);
    await runToCompletion(openssl, [
      'x509',
      '-req',
      '-in',
      p(`${name}.csr`),
      '-CA',
      p('ca.crt'),
      '-CAkey',
      p('ca.key'),
      '-CAcreateserial',
      '-out',
      p(`${name}.crt`),
      '-days',
      '3650',
      '-extfile',
      p(`${name}.ext`),
    ]);
  }
  return {
    caPath: p('ca.crt'),
    certPath: p('server.crt'),
    keyPath: p('server.key'),
    clientCertPath: p('client.crt'),
    clientKeyPath: p('client.key'),
  };
}
