import { afterAll, beforeAll } from 'vitest';
import { dynamoDbBackends } from './backends';
import { keyvSuites } from './suites';

// One DynamoDB Local for both stores: with allowClear (clear by Scan) and without (a larder scope dropped).
const dynamodb = dynamoDbBackends();
beforeAll(() => dynamodb.start(), 120_000);
afterAll(() => dynamodb.stop());
for (const backend of dynamodb.backends) keyvSuites(backend);
