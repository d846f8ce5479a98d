// Platform notifications of one region: an SNS topic (KMS, TLS only, the aggregator alone publishes),
// the config's email subscriptions, and the Slack notifier subscribed with a dead-letter queue.
import { Duration, Lazy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { RegionwatchConfig } from '../lambda/config/schema';
import { ENV } from '../lambda/handlers/env';
import type { BindableFunction } from './binding';
import { RegionwatchFunction, handlerEntry, type FunctionDefaults } from './function';
import { deadLetterQueue, queueDestination } from './queues';

export interface NotifierProps {
  /** The validated config: `notifications.emails` and `notifications.slackWebhookSecretName`. */
  readonly config: RegionwatchConfig;
  /** The region's log key and retention, and VPC, for the Slack notifier. */
  readonly functionDefaults: FunctionDefaults;
  /** The region's key (lib/region-key.ts): both topics are encrypted with it. */
  readonly key: kms.Key;
  /** Physical name of the Slack notifier. @default - generated */
  readonly slackFunctionName?: string;
  /** Slack notifier entry file. @default lambda/handlers/slack-notifier.ts */
  readonly slackEntry?: string;
}

export class Notifier extends Construct {
  readonly topic: sns.Topic;
  /** The region's key (lib/region-key.ts), for both topics. */
  readonly key: kms.Key;
  /** Only when the config names a Slack webhook secret. */
  readonly slack?: { readonly fn: RegionwatchFunction; readonly deadLetters: sqs.Queue; readonly secret: secretsmanager.ISecret };
  private readonly publisherRoleArns: string[] = [];

  constructor(scope: Construct, id: string, props: NotifierProps) {
    super(scope, id);
    this.key = props.key;
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `regionwatch ${props.config.platform}`,
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const email of props.config.notifications.emails) {
      this.topic.addSubscription(new subs.EmailSubscription(email));
    }

    const secretName = props.config.notifications.slackWebhookSecretName;
    if (secretName !== null) {
      // By name only: the webhook URL never enters the template, the environment or the bundle.
      const secret = secretsmanager.Secret.fromSecretNameV2(this, 'SlackWebhook', secretName);
      const fn = new RegionwatchFunction(this, 'SlackNotifier', {
        config: props.config,
        functionDefaults: props.functionDefaults,
        entry: props.slackEntry ?? handlerEntry('lambda/handlers/slack-notifier.ts'),
        functionName: props.slackFunctionName,
        description: 'regionwatch Slack notifier: posts each notification to the Slack webhook',
        // One HTTPS POST per message: little memory, and a timeout that still beats SNS's retry pacing.
        memorySize: 256,
        timeout: Duration.seconds(15),
      });
      const deadLetters = deadLetterQueue(this, 'SlackDeadLetters', 'the Slack subscription and the Slack notifier');
      // Messages SNS could not hand to the function, and invocations that failed after Lambda's retries,
      // end in the same queue.
      fn.function.configureAsyncInvoke({ retryAttempts: 2, onFailure: queueDestination(fn, deadLetters) });
      this.bindSlackSecret(fn, secret, secretName);
      this.topic.addSubscription(new subs.LambdaSubscription(fn.function, { deadLetterQueue: deadLetters }));
      this.slack = { fn, deadLetters, secret };
    }
  }

  /**
   * Sets NOTIFICATIONS_TOPIC_ARN and lets `fn` publish: sns:Publish on the topic, the two KMS
   * actions SNS needs from a publisher on the topic's key, and a place on the topic policy.
   */
  bindPublisher(fn: BindableFunction & { readonly role: iam.IRole }): void {
    fn.addEnvironment(ENV.topicArn, this.topic.topicArn);
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [this.key.keyArn] }));
    if (this.publisherRoleArns.length === 0) {
      // Only bound publishers (the aggregator's role) may publish: anyone else is denied, even with
      // an IAM allow in their own policy.
      this.topic.addToResourcePolicy(
        new iam.PolicyStatement({
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['sns:Publish'],
          resources: [this.topic.topicArn],
          conditions: { ArnNotEquals: { 'aws:PrincipalArn': Lazy.list({ produce: () => this.publisherRoleArns }) } },
        }),
      );
    }
    this.publisherRoleArns.push(fn.role.roleArn);
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ArnPrincipal(fn.role.roleArn)],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
      }),
    );
  }

  private bindSlackSecret(fn: BindableFunction, secret: secretsmanager.ISecret, secretName: string): void {
    fn.addEnvironment(ENV.slackSecretName, secretName);
    // Secrets Manager appends six random characters to a secret's ARN; `-??????` matches exactly those.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [`${secret.secretArn}-??????`] }));
  }
}
