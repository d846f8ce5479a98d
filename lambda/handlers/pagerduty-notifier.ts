// PagerDuty notifier Lambda: subscribed to the notifications topic with its route's filter policy, sends each
// notification to PagerDuty's Events API v2 (trigger or resolve, the incident as dedup_key).
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SNSEvent } from 'aws-lambda';
import { createChannelNotifier, type NotifierOutcome } from '../notify/channel-notifier';
import { CachedSecret } from '../notify/channel-secret';
import { parsePagerDutySecret } from '../notify/pagerduty';
import { pagerDutyDelivery } from '../notify/pagerduty-notifier';
import { DynamoIncidentStore } from '../store/incident-store';
import { ALLOW_LOOPBACK_ENV, ENV, requireEnv } from './env';
import { loadRuntimeConfig } from './runtime-config';

const config = loadRuntimeConfig();
const channelName = requireEnv(ENV.channelName);
const secretName = requireEnv(ENV.channelSecretName);
const incidentsTable = requireEnv(ENV.incidentsTable);
const statusPageUrl = process.env[ENV.statusPageUrl] || undefined;
/** Tests only: lets the secret point at a loopback stand-in. Never set by the CDK app. */
const allowLoopback = process.env[ALLOW_LOOPBACK_ENV] === 'true';
const channel = config.notifications.pagerDuty.find((p) => p.name === channelName);
if (!channel) throw new Error(`${ENV.channelName} ${channelName} is not a pagerDuty channel of the bundled config`);

const logger = new Logger({ serviceName: 'regionwatch-pagerduty-notifier', persistentKeys: { channel: channelName } });
const incidents = new DynamoIncidentStore({ client: DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName: incidentsTable });
const notify = createChannelNotifier({
  channel: `PagerDuty ${channelName}`,
  logger,
  deliver: pagerDutyDelivery({
    secret: new CachedSecret({ client: new SecretsManagerClient({}), secretName, parse: (text, name) => parsePagerDutySecret(text, name, { allowLoopback }) }),
    eventsUrl: channel.eventsUrl,
    platform: config.platform,
    ...(statusPageUrl ? { statusPageUrl } : {}),
    incidents: (region, seq) => incidents.getIncident(region, seq),
    logger,
  }),
});

export async function handler(event: SNSEvent, context?: Context): Promise<NotifierOutcome> {
  if (context !== undefined) logger.addContext(context);
  return notify(event, context?.getRemainingTimeInMillis());
}
