import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTables } from '../src/index';

/** Counts HTTP requests per command name (one per attempt: the middleware sits after the retry step). */
export interface RequestCounter {
  /** Requests per command name since the last reset. */
  counts: Record<string, number>;
  /** Total requests since the last reset. */
  total(): number;
  reset(): void;
}

export function countRequests(client: DynamoDBClient): RequestCounter {
  const counter: RequestCounter = {
    counts: {},
    total: () => Object.values(counter.counts).reduce((a, b) => a + b, 0),
    reset: () => {
      counter.counts = {};
    },
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      counter.counts[context.commandName as string] = (counter.counts[context.commandName as string] ?? 0) + 1;
      return next(args);
    },
    { step: 'deserialize', name: 'larderRequestCounter' },
  );
  return counter;
}

let tableSeq = 0;

/** A fresh table name (tests in one file share one server). */
export function tableName(label: string): string {
  tableSeq += 1;
  return `larder_${label}_${process.pid}_${tableSeq}`;
}

/** Creates a table on the server (fast poll) and returns its name. */
export async function makeTable(client: DynamoDBClient, label: string): Promise<string> {
  const name = tableName(label);
  await createTables({ client, tables: [{ name }], pollIntervalMs: 50 });
  return name;
}

export async function dropTable(client: DynamoDBClient, name: string): Promise<void> {
  await client.send(new DeleteTableCommand({ TableName: name })).catch(() => {});
}
