import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDbCredentials } from './options';

/** How to reach DynamoDB when no client is injected. */
export interface ClientSettings {
  /** Endpoint URL (DynamoDB Local, a VPC endpoint). */
  endpoint?: string | undefined;
  /** AWS region. */
  region: string;
  /** Static credentials; omitted = AWS default chain. */
  credentials?: DynamoDbCredentials | undefined;
  /** SDK attempts per request. */
  maxAttempts?: number;
  /** Socket idle/response timeout per attempt, ms. */
  requestTimeoutMs?: number;
  /** TCP connect timeout, ms. */
  connectionTimeoutMs?: number;
}

/** Builds a low-level client with bounded timeouts and the SDK's standard retry (backoff + jitter, throttling aware). */
export function buildClient(settings: ClientSettings): DynamoDBClient {
  return new DynamoDBClient({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    maxAttempts: settings.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: settings.connectionTimeoutMs ?? 3000,
      requestTimeout: settings.requestTimeoutMs ?? 5000,
    },
  });
}

/**
 * A `DynamoDBDocumentClient` shares its middleware stack and config with the `DynamoDBClient`
 * it wraps, so the low-level commands larder sends (exact S/B/N types, no marshalling) go through
 * it unchanged. Either kind of injected client is therefore used as a `DynamoDBClient`.
 */
export function asLowLevelClient(client: DynamoDBClient | DynamoDBDocumentClient): DynamoDBClient {
  return client as unknown as DynamoDBClient;
}
