// Types only from core (see DriverEnvironment): errors and parsers come from the reader.
import type { DriverEnvironment, EnvReader } from '@larder/core/driver';
import type { DynamoDbStoreOptions } from './options';

/** A `dynamodb` store in a manager config: `driver` and `DynamoDbStoreOptions`, checked by the compiler. */
export interface DynamoDbDriverConfig extends DynamoDbStoreOptions {
  driver: 'dynamodb';
}

// The typed driver registry (docs/architecture.md "Typed store configs"): `{ driver: 'dynamodb' }`
// in a manager config is checked against `DynamoDbDriverConfig`.
declare module '@larder/core' {
  interface LarderDrivers {
    dynamodb: DynamoDbDriverConfig;
  }
}

const VARIABLES = ['CACHE_TABLE', 'SESSION_TABLE', 'DYNAMODB_ENDPOINT', 'AWS_REGION', 'AWS_DEFAULT_REGION'] as const;

/** DynamoDB's own rule for table names. */
export const TABLE_NAME = /^[a-zA-Z0-9_.-]{3,255}$/;

/** What the endpoint and the region are called in one entrance: the environment, or options in code. */
export interface ConnectionNames {
  /** Names of the region, first found wins. */
  region: readonly string[];
  endpoint: string;
}

/** `AWS_REGION` (else `AWS_DEFAULT_REGION`) and `DYNAMODB_ENDPOINT`. */
export const ENV_CONNECTION: ConnectionNames = {
  region: ['AWS_REGION', 'AWS_DEFAULT_REGION'],
  endpoint: 'DYNAMODB_ENDPOINT',
};

/** The `region` and `endpoint` options. */
export const OPTION_CONNECTION: ConnectionNames = { region: ['region'], endpoint: 'endpoint' };

/**
 * The endpoint (an http(s) URL naming a host) and the region (an AWS region name), validated by
 * one reader whichever the entrance: variables for `configFromEnv` and the fields a
 * store's config leaves out, or the options given in code (read as a record of the same names).
 */
export function readConnection(
  reader: EnvReader,
  names: ConnectionNames = ENV_CONNECTION,
): { endpoint?: string; region?: string } {
  const regionName = names.region.find((name) => reader.string(name) !== undefined) ?? names.region[0]!;
  const region = reader.string(regionName);
  if (region !== undefined && !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(region)) {
    throw reader.invalid(regionName, region, "an AWS region such as 'eu-west-1'");
  }
  const endpoint = reader.url(names.endpoint, ['http:', 'https:']);
  return { ...(endpoint === undefined ? {} : { endpoint }), ...(region === undefined ? {} : { region }) };
}

/** `DYNAMODB_ENDPOINT` and `AWS_REGION` (else `AWS_DEFAULT_REGION`), validated. */
export function dynamoConnectionFromEnv(reader: EnvReader): { endpoint?: string; region?: string } {
  return readConnection(reader, ENV_CONNECTION);
}

function tableName(read: EnvReader, variable: string, fallback: string): string {
  const table = read.string(variable) ?? fallback;
  if (!TABLE_NAME.test(table)) {
    throw read.invalid(variable, table, 'a DynamoDB table name: 3-255 characters of a-z, A-Z, 0-9, _ . -');
  }
  return table;
}

/**
 * The `dynamodb` (cache table) and `dynamodb_sessions` (session table) stores for `configFromEnv`;
 * `SESSION_DRIVER=dynamodb` selects the sessions table, as in Laravel.
 */
export const larderEnv: DriverEnvironment = {
  driver: 'dynamodb',
  variables: VARIABLES,
  sessionAliases: { dynamodb: 'dynamodb_sessions' },
  stores: (read) => {
    const connection = dynamoConnectionFromEnv(read);
    const store = (table: string): DynamoDbDriverConfig => ({ driver: 'dynamodb', table, ...connection });
    return {
      dynamodb: store(tableName(read, 'CACHE_TABLE', 'CacheTable')),
      dynamodb_sessions: store(tableName(read, 'SESSION_TABLE', 'SessionTable')),
    };
  },
};
