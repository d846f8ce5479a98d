// Webhook notifier Lambda: subscribed to the notifications topic with its route's filter policy, POSTs each
// notification, signed with HMAC-SHA256 over timestamp and body, to the URL its secret holds.
import { Logger } from '@aws-lambda-powertools/logger';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context, SNSEvent } from 'aws-lambda';
import { createChannelNotifier, type NotifierOutcome } from '../notify/channel-notifier';
import { CachedSecret } from '../notify/channel-secret';
import { parseWebhookSecret, webhookDelivery } from '../notify/signed-webhook';
import { ALLOW_LOOPBACK_ENV, ENV, requireEnv } from './env';
import { loadRuntimeConfig } from './runtime-config';

const config = loadRuntimeConfig();
const channelName = requireEnv(ENV.channelName);
const secretName = requireEnv(ENV.channelSecretName);
const statusPageUrl = process.env[ENV.statusPageUrl] || undefined;
if (!config.notifications.webhooks.some((w) => w.name === channelName)) throw new Error(`${ENV.channelName} ${channelName} is not a webhook of the bundled config`);

const logger = new Logger({ serviceName: 'regionwatch-webhook-notifier', persistentKeys: { channel: channelName } });
const notify = createChannelNotifier({
  channel: `webhook ${channelName}`,
  logger,
  deliver: webhookDelivery({
    name: channelName,
    secret: new CachedSecret({ client: new SecretsManagerClient({}), secretName, parse: (text, name) => parseWebhookSecret(text, name, { allowLoopback: process.env[ALLOW_LOOPBACK_ENV] === 'true' }) }),
    platform: config.platform,
    ...(statusPageUrl ? { statusPageUrl } : {}),
  }),
});

export async function handler(event: SNSEvent, context?: Context): Promise<NotifierOutcome> {
  if (context !== undefined) logger.addContext(context);
  return notify(event, context?.getRemainingTimeInMillis());
}
