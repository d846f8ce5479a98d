// `regionwatch notify test`: a clearly marked test notification through every configured channel, and what happened
// on each. Locally, this machine delivers through each channel with the channels' own code; on AWS (`--aws`), each
// probe region's aggregator publishes it on the region's topic (email and other subscribers get it) and each channel
// notifier Lambda is invoked with it directly, so its answer says what its channel did.
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { ListSubscriptionsByTopicCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { SNSEvent } from 'aws-lambda';
import { channelFunctionName, functionNames } from '../config/names';
import type { RegionwatchConfig } from '../config/schema';
import type { Notification } from '../core/notification';
import type { NotifyTestPublished, NotifyTestRequest } from '../core/test-notification';
import type { NotifierOutcome } from './channel-notifier';
import type { LocalChannel } from './local-channels';
import { notificationBody, toPublishInput } from './sns-publisher';

export type ChannelResult = 'delivered' | 'failed' | 'skipped';

export interface ChannelOutcome {
  /** `local`, or the probe region. */
  where: string;
  /** `SNS topic`, `Slack`, `PagerDuty oncall`, `webhook opsgenie`. */
  channel: string;
  result: ChannelResult;
  detail: string;
}

/** Every channel delivered (and there was at least one): exit 0; otherwise 1. */
export function allDelivered(outcomes: readonly ChannelOutcome[]): boolean {
  return outcomes.length > 0 && outcomes.every((o) => o.result === 'delivered');
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Through each channel from this machine, one after another. */
export async function notifyTestLocally(channels: readonly LocalChannel[], notification: Notification): Promise<ChannelOutcome[]> {
  const outcomes: ChannelOutcome[] = [];
  for (const channel of channels) {
    if (!channel.deliver) {
      outcomes.push({ where: 'local', channel: channel.label, result: 'skipped', detail: `no secret here: ${channel.missing ?? 'not set up'}` });
      continue;
    }
    try {
      const done = await channel.deliver(notificationBody(notification), notification.subject, { maxTotalMs: 20_000 });
      outcomes.push({ where: 'local', channel: channel.label, result: 'delivered', detail: done.detail });
    } catch (error: unknown) {
      outcomes.push({ where: 'local', channel: channel.label, result: 'failed', detail: describe(error) });
    }
  }
  return outcomes;
}

export interface AwsClients {
  lambda: LambdaClient;
  sns: SNSClient;
}

/** The channel notifiers the config deploys, by label and function name. */
export function deployedChannels(config: RegionwatchConfig): { label: string; functionName: string }[] {
  const fns = functionNames(config.platform);
  return [
    ...(config.notifications.slackWebhookSecretName !== null ? [{ label: 'Slack', functionName: fns.slackNotifier }] : []),
    ...config.notifications.pagerDuty.map((p) => ({ label: `PagerDuty ${p.name}`, functionName: channelFunctionName(config.platform, 'pagerduty', p.name) })),
    ...config.notifications.webhooks.map((w) => ({ label: `webhook ${w.name}`, functionName: channelFunctionName(config.platform, 'webhook', w.name) })),
  ];
}

/** The SNS event a notifier Lambda gets for `notification`, as its topic subscription would hand it over. */
export function snsEventFor(notification: Notification, topicArn: string, messageId: string): SNSEvent {
  const input = toPublishInput(notification, topicArn);
  const attributes = Object.fromEntries(Object.entries(input.MessageAttributes ?? {}).map(([k, v]) => [k, { Type: v.DataType ?? 'String', Value: v.StringValue ?? '' }]));
  return {
    Records: [
      {
        EventVersion: '1.0',
        EventSubscriptionArn: `${topicArn}:regionwatch-notify-test`,
        EventSource: 'aws:sns',
        Sns: {
          SignatureVersion: '1',
          Timestamp: notification.at,
          Signature: '',
          SigningCertUrl: '',
          MessageId: messageId,
          Message: input.Message ?? '',
          MessageAttributes: attributes,
          Type: 'Notification',
          UnsubscribeUrl: '',
          TopicArn: topicArn,
          Subject: input.Subject ?? '',
        },
      },
    ],
  };
}

/** What went wrong invoking a function, in one line a person can act on. */
function invokeProblem(error: unknown, functionName: string, region: string): string {
  const name = error instanceof Error ? error.name : '';
  if (name === 'ResourceNotFoundException') return `${functionName} is not deployed in ${region}; run cdk deploy with this config`;
  if (name === 'AccessDeniedException' || name === 'AccessDenied') return `not allowed to invoke ${functionName} in ${region}; the credentials need lambda:InvokeFunction on it`;
  return describe(error);
}

async function invoke(lambda: LambdaClient, functionName: string, payload: unknown): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  const out = await lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(payload)) }));
  const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
  let value: unknown = null;
  try {
    value = text === '' ? null : JSON.parse(text);
  } catch {
    value = text;
  }
  if (out.FunctionError) {
    const message = value !== null && typeof value === 'object' && 'errorMessage' in value ? String((value as { errorMessage: unknown }).errorMessage) : text;
    return { ok: false, error: message.slice(0, 500) };
  }
  return { ok: true, value };
}

