import { afterAll, describe, expect, it } from 'vitest';
import {
  type Dynalite,
  type DynamoDbLocal,
  dynamoDbRequest,
  startDynalite,
  startDynamoDbLocal,
  waitForActiveTable,
} from '../src/index';

const table = {
  TableName: 'DevServicesTest',
  AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
  KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
  BillingMode: 'PAY_PER_REQUEST',
};

describe('DynamoDB-compatible servers', () => {
  const running: { stop(): Promise<void> }[] = [];
  afterAll(async () => {
    await Promise.all(running.map((s) => s.stop()));
  });

  it('DynamoDB Local: in memory, shared DB, TTL API, stops', async () => {
    const ddb: DynamoDbLocal = await startDynamoDbLocal();
    running.push(ddb);
    expect(ddb.port).toBeLessThan(32_768);
    expect(ddb.endpoint).toBe(`http://127.0.0.1:${ddb.port}`);
    await dynamoDbRequest({ endpoint: ddb.endpoint, action: 'CreateTable', body: table });
    await dynamoDbRequest({
      endpoint: ddb.endpoint,
      action: 'UpdateTimeToLive',
      body: { TableName: table.TableName, TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true } },
    });
    // -sharedDb: other credentials and region see the same table
    const listed = await dynamoDbRequest<{ TableNames: string[] }>({
      endpoint: ddb.endpoint,
      action: 'ListTables',
      region: 'eu-west-1',
      accessKeyId: 'someoneelse',
    });
    expect(listed.TableNames).toContain(table.TableName);
    const pid = ddb.pid!;
    await ddb.stop();
    expect(() => process.kill(pid, 0)).toThrow();
  }, 90_000);

  it('dynalite in-process and as a child process', async () => {
    const inProcess: Dynalite = await startDynalite();
    const child: Dynalite = await startDynalite({ childProcess: true });
    running.push(inProcess, child);
    for (const server of [inProcess, child]) {
      await dynamoDbRequest({ endpoint: server.endpoint, action: 'CreateTable', body: table });
      await waitForActiveTable(server.endpoint, table.TableName);
      await dynamoDbRequest({
        endpoint: server.endpoint,
        action: 'PutItem',
        body: { TableName: table.TableName, Item: { id: { S: 'a' }, value: { S: 'x' } } },
      });
      const got = await dynamoDbRequest<{ Item: { value: { S: string } } }>({
        endpoint: server.endpoint,
        action: 'GetItem',
        body: { TableName: table.TableName, Key: { id: { S: 'a' } } },
      });
      expect(got.Item.value.S).toBe('x');
    }
    expect(inProcess.pid).toBeUndefined();
    expect(child.pid).toBeGreaterThan(0);
    await inProcess.stop();
    await child.stop();
  });
});
