// Where local mode keeps its two tables: the embedded store under the data directory (the default), any DynamoDB
// endpoint (DynamoDB Local, for one), or the real tables on AWS. The same store code runs on each.
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createIncidentsTable, createResultsTable } from './create-tables';
import { startEmbeddedStore } from './embedded';

export type StoreChoice = { kind: 'embedded' } | { kind: 'endpoint'; url: string } | { kind: 'aws'; region: string };

/** What run.json records of a store that is not the embedded one, so the read commands find it afterwards. */
export type StoreRecord = Exclude<StoreChoice, { kind: 'embedded' }>;

/** The tables cannot be used: no credentials, a table missing, access denied, an endpoint that does not answer. One line for the user. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
}

/** The clients every store class takes. */
export interface TableClients {
  client: DynamoDBClient;
  documentClient: DynamoDBDocumentClient;
}

export interface OpenedStore extends TableClients {
  choice: StoreChoice;
  /** Where the tables are, for the start line: `the embedded store in D`, `DynamoDB at URL`, `AWS us-east-1`. */
  description: string;
  /** An endpoint the read commands reach while local mode runs (LevelDB admits one process); none on AWS. */
  endpoint?: string;
  close(): Promise<void>;
}

/** Local stores are addressed like the embedded one: any credentials, one fixed region name (DynamoDB Local keeps tables per key and region). */
export const LOCAL_STORE_CLIENT = { region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } as const;

function documentClientOf(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** A client for any DynamoDB endpoint, addressed the way local mode addresses it. */
export function endpointClients(url: string): TableClients {
  const client = new DynamoDBClient({ endpoint: url, ...LOCAL_STORE_CLIENT, maxAttempts: 2 });
  return { client, documentClient: documentClientOf(client) };
}

export function credentialHelp(region: string): string {
  return `no AWS credentials found for region ${region}; set AWS_PROFILE (after \`aws sso login\` or \`aws configure\`) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, then try again`;
}

/**
 * Resolves a client's credentials from the default chain up front, with a time limit, so a machine without any fails
 * at once with one clear line (StoreError) instead of a stack trace or a hang.
 */
export async function requireCredentials(credentials: () => Promise<unknown>, region: string, timeoutMs = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      credentials(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
      }),
    ]);
  } catch {
    throw new StoreError(credentialHelp(region));
  } finally {
    clearTimeout(timer);
  }
}

/** A client for the real tables in `region`, its credentials checked up front (requireCredentials). */
export async function awsClient(region: string, timeoutMs = 10_000): Promise<DynamoDBClient> {
  const client = new DynamoDBClient({ region, maxAttempts: 2 });
  try {
    await requireCredentials(() => client.config.credentials(), region, timeoutMs);
  } catch (error: unknown) {
    client.destroy();
    throw error;
  }
  return client;
}

/** One line for an AWS or endpoint error on `table`, or undefined when it is none of the known kinds. */
export function explainStoreError(error: unknown, table: string, where: string, fix: string): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  switch (error.name) {
    case 'ResourceNotFoundException':
      return `table ${table} not found in ${where}; ${fix}`;
    case 'AccessDeniedException':
    case 'UnrecognizedClientException':
    case 'ExpiredTokenException':
      return `${where} refused access to ${table} (${error.name}); check the credentials and that they allow reading and writing it`;
    default:
      if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT' || code === 'ECONNRESET') return `cannot reach ${where} (${String(code)}); start it, or check the address`;
      return undefined;
  }
}

/** Waits (bounded) until a table is ACTIVE: a fresh endpoint may create it asynchronously, as AWS does. */
async function untilActive(client: DynamoDBClient, table: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
    const indexes = Table?.GlobalSecondaryIndexes ?? [];
    if (Table?.TableStatus === 'ACTIVE' && indexes.every((i) => i.IndexStatus === undefined || i.IndexStatus === 'ACTIVE')) return;
    if (Date.now() > deadline) throw new StoreError(`table ${table} did not become ACTIVE within ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Opens the store local mode runs on and makes sure both tables are there. The embedded store and an endpoint get
 * the tables created with the keys the CDK constructs give them (kept when they exist: a restart reuses them); on AWS
 * nothing is ever created: a missing table is a StoreError that says to deploy.
 */
export async function openStore(
  choice: StoreChoice,
  options: { storePath: string; tables: { resultsTable: string; incidentsTable: string }; homeRegion: string; timeoutMs?: number },
): Promise<OpenedStore> {
  const { tables } = options;
  if (choice.kind === 'embedded') {
    const store = await startEmbeddedStore({ path: options.storePath });
    try {
      await createResultsTable(store.client, tables.resultsTable);
      await createIncidentsTable(store.client, tables.incidentsTable);
    } catch (error: unknown) {
      await store.close();
      throw error;
    }
    return { ...store, choice, description: `the embedded store in ${options.storePath}` };
  }
  if (choice.kind === 'endpoint') {
    const { client, documentClient } = endpointClients(choice.url);
    const where = `DynamoDB at ${choice.url}`;
    let table: string = tables.resultsTable;
    try {
      await createResultsTable(client, tables.resultsTable);
      await untilActive(client, tables.resultsTable, options.timeoutMs);
      table = tables.incidentsTable;
      await createIncidentsTable(client, tables.incidentsTable);
      await untilActive(client, tables.incidentsTable, options.timeoutMs);
    } catch (error: unknown) {
      client.destroy();
      const line = explainStoreError(error, table, where, 'local mode could not create it');
      if (line) throw new StoreError(line);
      throw error;
    }
    return { client, documentClient, choice, description: where, endpoint: choice.url, close: async () => client.destroy() };
  }
  const client = await awsClient(choice.region, options.timeoutMs);
  const where = `AWS ${choice.region}`;
  for (const table of [tables.resultsTable, tables.incidentsTable]) {
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
      if (Table?.TableStatus !== 'ACTIVE' && Table?.TableStatus !== 'UPDATING') throw new StoreError(`table ${table} in ${where} is ${Table?.TableStatus ?? 'in an unknown state'}; wait until it is ACTIVE`);
    } catch (error: unknown) {
      if (error instanceof StoreError) {
        client.destroy();
        throw error;
      }
      const line = explainStoreError(error, table, where, `deploy regionwatch first (npx cdk deploy RegionWatch-${options.homeRegion} creates both tables with a replica in every probe region); local --aws never creates tables`);
      client.destroy();
      if (line) throw new StoreError(line);
      throw error;
    }
  }
  return { client, documentClient: documentClientOf(client), choice, description: where, close: async () => client.destroy() };
}