/** The topic's subscriptions as a person checks them: emails confirmed or waiting, other endpoints by protocol and host. */
async function subscriptionsLine(sns: SNSClient, topicArn: string, notifiers: readonly string[]): Promise<string> {
  const subs: { Protocol?: string; Endpoint?: string; SubscriptionArn?: string }[] = [];
  let token: string | undefined;
  // Bounded: 100 items a page, 20 pages.
  for (let page = 0; page < 20; page++) {
    const out = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken: token }));
    subs.push(...(out.Subscriptions ?? []));
    token = out.NextToken;
    if (!token) break;
  }
  const others = subs.filter((s) => !(s.Protocol === 'lambda' && notifiers.some((n) => s.Endpoint?.endsWith(`:function:${n}`))));
  if (others.length === 0) return 'no subscribers besides the channel notifiers';
  return others
    .map((s) => {
      const pending = s.SubscriptionArn === 'PendingConfirmation';
      if (s.Protocol === 'email' || s.Protocol === 'email-json') return `${s.Endpoint ?? '?'} (${pending ? 'waiting for confirmation: it gets nothing until confirmed' : 'confirmed'})`;
      let where = s.Protocol ?? '?';
      try {
        if (s.Endpoint && /^https?:/.test(s.Endpoint)) where = `${s.Protocol} ${new URL(s.Endpoint).host}`;
      } catch {
        // an endpoint that is not a URL: the protocol alone
      }
      return `${where}${pending ? ' (waiting for confirmation)' : ''}`;
    })
    .join('; ');
}

/**
 * In one probe region: the aggregator publishes the test on the topic, then each channel notifier is invoked with it.
 * Channel notifiers' own subscriptions filter tests out, so each channel gets the test once.
 */
export async function notifyTestOnAws(config: RegionwatchConfig, region: string, clients: AwsClients, testId: string, notification: (from: string) => Notification): Promise<ChannelOutcome[]> {
  const fns = functionNames(config.platform);
  const channels = deployedChannels(config);
  const outcomes: ChannelOutcome[] = [];
  const request: NotifyTestRequest = { regionwatch: 'notify-test', testId };
  let published: NotifyTestPublished | undefined;
  try {
    const answer = await invoke(clients.lambda, fns.aggregator, request);
    if (!answer.ok) {
      outcomes.push({ where: region, channel: 'SNS topic', result: 'failed', detail: `the aggregator could not publish: ${answer.error}` });
    } else {
      published = answer.value as NotifyTestPublished;
      let subscribers: string;
      try {
        subscribers = await subscriptionsLine(clients.sns, published.topicArn, channels.map((c) => c.functionName));
      } catch (error: unknown) {
        subscribers = `subscriptions not listed (${describe(error)})`;
      }
      outcomes.push({ where: region, channel: 'SNS topic', result: 'delivered', detail: `published (message ${published.messageId}); ${subscribers}` });
    }
  } catch (error: unknown) {
    outcomes.push({ where: region, channel: 'SNS topic', result: 'failed', detail: invokeProblem(error, fns.aggregator, region) });
  }
  const test = notification(region);
  const topicArn = published?.topicArn ?? `arn:aws:sns:${region}:000000000000:${config.platform}-regionwatch-notify-test`;
  for (const channel of channels) {
    try {
      const answer = await invoke(clients.lambda, channel.functionName, snsEventFor(test, topicArn, published?.messageId ?? `notify-test-${testId}`));
      if (!answer.ok) {
        outcomes.push({ where: region, channel: channel.label, result: 'failed', detail: answer.error });
        continue;
      }
      const outcome = answer.value as Partial<NotifierOutcome> | null;
      const detail = outcome?.deliveries?.[0]?.detail;
      outcomes.push(detail ? { where: region, channel: channel.label, result: 'delivered', detail } : { where: region, channel: channel.label, result: 'failed', detail: `the notifier delivered nothing (${JSON.stringify(outcome)})` });
    } catch (error: unknown) {
      outcomes.push({ where: region, channel: channel.label, result: 'failed', detail: invokeProblem(error, channel.functionName, region) });
    }
  }
  return outcomes;
}
