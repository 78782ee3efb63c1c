import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import type { StoreDescription } from '@larder/core';

/** Sends one command with the store's timeout and error scrubbing. */
type Send = <O>(command: object, operation: string) => Promise<O>;

interface TableAnswer {
  Table?: { TableStatus?: string; ItemCount?: number; BillingModeSummary?: { BillingMode?: string } };
}
interface TtlAnswer {
  TimeToLiveDescription?: { TimeToLiveStatus?: string; AttributeName?: string };
}

/**
 * The table as data: status, billing mode, approximate item count and TTL. A missing table
 * rejects (as every operation would); an endpoint without `DescribeTimeToLive` (some emulators)
 * reports the TTL status as `UNKNOWN`.
 */
export async function describeDynamoDb(
  send: Send,
  table: string,
  endpoint: string | undefined,
  region: string,
): Promise<StoreDescription> {
  const { Table: found } = await send<TableAnswer>(new DescribeTableCommand({ TableName: table }), 'describe');
  let ttl: TtlAnswer['TimeToLiveDescription'] | undefined;
  let ttlStatus = 'UNKNOWN';
  try {
    ttl = (await send<TtlAnswer>(new DescribeTimeToLiveCommand({ TableName: table }), 'describe'))
      .TimeToLiveDescription;
    ttlStatus = ttl?.TimeToLiveStatus ?? 'DISABLED';
  } catch {
    // Reported as UNKNOWN: the table itself answered.
  }
  const status = found?.TableStatus ?? 'UNKNOWN';
  return {
    driver: 'dynamodb',
    topology: {
      mode: 'table',
      nodes: [
        {
          address: addressOf(endpoint, region),
          role: 'node',
          status: status === 'ACTIVE' || status === 'UPDATING' ? 'up' : 'down',
        },
      ],
    },
    table: {
      name: table,
      status,
      ttlStatus,
      ...(ttl?.AttributeName && ttlStatus === 'ENABLED' ? { ttlAttribute: ttl.AttributeName } : {}),
      billingMode: found?.BillingModeSummary?.BillingMode ?? 'PROVISIONED',
      ...(found?.ItemCount === undefined ? {} : { itemCount: found.ItemCount }),
    },
  };
}

/** `host:port` of the endpoint requests go to (never its path or query). */
export function addressOf(endpoint: string | undefined, region: string): string {
  if (endpoint === undefined) return `dynamodb.${region}.amazonaws.com:443`;
  const url = new URL(endpoint);
  return `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;
}
