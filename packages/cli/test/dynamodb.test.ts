import { type DynamoDbLocal, startDynamoDbLocal } from '@larder/dev-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { larder } from './helpers';

describe('larder dynamodb create-tables and doctor on DynamoDB Local', () => {
  let dynamo: DynamoDbLocal;
  let env: Record<string, string>;

  beforeAll(async () => {
    dynamo = await startDynamoDbLocal();
    env = {
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      AWS_REGION: dynamo.region,
      AWS_ACCESS_KEY_ID: dynamo.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: dynamo.credentials.secretAccessKey,
    };
    // The driver (used by doctor) reads credentials from the AWS default chain, i.e. process.env.
    process.env.AWS_ACCESS_KEY_ID = dynamo.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = dynamo.credentials.secretAccessKey;
  });
  afterAll(() => dynamo?.stop());

  it('creates both tables with TTL, with progress; a second run changes nothing', async () => {
    const first = await larder(
      ['dynamodb', 'create-tables', '--cache-table', 'Cache1', '--session-table', 'Sess1'],
      env,
    );
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`at ${dynamo.endpoint}`);
    expect(first.stdout).toMatch(/\[Cache1\] /);
    expect(first.stdout).toMatch(/Cache1: created, ACTIVE, key id, TTL on expires_at enabled/);
    expect(first.stdout).toMatch(/Sess1: created, ACTIVE/);
    const second = await larder(
      ['dynamodb', 'create-tables', '--cache-table', 'Cache1', '--session-table', 'Sess1'],
      env,
    );
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/Cache1: already existed, ACTIVE, key id, TTL on expires_at already-enabled/);
  });

  it('doctor shows table status and TTL, secrets redacted', async () => {
    const { code, stdout } = await larder(['doctor'], {
      ...env,
      CACHE_DRIVER: 'dynamodb',
      CACHE_TABLE: 'Cache1',
      SESSION_DRIVER: 'dynamodb',
      SESSION_TABLE: 'Sess1',
    });
    expect(stdout).not.toContain(dynamo.credentials.secretAccessKey);
    expect(stdout).toMatch(/table Cache1 ACTIVE, billing PAY_PER_REQUEST, .*TTL ENABLED on expires_at/);
    expect(stdout).toMatch(/table Sess1 ACTIVE/);
    expect(stdout).toContain('2 store(s) ok, 0 failed');
    expect(code).toBe(0);
  });

  it('doctor fails on a missing table', async () => {
    const { code, stdout } = await larder(['doctor'], { ...env, CACHE_DRIVER: 'dynamodb', CACHE_TABLE: 'NoSuchTable' });
    expect(code).toBe(1);
    expect(stdout).toMatch(/FAILED/);
  });
});
