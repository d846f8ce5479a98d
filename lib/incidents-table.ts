// The incident table: a DynamoDB global table (PITR, deletion protection, retained) with the dashboard indexes.
import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ENV } from '../lambda/handlers/env';
import { INCIDENTS_TABLE } from '../lambda/store/tables';
import type { IConstruct } from 'constructs';
import type { BindableFunction } from './binding';
import { tableArn } from './names';

export interface IncidentsTableProps {
  /** Physical table name, identical in every region. */
  readonly tableName: string;
  /** Every probe region: each gets a replica. */
  readonly probeRegions: readonly string[];
  /** The probe region whose stack owns the global table; the others reference their replica. */
  readonly homeRegion: string;
}

/** The two indexes DESIGN.md promises dashboards. */
export type IncidentIndex = (typeof INCIDENTS_TABLE)['openIncidentsIndex']['name'] | (typeof INCIDENTS_TABLE)['regionIncidentsIndex']['name'];

/** `get`: one item by key (the PagerDuty notifier's look at an incident). `read`: dashboards, reports, the status page. `read-write`: the aggregator's incident lifecycle. */
export type IncidentsAccess = 'get' | 'read' | 'read-write';

const ACTIONS: Record<IncidentsAccess, string[]> = {
  get: ['dynamodb:GetItem'],
  read: ['dynamodb:GetItem', 'dynamodb:Query'],
  // Every write is a conditional PutItem on a version attribute (lambda/store/incident-store.ts).
  'read-write': ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
};

/**
 * In the home region's stack it creates the global table; elsewhere it addresses the local replica
 * by name. The incident history is the product: point-in-time recovery and deletion protection on
 * every replica, and RETAIN so neither `cdk destroy` nor a replaced stack can drop it.
 */
export class IncidentsTable extends Construct {
  readonly tableName: string;
  /** ARN of the replica in this stack's region. */
  readonly tableArn: string;
  /** The global table itself: only in the home region's stack. */
  readonly globalTable?: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: IncidentsTableProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.tableName = props.tableName;
    if (stack.region === props.homeRegion) {
      const { openIncidentsIndex: open, regionIncidentsIndex: byRegion } = INCIDENTS_TABLE;
      const table = new dynamodb.TableV2(this, 'Table', {
        tableName: props.tableName,
        partitionKey: { name: INCIDENTS_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: INCIDENTS_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
        billing: dynamodb.Billing.onDemand(),
        encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: true,
        removalPolicy: RemovalPolicy.RETAIN,
        globalSecondaryIndexes: [
          {
            indexName: open.name,
            partitionKey: { name: open.partitionKey, type: dynamodb.AttributeType.STRING },
            sortKey: { name: open.sortKey, type: dynamodb.AttributeType.STRING },
            projectionType: dynamodb.ProjectionType.ALL,
          },
          {
            indexName: byRegion.name,
            partitionKey: { name: byRegion.partitionKey, type: dynamodb.AttributeType.STRING },
            sortKey: { name: byRegion.sortKey, type: dynamodb.AttributeType.STRING },
            projectionType: dynamodb.ProjectionType.ALL,
          },
        ],
        replicas: props.probeRegions.filter((r) => r !== props.homeRegion).map((region) => ({ region })),
      });
      this.globalTable = table;
      this.tableArn = table.tableArn;
    } else {
      this.tableArn = tableArn(stack, stack.region, props.tableName);
    }
  }

  /**
   * Lets `fn` read this replica's stream (the status page renderer, in the home region, where the global table's own
   * stream ARN is known). Throws elsewhere: other regions would need the replica-stream lookup the aggregator uses.
   */
  bindStream(fn: BindableFunction & { readonly role: IConstruct }): string {
    const streamArn = this.globalTable?.tableStreamArn;
    if (streamArn === undefined) throw new Error('the incident table stream is bound in the home region only');
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'], resources: [streamArn] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:ListStreams'], resources: ['*'] }));
    Validations.of(fn.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'dynamodb:ListStreams has no resource type in IAM, so it can only be granted on "*"; it lists stream ARNs and reads no data. Lambda needs it to poll the incident table stream.',
    });
    return streamArn;
  }

  /**
   * Sets INCIDENTS_TABLE_NAME and grants `access` on this region's replica, plus Query on exactly the
   * indexes the function queries (none by default).
   */
  bind(fn: BindableFunction, options: { readonly access: IncidentsAccess; readonly indexes?: readonly IncidentIndex[] }): void {
    fn.addEnvironment(ENV.incidentsTable, this.tableName);
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ACTIONS[options.access], resources: [this.tableArn] }));
    const indexes = options.indexes ?? [];
    if (indexes.length > 0) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: indexes.map((name) => `${this.tableArn}/index/${name}`) }),
      );
    }
  }
}
