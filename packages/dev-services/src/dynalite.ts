import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { DynamoDbEndpoint } from './dynamodb-local';
import { findFreePort } from './ports';
import { ManagedProcess, PortInUseError, startOnFreePort } from './process';
import { dynamoDbRequest } from './sigv4';
import { waitFor } from './wait';

/** Options of startDynalite. */
export interface StartDynaliteOptions {
  /** Port (default: a free one in [20000, 30000)). */
  port?: number;
  /** Run `dynalite` as a child process (killable by PID) instead of in this process (default false). */
  childProcess?: boolean;
  /** How long tables stay CREATING/DELETING/UPDATING (default 0 for fast tests; dynalite's own default is 500). */
  tableStatusMs?: number;
  /** Item size limit in KB (default 400, as DynamoDB). */
  maxItemSizeKb?: number;
}

/** A running dynalite server (DynamoDB API in pure JS; no TTL API, no transactions). */
export type Dynalite = DynamoDbEndpoint;

const requireHere = createRequire(typeof __filename === 'string' ? __filename : import.meta.url);

/** Starts dynalite on a free loopback port; ready once a signed ListTables succeeds. */
export async function startDynalite(options: StartDynaliteOptions = {}): Promise<Dynalite> {
  const statusMs = options.tableStatusMs ?? 0;
  const common = {
    region: 'us-east-1',
    credentials: { accessKeyId: 'larderlocal', secretAccessKey: 'larderlocal' },
    host: '127.0.0.1',
  };
  if (options.childProcess) {
    const cli = join(dirname(requireHere.resolve('dynalite/package.json')), 'cli.js');
    const proc = await startOnFreePort(
      () => findFreePort(),
      (port) =>
        new ManagedProcess({
          name: `dynalite:${port}`,
          command: process.execPath,
          args: [
            cli,
            '--port',
            String(port),
            '--host',
            '127.0.0.1',
            '--createTableMs',
            String(statusMs),
            '--deleteTableMs',
            String(statusMs),
            '--updateTableMs',
            String(statusMs),
            '--maxItemSizeKb',
            String(options.maxItemSizeKb ?? 400),
          ],
          host: '127.0.0.1',
          port,
          ready: async () =>
            Array.isArray(
              (await dynamoDbRequest({ endpoint: `http://127.0.0.1:${port}`, action: 'ListTables' })).TableNames,
            ),
        }).start(),
      options.port,
    );
    return {
      ...common,
      endpoint: `http://127.0.0.1:${proc.port}`,
      port: proc.port,
      get pid() {
        return proc.pid;
      },
      stop: () => proc.stop(),
    };
  }
  const { default: dynalite } = await import('dynalite');
  const server: Server = await startOnFreePort(
    () => findFreePort(),
    (port) =>
      new Promise<Server>((resolve, reject) => {
        const s = dynalite({
          createTableMs: statusMs,
          deleteTableMs: statusMs,
          updateTableMs: statusMs,
          maxItemSizeKb: options.maxItemSizeKb ?? 400,
        });
        s.once('error', (error: NodeJS.ErrnoException) =>
          reject(error.code === 'EADDRINUSE' ? new PortInUseError(`dynalite: port ${port} is in use`) : error),
        );
        s.listen(port, '127.0.0.1', () => resolve(s));
      }),
    options.port,
  );
  server.unref();
  const port = (server.address() as { port: number }).port;
  const endpoint = `http://127.0.0.1:${port}`;
  await dynamoDbRequest({ endpoint, action: 'ListTables' });
  return {
    ...common,
    endpoint,
    port,
    pid: undefined,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}

/**
 * Resolves once `tableName` is ACTIVE. Needed after CreateTable on either server: it answers while
 * the table is still CREATING (dynalite for at least one tick even with `tableStatusMs` 0, longer
 * on a loaded machine), and a PutItem in that window fails with ResourceNotFoundException.
 */
export async function waitForActiveTable(endpoint: string, tableName: string): Promise<void> {
  await waitFor(
    async () => {
      const described = await dynamoDbRequest<{ Table: { TableStatus: string } }>({
        endpoint,
        action: 'DescribeTable',
        body: { TableName: tableName },
      });
      return described.Table.TableStatus === 'ACTIVE';
    },
    { description: `table ${tableName} ACTIVE`, intervalMs: 10 },
  );
}
