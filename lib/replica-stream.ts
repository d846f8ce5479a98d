// The exact stream ARN of a global table's replica in this stack's region, read at deploy time.
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Stack } from 'aws-cdk-lib';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { AWS_API_PORT } from '../lambda/config/egress';
import { CONTROL_TOWER_RULES, acknowledgeControl } from './control-tower';
import { OUTSIDE_VPC_REASON, type FunctionDefaults } from './function';
import { regionwatchLogGroup } from './log-groups';

/** Bump to make every non-home stack re-read its replica's stream ARN on the next deploy. */
export const REPLICA_STREAM_GENERATION = 1;

/** Construct id of the singleton Lambda behind every AwsCustomResource in a stack (fixed by aws-cdk-lib). */
const AWS_CUSTOM_RESOURCE_PROVIDER_ID = 'AWS679f53fac002430cb0da5b7982bd2287';

export interface ReplicaStreamArnProps {
  /** The global table's name (the same in every region). */
  readonly tableName: string;
  /** ARN of the replica in this stack's region. */
  readonly tableArn: string;
  /** The region's log key and retention, and VPC, for the custom resource's function. */
  readonly functionDefaults: FunctionDefaults;
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
 *
 * The provider (a CDK-owned singleton Lambda) gets a role made here rather than CDK's, which carries the managed
 * AWSLambdaBasicExecutionRole (and, in a VPC, AWSLambdaVPCAccessExecutionRole): it may write its own log group, call
 * DescribeTable on the one replica, and, in a VPC, manage its network interfaces like every regionwatch function.
 */
export class ReplicaStreamArn extends Construct {
  readonly streamArn: string;

  constructor(scope: Construct, id: string, props: ReplicaStreamArnProps) {
    super(scope, id);
    const { logs, network } = props.functionDefaults;
    const logGroup = regionwatchLogGroup(this, 'Logs', logs);
    const role = new iam.Role(this, 'ProviderRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'regionwatch replica stream ARN custom resource (execution role)',
    });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }));
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
      logGroup,
      role,
      ...(network ? { vpc: network.vpc, vpcSubnets: { subnets: network.subnets } } : {}),
      policy: AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({ actions: ['dynamodb:DescribeTable'], resources: [props.tableArn] }),
      ]),
    });
    this.streamArn = describe.getResponseField('Table.LatestStreamArn');
    // The provider is a singleton at stack level, shared by every AwsCustomResource of the stack (this is the only one).
    const provider = Stack.of(this).node.tryFindChild(AWS_CUSTOM_RESOURCE_PROVIDER_ID);
    if (!provider) throw new Error('the AwsCustomResource provider function was not found: aws-cdk-lib changed its construct id');
    if (network) {
      // AwsCustomResource takes no security groups, so its function made one that allows all egress. It calls DynamoDB
      // and CloudFormation's S3 response URL, both HTTPS: narrow the group to that.
      const securityGroup = provider.node.findChild('SecurityGroup') as ec2.SecurityGroup;
      (securityGroup.node.defaultChild as ec2.CfnSecurityGroup).addPropertyOverride('SecurityGroupEgress', [
        { CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: AWS_API_PORT, ToPort: AWS_API_PORT, Description: 'HTTPS: DynamoDB and the CloudFormation response' },
      ]);
      network.grantNetworkInterfaces(role, securityGroup);
    } else {
      acknowledgeControl(provider, CONTROL_TOWER_RULES.lambdaInVpc, OUTSIDE_VPC_REASON);
    }
  }
}
