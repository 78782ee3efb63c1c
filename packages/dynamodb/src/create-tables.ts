import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type TableDescription,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BackendError, ConfigError, isLarderError } from '@larder/core';
import { asLowLevelClient, buildClient } from './client';
import { DEFAULT_ATTRIBUTES, type DynamoDbCredentials } from './options';
import { scrubError, secretsOf } from './scrub';

/** One table to provision. */
export interface TableSpec {
  /** Table name, e.g. 'CacheTable' or 'SessionTable'. */
  name: string;
  /** Attribute names; only `key` and `expiration` (alias `ttl`) matter for provisioning. @default { key: 'id', expiration: 'expires_at' } */
  attributes?: { key?: string; value?: string; expiration?: string; ttl?: string };
}

/** Step reported through `onProgress`. */
export type ProgressPhase =
  | 'checking'
  | 'creating'
  | 'exists'
  | 'waiting'
  | 'active'
  | 'ttl-checking'
  | 'ttl-enabling'
  | 'ttl-enabled'
  | 'ttl-unsupported';

/** A progress event, for a CLI to print. */
export interface ProgressEvent {
  /** Table the event is about. */
  table: string;
  /** What is happening. */
  phase: ProgressPhase;
  /** One human-readable line. */
  message: string;
  /** Table status from DescribeTable when known (CREATING, ACTIVE, ...). */
  status?: string;
  /** Milliseconds since this table's provisioning started. */
  elapsedMs: number;
}

/** What was done to one table. */
export interface TableReport {
  /** Table name. */
  table: string;
  /** True when this call created the table; false when it already existed. */
  created: boolean;
  /** Final table status (ACTIVE). */
  status: string;
  /** Partition key attribute (type S). */
  keyAttribute: string;
  /** TTL attribute. */
  ttlAttribute: string;
  /** `enabled` = this call enabled TTL; `already-enabled` = it was on (or ENABLING); `unsupported` = the server lacks the TTL API (dynalite). */
  ttl: 'enabled' | 'already-enabled' | 'unsupported';
  /** Human-readable lines of what was done, in order. */
  actions: string[];
}

/** Result of `createTables`. */
export interface CreateTablesReport {
  /** One report per table, in the order given. */
  tables: TableReport[];
}

/** Options of `ensureTable`. */
export interface EnsureTableOptions {
  /** Called on every step (and every poll while waiting for ACTIVE). */
  onProgress?: (event: ProgressEvent) => void;
  /** Give up waiting for ACTIVE after this long, ms. @default 300_000 */
  timeoutMs?: number;
  /** DescribeTable poll interval while waiting, ms. @default 1000 */
  pollIntervalMs?: number;
}

/** Options of `createTables`. Give `client`, or `endpoint`/`region`/`credentials` (default AWS chain). */
export interface CreateTablesOptions extends EnsureTableOptions {
  /** The tables to provision. */
  tables: TableSpec[];
  /** A ready client (not closed afterwards). */
  client?: DynamoDBClient | DynamoDBDocumentClient;
  /** Endpoint URL when no client is given (e.g. DynamoDB Local). @default env DYNAMODB_ENDPOINT */
  endpoint?: string;
  /** Region when no client is given. @default env AWS_REGION / AWS_DEFAULT_REGION, else 'us-east-1' */
  region?: string;
  /** Static credentials when no client is given; omitted = AWS default chain. */
  credentials?: DynamoDbCredentials;
}

/**
 * Creates each table (string partition key, on-demand billing) unless it exists, waits until it
 * is ACTIVE, then enables TTL on its expiry attribute, checking DescribeTimeToLive first.
 * Idempotent: a second run changes nothing and reports so. Tables are provisioned concurrently.
 */
