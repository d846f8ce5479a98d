// Aggregator Lambda: a DynamoDB stream of round items → the aggregator engine; poison records quarantined in SQS.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { AggregatorEngine } from '../aggregator/engine';
import { AGGREGATOR_METRIC_NAMES, streamBatchMetrics } from '../aggregator/metrics';
import { sqsQuarantine } from '../aggregator/quarantine';
import { handleStreamBatch } from '../aggregator/stream';
import { isNotifyTestRequest, testNotification, type NotifyTestPublished, type NotifyTestRequest } from '../core/test-notification';
import { SnsPublisher } from '../notify/sns-publisher';
import { DynamoIncidentStore } from '../store/incident-store';
import { ResultsStore } from '../store/results-store';
import { ENV, requireEnv } from './env';
import { loadRuntimeConfig } from './runtime-config';

const resultsTable = requireEnv(ENV.resultsTable);
const incidentsTable = requireEnv(ENV.incidentsTable);
const topicArn = requireEnv(ENV.topicArn);
const probeRegion = requireEnv(ENV.probeRegion);
const failureQueueUrl = requireEnv(ENV.failureQueueUrl);
const config = loadRuntimeConfig();

const logger = new Logger({ serviceName: 'regionwatch-aggregator', persistentLogAttributes: { probeRegion } });
const metrics = new Metrics({ namespace: AGGREGATOR_METRIC_NAMES.namespace, serviceName: 'regionwatch-aggregator' });
// The dashboard and alarms address the aggregator's metrics by ProbeRegion only: no `service` dimension.
metrics.clearDefaultDimensions();
metrics.setDefaultDimensions({ [AGGREGATOR_METRIC_NAMES.probeRegionDimension]: probeRegion });
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });

const quarantine = sqsQuarantine({ client: new SQSClient({}), queueUrl: failureQueueUrl });

const publisher = new SnsPublisher({ client: new SNSClient({}), topicArn });
const engine = new AggregatorEngine({
  config,
  probeRegion,
  rounds: new ResultsStore({ client: documentClient, tableName: resultsTable, retentionHours: config.probing.resultRetentionHours }),
  incidents: new DynamoIncidentStore({ client: documentClient, tableName: incidentsTable }),
  publisher,
  clock: { now: () => Date.now() },
  log: (level, message, fields) => logger[level](message, fields ?? {}),
});

/**
 * Stream handler. Its metrics (lambda/aggregator/metrics.ts, namespace `RegionWatch`, dimension `ProbeRegion`)
 * feed the dashboard and the `NotificationsStuck` alarm (and, when rounds fan out, `RoundsIncomplete`).
 */
export async function handler(event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse>;
export async function handler(event: NotifyTestRequest, context?: Context): Promise<NotifyTestPublished>;
export async function handler(event: DynamoDBStreamEvent | NotifyTestRequest, context?: Context): Promise<DynamoDBBatchResponse | NotifyTestPublished> {
  if (context !== undefined) logger.addContext(context);
  // `regionwatch notify test --aws`: this role alone may publish to the topic, so the test goes out through it.
  if (isNotifyTestRequest(event)) {
    const notification = testNotification({ platform: config.platform, testId: event.testId, from: probeRegion, nowMs: Date.now() });
    const messageId = await publisher.publishWithId(notification);
    logger.info('published a test notification', { dedupKey: notification.dedupKey, messageId });
    return { messageId, topicArn, dedupKey: notification.dedupKey };
  }
  const outcome = await handleStreamBatch(
    event,
    (regions, batch) => engine.run({ regions, allUp: batch.allUp }),
    quarantine,
    (level, message, fields) => logger[level](message, fields),
  );
  for (const { name, value } of streamBatchMetrics(outcome)) metrics.addMetric(name, MetricUnit.Count, value);
  const run = outcome.run;
  if (run && run.incompleteRounds > 0) logger.warn('rounds still missing a shard', { event: 'rounds-incomplete', incompleteRounds: run.incompleteRounds, evaluatedSlot: run.evaluatedSlot });
  if (run && (run.transitions.length > 0 || run.checkerTransitions.length > 0)) {
    logger.info('transitions', { transitions: run.transitions, checker: run.checkerTransitions, evaluatedSlot: run.evaluatedSlot });
  }
  metrics.publishStoredMetrics();
  return { batchItemFailures: outcome.batchItemFailures };
}
