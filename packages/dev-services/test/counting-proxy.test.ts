import { afterAll, describe, expect, it } from 'vitest';
import {
  type CountingProxy,
  type Dynalite,
  dynamoDbRequest,
  startCountingProxy,
  startDynalite,
  waitForActiveTable,
} from '../src/index';

// Tests count what DynamoDB Local is asked through this proxy (it keeps no request metrics): each
// request must reach the server and be counted once, by operation.
describe('startCountingProxy', () => {
  let server: Dynalite;
  let proxy: CountingProxy;
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  it('forwards requests and answers, counting each by its X-Amz-Target operation', async () => {
    server = await startDynalite();
    proxy = await startCountingProxy(server.endpoint);
    const TableName = 'counted';
    await dynamoDbRequest({
      endpoint: proxy.endpoint,
      action: 'CreateTable',
      body: {
        TableName,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      },
    });
    // Asked of the server directly, so the proxy's counts hold only the requests below.
    await waitForActiveTable(server.endpoint, TableName);
    for (const id of ['a', 'b'])
      await dynamoDbRequest({
        endpoint: proxy.endpoint,
        action: 'PutItem',
        body: { TableName, Item: { id: { S: id } } },
      });
    const read = await dynamoDbRequest<{ Item?: { id: { S: string } } }>({
      endpoint: proxy.endpoint,
      action: 'GetItem',
      body: { TableName, Key: { id: { S: 'b' } } },
    });
    expect(read.Item?.id.S).toBe('b');
    expect(Object.fromEntries(proxy.counts)).toEqual({ CreateTable: 1, PutItem: 2, GetItem: 1 });
    // An error answer is passed through too (and counted).
    await expect(
      dynamoDbRequest({
        endpoint: proxy.endpoint,
        action: 'GetItem',
        body: { TableName: 'missing', Key: { id: { S: 'a' } } },
      }),
    ).rejects.toThrow();
    expect(proxy.counts.get('GetItem')).toBe(2);
  });
});
