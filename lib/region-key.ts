// The probe region's one customer managed KMS key: its SNS topics, every one of its CloudWatch log groups, and (home
// region) the status page's files.
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/**
 * The key's logical id from when the notifier owned it (`Notifications/Key`): kept, so that upgrading keeps the deployed
 * key (and the topics' and logs' encryption with it) instead of creating a new one and orphaning the old, which KMS
 * keeps billing until someone schedules its deletion.
 */
export const REGION_KEY_LOGICAL_ID = 'NotificationsKeyADCFA950';

/**
 * Why one key per region, shared: a customer managed key costs $1 a month (and $1 more for each of its first two
 * yearly rotations) whatever it encrypts, so a key per use (topics, logs) would add $3 to $9 a month across three probe
 * regions for no separation anyone relies on: the key policy already grants each service only what it needs, and each
 * only for this account and region (CloudWatch Logs by the log group ARN in the encryption context, CloudWatch alarms
 * by source account; EventBridge is limited by the checker topic's policy, see lib/alarm-relay.ts). A broken key breaks
 * this region's topics and logs together; the alarm relay reports from the next region when its SNS stops.
 *
 * The status page's bucket (home region) uses it too, with an S3 Bucket Key; CloudFront may decrypt with it through
 * origin access control (lib/status-page.ts says why that statement names no single distribution).
 *
 * What does not use it, and why: the DynamoDB global tables keep AWS-managed encryption (a customer managed key would
 * be charged a KMS request for table reads and writes on every replica, and no control asks for it), and the queues
 * keep SSE-SQS (free, and it meets CT.SQS.PR.2).
 *
 * Grants: CT.KMS.PR.3 wants a statement that denies kms:CreateGrant to everyone unless the grant is for an AWS resource
 * or the caller is an AWS service. Nothing of regionwatch creates grants (SNS and CloudWatch Logs use the key policy).
 */
export class RegionKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: 'regionwatch: SNS topics (platform notifications, checker alerts) and CloudWatch log groups of this region',
      enableKeyRotation: true,
    });
    (this.key.node.defaultChild as kms.CfnKey).overrideLogicalId(REGION_KEY_LOGICAL_ID);
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'GrantsOnlyForAwsResources',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:CreateGrant'],
        resources: ['*'],
        conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
      }),
    );
    // CloudWatch Logs encrypts and decrypts as its regional service principal, and names the log group in the
    // encryption context: the condition keeps it to this account's log groups in this region. The actions are what
    // AWS documents for an encrypted log group (Encrypt*, Decrypt*, ReEncrypt*, GenerateDataKey*, Describe*), spelled out.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsOfThisRegion',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*` } },
      }),
    );
  }
}
