// The exact stream ARN of a global table's replica in this stack's region, read at deploy time.
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

/** Bump to make every non-home stack re-read its replica's stream ARN on the next deploy. */
export const REPLICA_STREAM_GENERATION = 1;

/** Construct id of the singleton Lambda behind every AwsCustomResource in a stack (fixed by aws-cdk-lib). */
const AWS_CUSTOM_RESOURCE_PROVIDER_ID = 'AWS679f53fac002430cb0da5b7982bd2287';

export interface ReplicaStreamArnProps {
  /** The global table's name (the same in every region). */
  readonly tableName: string;
  /** ARN of the replica in this stack's region. */
  readonly tableArn: string;
}

/**
 * Why a custom resource: CloudFormation's AWS::DynamoDB::GlobalTable returns the stream ARN of the
 * replica in its own (home) region only, and a stream ARN ends in a creation timestamp, so it
 * cannot be built from names. A Lambda event source mapping needs the exact ARN. The home stack
 * creates the replica in this region first (stack dependency), then this resource calls
 * DescribeTable on the local replica and hands `Table.LatestStreamArn` to the mapping. No SSM
 * parameter, no synth-time lookup, no credentials at synth.
 *
 * It re-reads the ARN whenever the table name changes; if a replica is ever re-created (its stream
 * gets a new label), bump REPLICA_STREAM_GENERATION and redeploy so the mapping follows.
 */
export class ReplicaStreamArn extends Construct {
  readonly streamArn: string;

  constructor(scope: Construct, id: string, props: ReplicaStreamArnProps) {
    super(scope, id);
    const call = {
      service: 'DynamoDB',
      action: 'describeTable',
      parameters: { TableName: props.tableName },
      physicalResourceId: PhysicalResourceId.of(`${props.tableName}#${REPLICA_STREAM_GENERATION}`),
      outputPaths: ['Table.LatestStreamArn'],
    };
    const describe = new AwsCustomResource(this, 'DescribeReplica', {
      onCreate: call,
      onUpdate: call,
      installLatestAwsSdk: false,
      logGroup: new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
      policy: AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({ actions: ['dynamodb:DescribeTable'], resources: [props.tableArn] }),
      ]),
    });
    this.streamArn = describe.getResponseField('Table.LatestStreamArn');
    // The provider is a singleton at stack level, shared by every AwsCustomResource of the stack.
    const provider = Stack.of(this).node.tryFindChild(AWS_CUSTOM_RESOURCE_PROVIDER_ID);
    if (provider) {
      Validations.of(provider).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'The CDK-owned AwsCustomResource provider; AWSLambdaBasicExecutionRole lets it write its own logs and nothing else. Its DescribeTable permission is scoped to the one replica.',
      });
    }
  }
}