export async function createTables(options: CreateTablesOptions): Promise<CreateTablesReport> {
  const ownClient = options.client
    ? undefined
    : buildClient({
        region: options.region ?? (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1'),
        endpoint: options.endpoint ?? (process.env.DYNAMODB_ENDPOINT || undefined),
        credentials: options.credentials,
        requestTimeoutMs: 10_000,
        connectionTimeoutMs: 3000,
      });
  const client = ownClient ?? asLowLevelClient(options.client as DynamoDBClient);
  try {
    const tables = await Promise.all(options.tables.map((spec) => ensureTable(client, spec, options)));
    return { tables };
  } finally {
    ownClient?.destroy();
  }
}

/** Provisions one table (see `createTables`) with a ready client and returns what it did. */
export async function ensureTable(
  clientIn: DynamoDBClient | DynamoDBDocumentClient,
  spec: TableSpec,
  options: EnsureTableOptions = {},
): Promise<TableReport> {
  const client = asLowLevelClient(clientIn);
  const table = spec.name;
  const keyAttribute = spec.attributes?.key ?? DEFAULT_ATTRIBUTES.key;
  const ttlAttribute = spec.attributes?.expiration ?? spec.attributes?.ttl ?? DEFAULT_ATTRIBUTES.expiration;
  const started = Date.now();
  const actions: string[] = [];
  const progress = (phase: ProgressPhase, message: string, status?: string) =>
    options.onProgress?.({ table, phase, message, elapsedMs: Date.now() - started, ...(status ? { status } : {}) });
  // The SDK error carries the raw HTTP response (signed headers): wrap a scrubbed copy.
  const secrets = secretsOf((options as CreateTablesOptions).credentials);
  const fail = (step: string, error: unknown) => {
    const cause = scrubError(error, secrets);
    return new BackendError(`dynamodb: ${step} of table '${table}' failed: ${cause.message}`, 'dynamodb', { cause });
  };

  progress('checking', `checking table ${table}`);
  let description = await describe(client, table).catch((error) => {
    throw fail('DescribeTable', error);
  });
  let created = false;
  if (description) {
    checkKeySchema(description, table, keyAttribute);
    progress('exists', `table ${table} exists (${description.TableStatus})`, description.TableStatus);
    actions.push(`table ${table} already exists`);
  } else {
    progress('creating', `creating table ${table} (partition key ${keyAttribute}: S, on-demand billing)`);
    try {
      await client.send(
        new CreateTableCommand({
          TableName: table,
          AttributeDefinitions: [{ AttributeName: keyAttribute, AttributeType: 'S' }],
          KeySchema: [{ AttributeName: keyAttribute, KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      created = true;
      actions.push(`created table ${table} (partition key ${keyAttribute}: S, on-demand billing)`);
    } catch (error) {
      // Someone else created it between our DescribeTable and CreateTable: that is fine.
      if ((error as Error).name !== 'ResourceInUseException') throw fail('CreateTable', error);
      actions.push(`table ${table} already exists`);
    }
  }

  const timeoutMs = options.timeoutMs ?? 300_000;
  const pollMs = options.pollIntervalMs ?? 1000;
  description = await describe(client, table);
  while (description?.TableStatus !== 'ACTIVE') {
    if (Date.now() - started > timeoutMs) {
      throw new BackendError(
        `dynamodb: table '${table}' is not ACTIVE after ${timeoutMs}ms (status ${description?.TableStatus ?? 'missing'})`,
        'dynamodb',
        { code: 'E_TIMEOUT' },
      );
    }
    const status = description?.TableStatus ?? 'CREATING';
    progress('waiting', `waiting for ${table} to become ACTIVE (now ${status})`, status);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    description = await describe(client, table).catch((error) => {
      throw fail('DescribeTable', error);
    });
  }
  progress('active', `table ${table} is ACTIVE`, 'ACTIVE');

  const ttl = await enableTtl(client, table, ttlAttribute, progress, actions).catch((error) => {
    throw isLarderError(error, 'E_CONFIG') ? error : fail('TTL set-up', error);
  });
  return { table, created, status: 'ACTIVE', keyAttribute, ttlAttribute, ttl, actions };
}

async function describe(client: DynamoDBClient, table: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: table }))).Table;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

function checkKeySchema(description: TableDescription, table: string, keyAttribute: string): void {
  const schema = description.KeySchema ?? [];
  const hash = schema.find((k) => k.KeyType === 'HASH');
  const type = description.AttributeDefinitions?.find((a) => a.AttributeName === hash?.AttributeName)?.AttributeType;
  if (schema.length !== 1 || hash?.AttributeName !== keyAttribute || type !== 'S') {
    const found = schema.map((k) => `${k.AttributeName} (${k.KeyType})`).join(', ');
    throw new ConfigError(
      `dynamodb: table '${table}' exists with key schema [${found}]; larder needs a single string partition key '${keyAttribute}'`,
      'attributes.key',
    );
  }
}

async function enableTtl(
  client: DynamoDBClient,
  table: string,
  attribute: string,
  progress: (phase: ProgressPhase, message: string, status?: string) => void,
  actions: string[],
): Promise<TableReport['ttl']> {
  progress('ttl-checking', `checking TTL of ${table}`);
  let current: { TimeToLiveStatus?: string; AttributeName?: string } | undefined;
  try {
    current = (await client.send(new DescribeTimeToLiveCommand({ TableName: table }))).TimeToLiveDescription;
  } catch (error) {
    if (!isUnsupported(error)) throw error;
    return unsupported(table, progress, actions);
  }
  const status = current?.TimeToLiveStatus ?? 'DISABLED';
  if (status === 'ENABLED' || status === 'ENABLING') {
    if (current?.AttributeName !== attribute) {
      throw new ConfigError(
        `dynamodb: TTL of table '${table}' is on attribute '${current?.AttributeName}', not '${attribute}'; ` +
          `set attributes.expiration to '${current?.AttributeName}' or change the table's TTL attribute`,
        'attributes.expiration',
      );
    }
    progress('ttl-enabled', `TTL already ${status} on ${table}.${attribute}`, status);
    actions.push(`TTL already ${status.toLowerCase()} on ${attribute}`);
    return 'already-enabled';
  }
  if (status === 'DISABLING') {
    throw new BackendError(
      `dynamodb: TTL of table '${table}' is being disabled (DISABLING); DynamoDB refuses changes until that ends (up to an hour); run again later`,
      'dynamodb',
    );
  }
  progress('ttl-enabling', `enabling TTL on ${table}.${attribute}`);
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: table,
        TimeToLiveSpecification: { Enabled: true, AttributeName: attribute },
      }),
    );
  } catch (error) {
    if (!isUnsupported(error)) throw error;
    return unsupported(table, progress, actions);
  }
  progress('ttl-enabled', `TTL enabled on ${table}.${attribute}`, 'ENABLED');
  actions.push(`enabled TTL on ${attribute}`);
  return 'enabled';
}

// dynalite has no UpdateTimeToLive; reads filter expired items anyway, so it is not fatal.
function isUnsupported(error: unknown): boolean {
  const name = (error as Error).name;
  return name === 'UnknownOperationException' || name === 'UnrecognizedClientException';
}

function unsupported(
  table: string,
  progress: (phase: ProgressPhase, message: string) => void,
  actions: string[],
): TableReport['ttl'] {
  progress('ttl-unsupported', `this server has no TTL API; ${table} keeps expired items (larder still hides them)`);
  actions.push('TTL not supported by this server (skipped)');
  return 'unsupported';
}
