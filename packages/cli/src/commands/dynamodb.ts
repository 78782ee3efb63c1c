import { parseArgs } from 'node:util';
import { createTables, type ProgressEvent } from '@larder/dynamodb';
import { type CliIo, describeError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, parseCommandArgs, printer } from '../options';

export const DYNAMODB_HELP = `Usage: larder dynamodb create-tables [options]

Creates the cache and session tables (string partition key, on-demand billing) unless they
exist, waits until they are ACTIVE and enables TTL on the expiry attribute. Idempotent.

Options:
  --cache-table <name>    cache table (default CACHE_TABLE, else CacheTable)
  --session-table <name>  session table (default SESSION_TABLE, else SessionTable)
  --no-sessions           create only the cache table
  --endpoint <url>        DynamoDB endpoint (default DYNAMODB_ENDPOINT; e.g. DynamoDB Local)
  --region <region>       AWS region (default AWS_REGION / AWS_DEFAULT_REGION, else us-east-1)
  --key-attribute <name>  partition key attribute (default id)
  --ttl-attribute <name>  TTL attribute (default expires_at)
  -h, --help              show this help

Credentials come from the AWS default chain (environment, profile, instance role).`;

/** `larder dynamodb <subcommand>`. */
export async function dynamodbCommand(argv: string[], io: CliIo): Promise<number> {
  const { out, err } = printer(io);
  // --help wins over a missing or unknown subcommand.
  const parsed = parseCommandArgs(argv, parse, DYNAMODB_HELP, io);
  if (typeof parsed === 'number') return parsed;
  const [sub] = parsed.positionals;
  if (sub === undefined) {
    err(DYNAMODB_HELP);
    return EXIT_USAGE;
  }
  if (sub !== 'create-tables') {
    err(`Unknown dynamodb command '${sub}'.`);
    err(DYNAMODB_HELP);
    return EXIT_USAGE;
  }
  const v = parsed.values;
  const env = io.env;
  const attributes = { key: v['key-attribute'] ?? 'id', expiration: v['ttl-attribute'] ?? 'expires_at' };
  const names = [v['cache-table'] ?? env.CACHE_TABLE ?? 'CacheTable'];
  if (!v['no-sessions']) names.push(v['session-table'] ?? env.SESSION_TABLE ?? 'SessionTable');
  const endpoint = v.endpoint ?? env.DYNAMODB_ENDPOINT;
  const region = v.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  // The SDK's default chain reads process.env; honour the io's env too (tests, embedding).
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
        }
      : undefined;
  out(`Creating ${names.join(' and ')} in ${region}${endpoint ? ` at ${endpoint}` : ''}`);
  try {
    const report = await createTables({
      tables: names.map((name) => ({ name, attributes })),
      region,
      ...(endpoint ? { endpoint } : {}),
      ...(credentials ? { credentials } : {}),
      onProgress: (event: ProgressEvent) => out(`  [${event.table}] ${event.message}`),
    });
    for (const table of report.tables) {
      out(
        `${table.table}: ${table.created ? 'created' : 'already existed'}, ${table.status}, key ${table.keyAttribute}, ` +
          `TTL on ${table.ttlAttribute} ${table.ttl}`,
      );
    }
    return EXIT_OK;
  } catch (error) {
    err(`create-tables failed: ${describeError(error)}`);
    return EXIT_FAILURE;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'cache-table': { type: 'string' },
      'session-table': { type: 'string' },
      'no-sessions': { type: 'boolean' },
      endpoint: { type: 'string' },
      region: { type: 'string' },
      'key-attribute': { type: 'string' },
      'ttl-attribute': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
