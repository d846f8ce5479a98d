// The prober's claims table: a regional DynamoDB table in each probe region, never replicated.
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ENV } from '../lambda/handlers/env';
import { CLAIMS_TABLE } from '../lambda/store/tables';
import type { BindableFunction } from './binding';

export interface ClaimsTableProps {
  /** Physical table name, the same in every probe region (each region has its own table of that name). */
  readonly tableName: string;
}

/**
 * Where the prober claims each (probe region, minute) and each queued slot with a conditional put, so a doubled
 * scheduled delivery or a duplicated rounds-queue message probes once, and the targets it confirmed in a slot, so a
 * confirmation request asked by several origins or delivered twice checks once (lambda/probe/dynamo-claims.ts). Only this
 * region's prober writes or reads it, so it is a plain regional table: in the global results table every claim was
 * also replicated to the two other regions and its TTL delete replicated back, four paid writes more per claim
 * (docs/cost.md). On-demand, encrypted with the AWS managed key like the results table, TTL on `expiresAt` (free in a
 * regional table), no stream. A claim lives a quarter of an hour, and a lost one costs at most one duplicate round.
 */
export class ClaimsTable extends Construct {
  readonly tableName: string;
  readonly tableArn: string;
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: ClaimsTableProps) {
    super(scope, id);
    // A plain AWS::DynamoDB::Table, not a TableV2 (a global table of one replica), so no later replica can be added by
    // mistake.
    this.table = new dynamodb.Table(this, 'Table', {
      tableName: props.tableName,
      partitionKey: { name: CLAIMS_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: CLAIMS_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: CLAIMS_TABLE.ttlAttribute,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // Asked for by cdk-nag (AwsSolutions-DDB3) and Control Tower; billed on the table's size, a few KB here.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Claims outlive their slot by minutes: nothing here outlives a redeploy.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.tableName = props.tableName;
    this.tableArn = this.table.tableArn;
  }

  /**
   * Sets CLAIMS_TABLE_NAME and grants the prober what it claims with: the conditional PutItem of a minute or slot claim,
   * and with confirm on failure the UpdateItem that adds a request's targets to a slot's confirmation claim.
   */
  bind(fn: BindableFunction, options: { readonly confirming: boolean }): void {
    fn.addEnvironment(ENV.claimsTable, this.tableName);
    const actions = options.confirming ? ['dynamodb:PutItem', 'dynamodb:UpdateItem'] : ['dynamodb:PutItem'];
    fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources: [this.tableArn] }));
  }
}
