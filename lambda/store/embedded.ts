// The embedded DynamoDB-API store (dynalite): local mode persists it under the data directory, tests keep it in memory.
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';

export interface EmbeddedStore {
  endpoint: string;
  /** A low-level client pointed at the store. */
  client: DynamoDBClient;
  /** The document client every store class takes. */
  documentClient: DynamoDBDocumentClient;
  close(): Promise<void>;
}

export interface EmbeddedStoreOptions {
  /** LevelDB directory; in memory when omitted. */
  path?: string;
  /** Port on 127.0.0.1; 0 picks a free one. */
  port?: number;
}

/** Starts dynalite on loopback and returns clients for it. Tables become ACTIVE at once. */
export async function startEmbeddedStore(options: EmbeddedStoreOptions = {}): Promise<EmbeddedStore> {
  const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const documentClient = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return {
    endpoint,
    client,
    documentClient,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
