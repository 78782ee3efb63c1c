import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConfigError, type Ttl } from '@larder/core';
import { type CommonStoreOptions, envReader, parseTtl } from '@larder/core/driver';
import { dynamoConnectionFromEnv, OPTION_CONNECTION, readConnection, TABLE_NAME } from './env';

/** Attribute names of the cache table, like Laravel's `attributes`. */
export interface DynamoDbAttributes {
  /** Partition key (type S). @default 'id' */
  key: string;
  /** Payload: S for text, B for bytes, N for integer counters. @default 'value' */
  value: string;
  /** Expiry in epoch seconds; the table's TTL attribute. @default 'expires_at' */
  expiration: string;
}

/** Static credentials (DynamoDB Local, tests); otherwise the AWS default chain is used. */
export interface DynamoDbCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Options of `createDynamoDbStore`, and of a `dynamodb` store in a manager config (`DynamoDbDriverConfig`). */
export interface DynamoDbStoreOptions extends CommonStoreOptions {
  driver?: 'dynamodb';
  /** Table name. @default 'CacheTable' (env `CACHE_TABLE` via configFromEnv) */
  table?: string;
  /** Endpoint URL (DynamoDB Local, a VPC endpoint). @default env `DYNAMODB_ENDPOINT`, else the AWS regional endpoint */
  endpoint?: string;
  /** AWS region. @default env `AWS_REGION` / `AWS_DEFAULT_REGION`, else 'us-east-1' */
  region?: string;
  /** Attribute names; Laravel's `ttl` is accepted as an alias of `expiration`. */
  attributes?: { key?: string; value?: string; expiration?: string; ttl?: string };
  /** Strongly consistent reads (twice the read cost). @default false */
  consistentRead?: boolean;
  /** A ready client (`DynamoDBClient` or `DynamoDBDocumentClient`); the store then never closes it. */
  client?: DynamoDBClient | DynamoDBDocumentClient;
  /** Static credentials; omit to use the AWS default chain (env, profile, IMDS, ...). */
  credentials?: DynamoDbCredentials;
  /** Create the table (on-demand, TTL enabled) on first use. Development only: refused when NODE_ENV=production. @default false */
  createTable?: boolean;
  /** Enables `keys()`/`clear()`, which Scan the whole table (cost grows with the table, not the prefix). @default false */
  allowClear?: boolean;
  /** Upper bound of every store operation, retries and unprocessed-item rounds included (ms or duration). @default '5s' */
  timeout?: Ttl;
  /** SDK attempts per request (throttling and 5xx are retried with backoff). @default 3 */
  maxAttempts?: number;
  /** TCP connect timeout per request, in ms. @default 3000 */
  connectionTimeoutMs?: number;
}

/** Options after defaults and validation. */
export interface ResolvedDynamoDbOptions {
  table: string;
  endpoint: string | undefined;
  region: string;
  attributes: DynamoDbAttributes;
  consistentRead: boolean;
  client: DynamoDBClient | DynamoDBDocumentClient | undefined;
  credentials: DynamoDbCredentials | undefined;
  createTable: boolean;
  allowClear: boolean;
  timeoutMs: number;
  maxAttempts: number;
  connectionTimeoutMs: number;
}

/** Default attribute names (Laravel's). */
export const DEFAULT_ATTRIBUTES: DynamoDbAttributes = { key: 'id', value: 'value', expiration: 'expires_at' };

type Env = Readonly<Record<string, string | undefined>>;

/** Applies defaults (env for endpoint and region) and validates once, at construction. */
export function resolveOptions(options: DynamoDbStoreOptions = {}, env: Env = process.env): ResolvedDynamoDbOptions {
  const attributes: DynamoDbAttributes = {
    key: options.attributes?.key ?? DEFAULT_ATTRIBUTES.key,
    value: options.attributes?.value ?? DEFAULT_ATTRIBUTES.value,
    expiration: options.attributes?.expiration ?? options.attributes?.ttl ?? DEFAULT_ATTRIBUTES.expiration,
  };
  for (const [field, name] of Object.entries(attributes)) {
    if (typeof name !== 'string' || name.length === 0 || name.length > 255) {
      throw new ConfigError(`dynamodb: attributes.${field} must be a non-empty name of at most 255 characters`, field);
    }
  }
  if (new Set(Object.values(attributes)).size !== 3) {
    throw new ConfigError(
      'dynamodb: attributes.key, attributes.value and attributes.expiration must differ',
      'attributes',
    );
  }
  const table = options.table ?? 'CacheTable';
  if (!TABLE_NAME.test(table)) {
    throw new ConfigError(
      `dynamodb: invalid table name '${table}' (3-255 characters of a-z A-Z 0-9 _ - .)`,
      'CACHE_TABLE',
    );
  }
  const maxAttempts = options.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new ConfigError(`dynamodb: maxAttempts must be an integer >= 1, got ${maxAttempts}`, 'maxAttempts');
  }
  const connectionTimeoutMs = options.connectionTimeoutMs ?? 3000;
  if (!(connectionTimeoutMs > 0)) {
    throw new ConfigError('dynamodb: connectionTimeoutMs must be > 0', 'connectionTimeoutMs');
  }
  const createTable = options.createTable ?? false;
  if (createTable && env.NODE_ENV === 'production') {
    throw new ConfigError(
      `dynamodb: createTable is for development only and is refused when NODE_ENV=production; ` +
        `create '${table}' with \`larder dynamodb create-tables\` instead`,
      'createTable',
    );
  }
  // The options are read by the same reader as the variables (one set of rules, naming the option);
  // the environment fills what the config leaves out.
  const own = readConnection(envReader({ region: options.region, endpoint: options.endpoint }), OPTION_CONNECTION);
  const fromEnv = own.endpoint === undefined || own.region === undefined ? dynamoConnectionFromEnv(envReader(env)) : {};
  return {
    table,
    endpoint: own.endpoint ?? fromEnv.endpoint,
    region: own.region ?? fromEnv.region ?? 'us-east-1',
    attributes,
    consistentRead: options.consistentRead ?? false,
    client: options.client,
    credentials: options.credentials,
    createTable,
    allowClear: options.allowClear ?? false,
    timeoutMs: parseTtl(options.timeout ?? '5s'),
    maxAttempts,
    connectionTimeoutMs,
  };
}
