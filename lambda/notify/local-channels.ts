// The config's channels on this machine (local mode and `notify test`): Slack, each PagerDuty service and each
// webhook, with the same delivery code as their Lambdas and the same routes, their secrets from the local secrets
// file (local mode has no Secrets Manager) or, for Slack, REGIONWATCH_SLACK_WEBHOOK_URL.
import type { RegionwatchConfig, RouteConfig } from '../config/schema';
import type { Notification, NotificationBody, NotificationPublisher } from '../core/notification';
import type { ChannelDelivery } from './channel-notifier';
import type { LocalSecretsFile } from './channel-secret';
import { parsePagerDutySecret } from './pagerduty';
import { pagerDutyDelivery, type IncidentLookup } from './pagerduty-notifier';
import { routes } from './route';
import { parseWebhookSecret, webhookDelivery } from './signed-webhook';
import { slackDelivery } from './slack-notifier';
import { notificationBody } from './sns-publisher';
import { parseWebhookUrl } from './webhook-secret';

export type Deliver = (body: NotificationBody, subject: string | undefined, bounds: { maxTotalMs: number }) => Promise<ChannelDelivery>;

export interface LocalChannel {
  kind: 'slack' | 'pagerduty' | 'webhook';
  /** `slack`, or the config's channel name. */
  name: string;
  /** `Slack`, `PagerDuty oncall`, `webhook opsgenie`. */
  label: string;
  /** What it gets; Slack gets everything. */
  route?: RouteConfig;
  /** Null when its secret is not available here; `missing` says how to provide it. */
  deliver: Deliver | null;
  missing?: string;
}

export interface LocalChannelOptions {
  secrets: LocalSecretsFile;
  /** REGIONWATCH_SLACK_WEBHOOK_URL: the Slack webhook URL itself. */
  slackWebhookUrl?: string;
  /** Reads an incident before a PagerDuty trigger (local mode's store), as the Lambda reads the table. */
  incidents?: IncidentLookup;
  statusPageUrl?: string;
}

/** One delivery's time bound here (the Lambda's is the invocation's). */
const LOCAL_DELIVERY_MS = 20_000;

export function localChannels(config: RegionwatchConfig, options: LocalChannelOptions): LocalChannel[] {
  const { secrets } = options;
  const where = secrets.path ?? 'a local secrets file (--secrets FILE)';
  const link = options.statusPageUrl ? { statusPageUrl: options.statusPageUrl } : {};
  const channels: LocalChannel[] = [];
  const slackSecret = config.notifications.slackWebhookSecretName;
  if (options.slackWebhookUrl !== undefined || slackSecret !== null) {
    let deliver: Deliver | null = null;
    if (options.slackWebhookUrl !== undefined) {
      const url = parseWebhookUrl(options.slackWebhookUrl, 'REGIONWATCH_SLACK_WEBHOOK_URL', { allowLoopback: true });
      deliver = slackDelivery({ webhookUrl: { get: async () => url, invalidate: () => undefined } });
    } else if (slackSecret !== null && secrets.has(slackSecret)) {
      deliver = slackDelivery({ webhookUrl: secrets.source(slackSecret, (text, name) => parseWebhookUrl(text, name, { allowLoopback: true })) });
    }
    channels.push({
      kind: 'slack',
      name: 'slack',
      label: 'Slack',
      deliver,
      ...(deliver ? {} : { missing: `set REGIONWATCH_SLACK_WEBHOOK_URL, or put "${slackSecret ?? ''}" in ${where}` }),
    });
  }
  for (const pd of config.notifications.pagerDuty) {
    const available = secrets.has(pd.routingKeySecretName);
    channels.push({
      kind: 'pagerduty',
      name: pd.name,
      label: `PagerDuty ${pd.name}`,
      route: pd.route,
      deliver: available
        ? pagerDutyDelivery({
            secret: secrets.source(pd.routingKeySecretName, (text, name) => parsePagerDutySecret(text, name, { allowLoopback: true })),
            eventsUrl: pd.eventsUrl,
            platform: config.platform,
            ...link,
            ...(options.incidents ? { incidents: options.incidents } : {}),
          })
        : null,
      ...(available ? {} : { missing: `put "${pd.routingKeySecretName}" (the routing key) in ${where}` }),
    });
  }
  for (const hook of config.notifications.webhooks) {
    const available = secrets.has(hook.secretName);
    channels.push({
      kind: 'webhook',
      name: hook.name,
      label: `webhook ${hook.name}`,
      route: hook.route,
      deliver: available
        ? webhookDelivery({
            name: hook.name,
            secret: secrets.source(hook.secretName, (text, name) => parseWebhookSecret(text, name, { allowLoopback: true })),
            platform: config.platform,
            ...link,
          })
        : null,
      ...(available ? {} : { missing: `put "${hook.secretName}" ({"url": ..., "signingSecret": ...}) in ${where}` }),
    });
  }
  return channels;
}

/** A local channel as a publisher: what its route sends, through its own delivery. */
export class ChannelPublisher implements NotificationPublisher {
  constructor(private readonly channel: LocalChannel & { deliver: Deliver }) {}

  async publish(notification: Notification): Promise<void> {
    if (this.channel.route && !routes(this.channel.route, notification)) return;
    await this.channel.deliver(notificationBody(notification), notification.subject, { maxTotalMs: LOCAL_DELIVERY_MS });
  }
}
