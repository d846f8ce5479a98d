// The test store: AWS's DynamoDB Local, started once per run by the global setup. Each store opened here signs with
// an access key id of its own, and DynamoDB Local keeps one database per access key id and region, so every file (and
// every store within a file) starts empty and sees no other file's tables. Local mode's own embedded store (dynalite)
// is tested where local mode is (test/local/).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, inject } from 'vitest';
import { DeleteTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EmbeddedStore } from '../../lambda/store/embedded';

/** The region every test store signs for; the access key id is what keeps databases apart. */
export const TEST_STORE_REGION = 'us-east-1';

export interface TestStore extends EmbeddedStore {
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** What a handler under test needs in its environment to reach this database through the SDK's default chain. */
  env: Record<string, string>;
}

let opened = 0;

/** Connects to this run's DynamoDB Local with a fresh access key id: an empty database of its own. */
export function openTestStore(): TestStore {
  const endpoint = inject('dynamodbLocalEndpoint');
  opened++;
  // Letters and digits only: DynamoDB Local refuses other characters in an access key id.
  const credentials = { accessKeyId: `test${process.pid}n${opened}${randomBytes(4).toString('hex')}`, secretAccessKey: 'test' };
  const client = new DynamoDBClient({ endpoint, region: TEST_STORE_REGION, credentials, maxAttempts: 3 });
  const documentClient = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return {
    endpoint,
    client,
    documentClient,
    region: TEST_STORE_REGION,
    credentials,
    env: {
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_REGION: TEST_STORE_REGION,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
    close: async () => {
      // The database lives as long as the run's DynamoDB Local: drop its tables so memory stays flat across files.
      try {
        let start: string | undefined;
        do {
          const page = await client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
          for (const TableName of page.TableNames ?? []) await client.send(new DeleteTableCommand({ TableName }));
          start = page.LastEvaluatedTableName;
        } while (start !== undefined);
      } finally {
        client.destroy();
      }
    },
  };
}

/** A test store for the file's tests, closed after them; read `.current` inside tests. */
export function useTestStore(): { current: TestStore } {
  const holder = {} as { current: TestStore };
  beforeAll(() => {
    holder.current = openTestStore();
  });
  afterAll(async () => {
    await holder.current?.close();
  });
  return holder;
}

const WRITE_COMMANDS = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand', 'TransactWriteItemsCommand']);

/**
 * Counts the writes `store`'s clients send to `tableName` from now on (the document client shares the low-level
 * client's middleware): what a test of "nothing new" asserts, beside the items themselves.
 */
export function countWrites(store: Pick<TestStore, 'client'>, tableName: string): { readonly count: number; stop(): void } {
  const name = `count-writes-${++opened}`;
  const counter = { count: 0, stop: () => void store.client.middlewareStack.remove(name) };
  store.client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { TableName?: string; RequestItems?: Record<string, unknown>; TransactItems?: unknown[] };
      if (WRITE_COMMANDS.has(context.commandName ?? '') && (input.TableName === tableName || (input.RequestItems && tableName in input.RequestItems) || JSON.stringify(input.TransactItems ?? []).includes(`"${tableName}"`))) {
        counter.count++;
      }
      return next(args);
    },
    { step: 'initialize', name },
  );
  return counter;
}
