// Slack notifier Lambda: subscribed to the notifications topic, posts each notification to the Slack webhook named by its secret.
import { Logger } from '@aws-lambda-powertools/logger';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context, SNSEvent } from 'aws-lambda';
import { ENV, requireEnv } from './env';
import { createSlackNotifier, type NotifierOutcome } from '../notify/slack-notifier';
import { WebhookUrlReader } from '../notify/webhook-secret';

/** Local mode and tests only: lets the secret hold an `http://127.0.0.1` URL. Never set by the CDK app. */
export const ALLOW_LOOPBACK_ENV = 'SLACK_WEBHOOK_ALLOW_LOOPBACK';

const logger = new Logger({ serviceName: 'regionwatch-slack-notifier' });
const secretName = requireEnv(ENV.slackSecretName);
const webhookUrl = new WebhookUrlReader({
  client: new SecretsManagerClient({}),
  secretName,
  allowLoopback: process.env[ALLOW_LOOPBACK_ENV] === 'true',
});
const notify = createSlackNotifier({ webhookUrl, logger });

export async function handler(event: SNSEvent, context?: Context): Promise<NotifierOutcome> {
  if (context !== undefined) logger.addContext(context);
  return notify(event, context?.getRemainingTimeInMillis());
}
