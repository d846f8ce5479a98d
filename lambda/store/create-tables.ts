// Creates the tables on the embedded store with the same keys the CDK constructs give them on AWS.
import { CreateTableCommand, type DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { INCIDENTS_TABLE, RESULTS_TABLE } from './tables';

export async function createResultsTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: RESULTS_TABLE.partitionKey, AttributeType: 'S' },
          { AttributeName: RESULTS_TABLE.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: RESULTS_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: RESULTS_TABLE.sortKey, KeyType: 'RANGE' },
        ],
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
      }),
    );
  } catch (error: unknown) {
    // A restart over the same data directory finds the table already there.
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}

/** The incident table with its two indexes, exactly as INCIDENTS_TABLE describes them (no stream, no TTL). */
export async function createIncidentsTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const open = INCIDENTS_TABLE.openIncidentsIndex;
  const byRegion = INCIDENTS_TABLE.regionIncidentsIndex;
  const attributes = [INCIDENTS_TABLE.partitionKey, INCIDENTS_TABLE.sortKey, open.partitionKey, open.sortKey, byRegion.partitionKey, byRegion.sortKey];
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...new Set(attributes)].map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
        KeySchema: [
          { AttributeName: INCIDENTS_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: INCIDENTS_TABLE.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [open, byRegion].map((index) => ({
          IndexName: index.name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
            { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
          ],
          Projection: { ProjectionType: 'ALL' as const },
        })),
      }),
    );
  } catch (error: unknown) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}
