// Aggregator Lambda: a DynamoDB stream of round items → the aggregator engine; poison records quarantined in SQS.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { AggregatorEngine } from '../aggregator/engine';
import { sqsQuarantine } from '../aggregator/quarantine';
import { handleStreamBatch } from '../aggregator/stream';
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
const metrics = new Metrics({ namespace: 'regionwatch', serviceName: 'aggregator', defaultDimensions: { probeRegion } });
const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });

const quarantine = sqsQuarantine({ client: new SQSClient({}), queueUrl: failureQueueUrl });

const engine = new AggregatorEngine({
  config,
  probeRegion,
  rounds: new ResultsStore({ client: documentClient, tableName: resultsTable, retentionHours: config.probing.resultRetentionHours }),
  incidents: new DynamoIncidentStore({ client: documentClient, tableName: incidentsTable }),
  publisher: new SnsPublisher({ client: new SNSClient({}), topicArn }),
  clock: { now: () => Date.now() },
  log: (level, message, fields) => logger[level](message, fields ?? {}),
});

/**
 * Stream handler. Metrics (namespace `regionwatch`) that alarms watch: `PoisonRecords` (of which
 * `QuarantinedRecords` reached the failure queue; the rest were reported failed), `PublishFailures`,
 * `PendingNotifications`, `StuckNotifications` (a notification failing run after run), `Transitions`,
 * `StandbyRuns`, `WriteConflicts`.
 */
export async function handler(event: DynamoDBStreamEvent, context?: Context): Promise<DynamoDBBatchResponse> {
  if (context !== undefined) logger.addContext(context);
  const outcome = await handleStreamBatch(
    event,
    (regions) => engine.run({ regions }),
    quarantine,
    (level, message, fields) => logger[level](message, fields),
  );
  metrics.addMetric('PoisonRecords', MetricUnit.Count, outcome.poison.length);
  metrics.addMetric('QuarantinedRecords', MetricUnit.Count, outcome.poison.filter((p) => p.quarantined).length);
  const run = outcome.run;
  if (run) {
    if (!run.acted) metrics.addMetric('StandbyRuns', MetricUnit.Count, 1);
    metrics.addMetric('Transitions', MetricUnit.Count, run.transitions.reduce((n, t) => n + t.events.length, 0) + run.checkerTransitions.length);
    metrics.addMetric('PublishFailures', MetricUnit.Count, run.publishFailures);
    metrics.addMetric('PendingNotifications', MetricUnit.Count, run.pending);
    metrics.addMetric('StuckNotifications', MetricUnit.Count, run.stuck);
    metrics.addMetric('WriteConflicts', MetricUnit.Count, run.conflicts);
    if (run.transitions.length > 0 || run.checkerTransitions.length > 0) {
      logger.info('transitions', { transitions: run.transitions, checker: run.checkerTransitions, evaluatedSlot: run.evaluatedSlot });
    }
  }
  if (outcome.runError) metrics.addMetric('RunFailures', MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
  return { batchItemFailures: outcome.batchItemFailures };
}
