// Creates the tables on the embedded store with the same keys the CDK constructs give them on AWS.
import { CreateTableCommand, type DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { RESULTS_TABLE } from './tables';

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
