// The results table: a DynamoDB global table with one replica per probe region; probers write, aggregators read.
import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, type IConstruct } from 'constructs';
import { ENV } from '../lambda/handlers/env';
import { RESULTS_TABLE } from '../lambda/store/tables';
import type { BindableFunction } from './binding';
import type { FunctionDefaults } from './function';
import { tableArn } from './names';
import { ReplicaStreamArn } from './replica-stream';

export interface ResultsTableProps {
  /** Physical table name, identical in every region. */
  readonly tableName: string;
  /** Every probe region: each gets a replica. */
  readonly probeRegions: readonly string[];
  /** The probe region whose stack owns the global table; the others reference their replica. */
  readonly homeRegion: string;
  /** The region's log key and retention, and VPC, for the custom resource that reads a replica's stream ARN. */
  readonly functionDefaults: FunctionDefaults;
}

/**
 * `write`: a prober's PutItem. `query`: an aggregator's Query over a window of slots. `confirm`: a prober that confirms
 * failures: PutItem (rounds, confirmations) and Query (its own newest checks, read when a round sees a failure), in the
 * rounds partition only. Its claims are in its region's claims table (lib/claims-table.ts).
 */
export type ResultsAccess = 'write' | 'query' | 'confirm';

const ACTIONS: Record<ResultsAccess, string[]> = {
  write: ['dynamodb:PutItem'],
  query: ['dynamodb:Query'],
  confirm: ['dynamodb:PutItem', 'dynamodb:Query'],
};

/** The partition a prober writes and reads (lambda/store/tables.ts). */
const PROBER_PARTITIONS = [RESULTS_TABLE.roundsPartition];

/**
 * In the home region's stack it creates the global table (on-demand, AWS-managed KMS key, TTL on
 * `expiresAt`, stream NEW_IMAGE in every replica). In any other region's stack it addresses the
 * local replica by its deterministic name and reads the replica's stream ARN at deploy time.
 * Either way, `tableArn` and `streamArn` are those of the replica in the stack's own region.
 */
export class ResultsTable extends Construct {
  readonly tableName: string;
  /** ARN of the replica in this stack's region. */
  readonly tableArn: string;
  /** Exact stream ARN of the replica in this stack's region. */
  readonly streamArn: string;
  /** The global table itself: only in the home region's stack. */
  readonly globalTable?: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: ResultsTableProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.tableName = props.tableName;
    if (stack.region === props.homeRegion) {
      const table = new dynamodb.TableV2(this, 'Table', {
        tableName: props.tableName,
        partitionKey: { name: RESULTS_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: RESULTS_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
        timeToLiveAttribute: RESULTS_TABLE.ttlAttribute,
        billing: dynamodb.Billing.onDemand(),
        encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
        dynamoStream: dynamodb.StreamViewType.NEW_IMAGE,
        replicas: props.probeRegions.filter((r) => r !== props.homeRegion).map((region) => ({ region })),
        // Results expire after hours and are rewritten every slot: nothing here outlives a redeploy.
        removalPolicy: RemovalPolicy.DESTROY,
      });
      this.globalTable = table;
      this.tableArn = table.tableArn;
      if (table.tableStreamArn === undefined) throw new Error('results table has no stream; the aggregator needs one');
      this.streamArn = table.tableStreamArn;
    } else {
      this.tableArn = tableArn(stack, stack.region, props.tableName);
      this.streamArn = new ReplicaStreamArn(this, 'ReplicaStream', { tableName: props.tableName, tableArn: this.tableArn, functionDefaults: props.functionDefaults }).streamArn;
    }
  }

  /** Sets RESULTS_TABLE_NAME and grants exactly the actions `access` needs on this region's replica. */
  bind(fn: BindableFunction, options: { readonly access: ResultsAccess }): void {
    fn.addEnvironment(ENV.resultsTable, this.tableName);
    const conditions = options.access === 'confirm' ? { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': PROBER_PARTITIONS } } : undefined;
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ACTIONS[options.access], resources: [this.tableArn], ...(conditions ? { conditions } : {}) }));
  }

  /**
   * Grants what a Lambda event source mapping needs to poll this region's replica stream.
   * ListStreams has no resource type in IAM, so it takes `*`.
   */
  bindStream(fn: BindableFunction & { readonly role: IConstruct }): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
        resources: [this.streamArn],
      }),
    );
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:ListStreams'], resources: ['*'] }));
    Validations.of(fn.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'dynamodb:ListStreams has no resource type in IAM, so it can only be granted on "*"; it lists stream ARNs and reads no data. Lambda needs it to poll the results stream.',
    });
  }
}
