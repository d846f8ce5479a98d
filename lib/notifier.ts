// Platform notifications of one region: an SNS topic (KMS, TLS only, the aggregator alone publishes), the config's
// email subscriptions, and the channel notifiers (Slack, each PagerDuty service, each signed webhook), each subscribed
// with its route as a filter policy and a dead-letter queue.
import { Duration, Lazy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { RegionwatchConfig, RouteConfig } from '../lambda/config/schema';
import { ENV } from '../lambda/handlers/env';
import { ALL_BUT_TESTS, filterPolicyOf, type FilterPolicy } from '../lambda/notify/route';
import type { BindableFunction } from './binding';
import { RegionwatchFunction, handlerEntry, type FunctionDefaults } from './function';
import type { IncidentsTable } from './incidents-table';
import { resourceNames } from './names';
import { queueDestination } from './queues';

export interface NotifierProps {
  /** The validated config: `notifications.emails` and `notifications.slackWebhookSecretName`. */
  readonly config: RegionwatchConfig;
  /** The region's parked-messages queue (lib/queues.ts): every channel's undeliverable notifications go there. */
  readonly parkedMessages: sqs.Queue;
  /** The region's log key and retention, and VPC, for the Slack notifier. */
  readonly functionDefaults: FunctionDefaults;
  /** The region's key (lib/region-key.ts): both topics are encrypted with it. */
  readonly key: kms.Key;
  /** Physical name of the Slack notifier. @default - generated */
  readonly slackFunctionName?: string;
  /** Slack notifier entry file. @default lambda/handlers/slack-notifier.ts */
  readonly slackEntry?: string;
  /** Read by the PagerDuty notifiers (one item by key) before a trigger, so a late trigger cannot reopen a resolved alert. */
  readonly incidentsTable: IncidentsTable;
  /** The status page's address, linked from PagerDuty alerts and webhook payloads. @default - no link */
  readonly statusPageUrl?: string;
}

/** A notifier function subscribed to the topic: its function, the queue that keeps what it could not deliver, and the label its alarm has. */
export interface ChannelNotifier {
  readonly kind: 'slack' | 'pagerduty' | 'webhook';
  /** The config's channel name (`slack` for Slack). */
  readonly name: string;
  readonly fn: RegionwatchFunction;
  /** Where its undeliverable notifications go: the region's parked-messages queue. */
  readonly deadLetters: sqs.Queue;
}

/** `oncall-eu` → `OncallEu`: a channel name inside a construct id and an alarm name. */
function pascal(name: string): string {
  return name
    .split('-')
    .map((part) => (part.length > 0 ? `${part[0]?.toUpperCase() ?? ''}${part.slice(1)}` : ''))
    .join('');
}

export class Notifier extends Construct {
  readonly topic: sns.Topic;
  /** The region's key (lib/region-key.ts), for both topics. */
  readonly key: kms.Key;
  /** Only when the config names a Slack webhook secret. */
  readonly slack?: ChannelNotifier;
  /** Every channel notifier: Slack, then each PagerDuty service and each webhook, in config order. */
  readonly channels: ChannelNotifier[] = [];
  private readonly parkedMessages: sqs.Queue;
  private readonly publisherRoleArns: string[] = [];

  constructor(scope: Construct, id: string, props: NotifierProps) {
    super(scope, id);
    this.key = props.key;
    this.parkedMessages = props.parkedMessages;
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `regionwatch ${props.config.platform}`,
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const email of props.config.notifications.emails) {
      this.topic.addSubscription(new subs.EmailSubscription(email));
    }

    const names = resourceNames(props.config.platform);
    const secretName = props.config.notifications.slackWebhookSecretName;
    if (secretName !== null) {
      this.slack = this.addChannel({
        kind: 'slack',
        name: 'slack',
        id: 'SlackNotifier',
        entry: props.slackEntry ?? handlerEntry('lambda/handlers/slack-notifier.ts'),
        functionName: props.slackFunctionName,
        description: 'regionwatch Slack notifier: posts each notification to the Slack webhook',
        // Tests come from `regionwatch notify test`, which invokes the notifier itself.
        filterPolicy: ALL_BUT_TESTS,
        secretName,
        secretEnv: ENV.slackSecretName,
        config: props.config,
        functionDefaults: props.functionDefaults,
      });
    }
    for (const pd of props.config.notifications.pagerDuty) {
      const channel = this.addChannel({
        kind: 'pagerduty',
        name: pd.name,
        id: `PagerDuty${pascal(pd.name)}`,
        entry: handlerEntry('lambda/handlers/pagerduty-notifier.ts'),
        functionName: names.pagerDutyFunction(pd.name),
        description: `regionwatch PagerDuty notifier ${pd.name}: triggers and resolves PagerDuty alerts (Events API v2)`,
        filterPolicy: this.routePolicy(pd.route),
        secretName: pd.routingKeySecretName,
        secretEnv: ENV.channelSecretName,
        config: props.config,
        functionDefaults: props.functionDefaults,
        statusPageUrl: props.statusPageUrl,
      });
      props.incidentsTable.bind(channel.fn, { access: 'get' });
    }
    for (const hook of props.config.notifications.webhooks) {
      this.addChannel({
        kind: 'webhook',
        name: hook.name,
        id: `Webhook${pascal(hook.name)}`,
        entry: handlerEntry('lambda/handlers/webhook-notifier.ts'),
        functionName: names.webhookFunction(hook.name),
        description: `regionwatch webhook notifier ${hook.name}: posts each notification, signed, to the webhook`,
        filterPolicy: this.routePolicy(hook.route),
        secretName: hook.secretName,
        secretEnv: ENV.channelSecretName,
        config: props.config,
        functionDefaults: props.functionDefaults,
        statusPageUrl: props.statusPageUrl,
      });
    }
  }

  private routePolicy(route: RouteConfig): FilterPolicy {
    return filterPolicyOf(route);
  }

  /**
   * One notifier: its function (15 s, 256 MB: a few HTTPS POSTs per message), its dead-letter queue for what SNS could
   * not hand over and what failed Lambda's retries, its subscription with the route's filter policy, and read access
   * to its secret by name only (the value never enters the template, the environment or the bundle).
   */
  private addChannel(spec: {
    kind: ChannelNotifier['kind'];
    name: string;
    id: string;
    entry: string;
    functionName: string | undefined;
    description: string;
    filterPolicy: FilterPolicy;
    secretName: string;
    secretEnv: string;
    config: RegionwatchConfig;
    functionDefaults: FunctionDefaults;
    statusPageUrl?: string | undefined;
  }): ChannelNotifier {
    const fn = new RegionwatchFunction(this, spec.id, {
      config: spec.config,
      functionDefaults: spec.functionDefaults,
      entry: spec.entry,
      functionName: spec.functionName,
      description: spec.description,
      memorySize: 256,
      timeout: Duration.seconds(15),
    });
    const deadLetters = this.parkedMessages;
    fn.function.configureAsyncInvoke({ retryAttempts: 2, onFailure: queueDestination(fn, deadLetters) });
    const secret = secretsmanager.Secret.fromSecretNameV2(this, `${spec.id}Secret`, spec.secretName);
    fn.addEnvironment(spec.secretEnv, spec.secretName);
    // Secrets Manager appends six random characters to a secret's ARN; `-??????` matches exactly those.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [`${secret.secretArn}-??????`] }));
    if (spec.kind !== 'slack') fn.addEnvironment(ENV.channelName, spec.name);
    if (spec.statusPageUrl) fn.addEnvironment(ENV.statusPageUrl, spec.statusPageUrl);
    const subscription = this.topic.addSubscription(new subs.LambdaSubscription(fn.function, { deadLetterQueue: deadLetters }));
    // The route's policy as it is (CDK's typed filters cannot say `$or`); the same JSON local mode evaluates.
    (subscription.node.defaultChild as sns.CfnSubscription).filterPolicy = spec.filterPolicy;
    const channel: ChannelNotifier = { kind: spec.kind, name: spec.name, fn, deadLetters };
    this.channels.push(channel);
    return channel;
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
}
