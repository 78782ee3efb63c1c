import { type DynamoDbLocal, startDynamoDbLocal } from '@larder/dev-services';
import { createTables } from '@larder/dynamodb';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instancePool, scenario } from './helpers';

describe('example app on DynamoDB Local (cache table + session table)', () => {
  let dynamo: DynamoDbLocal;
  const instances = instancePool();

  beforeAll(async () => {
    dynamo = await startDynamoDbLocal();
    // The driver reads credentials from the AWS default chain, like in production.
    process.env.AWS_ACCESS_KEY_ID = dynamo.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = dynamo.credentials.secretAccessKey;
    await createTables({
      endpoint: dynamo.endpoint,
      region: dynamo.region,
      credentials: dynamo.credentials,
      tables: [{ name: 'CacheTable' }, { name: 'SessionTable' }],
    });
  });
  afterAll(async () => {
    await instances.stopAll();
    await dynamo?.stop();
  });

  it('two instances share cache (CacheTable) and sessions (SessionTable)', async () => {
    const env = {
      CACHE_DRIVER: 'dynamodb',
      SESSION_DRIVER: 'dynamodb',
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      AWS_REGION: dynamo.region,
    };
    const a = await instances.start(env);
    const b = await instances.start(env);
    await scenario(a, b);
    const health = await request(a.url).get('/healthz').expect(200);
    expect(health.body.cache).toMatchObject({ store: 'dynamodb', driver: 'dynamodb', ok: true });
    expect(health.body.sessions).toMatchObject({ store: 'dynamodb_sessions', driver: 'dynamodb', ok: true });
  });
});
