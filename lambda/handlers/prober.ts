// The prober Lambda: wiring only. Env, config and clients once per cold start; the probe engine does the work.
// Two events reach it: EventBridge's once-a-minute schedule (the minute's first round, the rest queued) and the rounds
// queue's messages through an SQS event source mapping: one round each, or with confirm on failure a confirmation
// request from any probe region (this one too), told apart by the body.
import { setTimeout as delay } from 'node:timers/promises';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, ScheduledEvent, SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { ProbeLogger } from '../probe/context';
import { confirmsFailures } from '../core/stagger';
import { isConfirmationMessage, parseConfirmationRequest } from '../core/confirmation';
import { ConfirmationRequester, runConfirmation } from '../probe/confirmations';
import { dynamoConfirmationClaim, dynamoSlotClaim } from '../probe/dynamo-claims';
import { ClockOffsetEstimator, runInvocation, type InvocationSummary, type RoundWatchFactory } from '../probe/invocation';
import { LATE_ROUNDS_METRIC, PROBE_METRIC_NAMES, summarizeRound } from '../probe/metrics';
import { runQueuedRound } from '../probe/queued-round';
import type { RoundData, RoundDeps } from '../probe/round';
import { parseRoundMessage } from '../probe/scheduling';
import { sqsRoundEnqueuer } from '../probe/sqs-rounds';
import { queueUrlsFrom, sqsConfirmationTransport } from '../probe/sqs-confirmations';
import { ResultsStore } from '../store/results-store';
import { shardPlan } from '../config/capacity';
import { ENV, requireEnv } from './env';
import { loadRuntimeConfig } from './runtime-config';

/** Time kept back from the Lambda timeout for the last write and the metric flush. */
const SHUTDOWN_MARGIN_MS = 5_000;
/** EMF allows 100 values per metric; Powertools flushes at 100 and then forgets dimensions, so batches stay below. */
const LATENCY_BATCH = 90;

const tableName = requireEnv(ENV.resultsTable);
const claimsTableName = requireEnv(ENV.claimsTable);
const probeRegion = requireEnv(ENV.probeRegion);
const roundsQueueUrl = requireEnv(ENV.roundsQueueUrl);
const config = loadRuntimeConfig();
// The round's shards, planned once per cold start (cached per config): every invocation reads the same plan.
const plan = shardPlan(config);
// Confirm on failure needs the queues the stacks made for it; a config that asks for it without them fails the cold start.
const confirmationQueueUrls = confirmsFailures(config) ? queueUrlsFrom(requireEnv(ENV.confirmationQueueUrl), config.probeRegions) : null;

const logger = new Logger({ serviceName: 'regionwatch-prober', persistentKeys: { probeRegion, ...(plan.shards > 1 ? { shards: plan.shards } : {}) } });
const metrics = new Metrics({ namespace: PROBE_METRIC_NAMES.namespace, serviceName: 'regionwatch-prober' });
// The dashboard and alarms address metrics by PlatformRegion and ProbeRegion only: no `service` dimension.
metrics.clearDefaultDimensions();

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const store = new ResultsStore({ client: documentClient, tableName, retentionHours: config.probing.resultRetentionHours });
const probeLogger: ProbeLogger = {
  info: (message, attributes) => logger.info(message, attributes ?? {}),
  warn: (message, attributes) => logger.warn(message, attributes ?? {}),
  error: (message, attributes) => logger.error(message, attributes ?? {}),
};
const claimSlot = dynamoSlotClaim({ client: documentClient, tableName: claimsTableName, logger: probeLogger });
// Two attempts: a second try is cheap next to running the rest of the minute here (the fallback), and the first round waits for it.
// The queue is in this region: send to the regional endpoint (or AWS_ENDPOINT_URL_SQS), whatever host the URL names.
const sqsClient = new SQSClient({ maxAttempts: 2, useQueueUrlAsEndpoint: false });
const enqueue = sqsRoundEnqueuer({ client: sqsClient, queueUrl: roundsQueueUrl, logger: probeLogger });
// Lives as long as the warm container: tells a skewed clock from a late delivery.
const clockOffsets = new ClockOffsetEstimator();

// One client per probe region a request goes to, made when first needed: SQS takes a message at its queue's own region.
// One attempt: a confirmation that cannot go at once is worth nothing later (the rounds go on).
const remoteSqs = new Map<string, SQSClient>();
const sqsFor = (region: string): SQSClient => {
  let client = remoteSqs.get(region);
  if (!client) {
    client = new SQSClient({ region, maxAttempts: 1, useQueueUrlAsEndpoint: false });
    remoteSqs.set(region, client);
  }
  return client;
};
const transport = confirmationQueueUrls ? sqsConfirmationTransport({ queueUrls: confirmationQueueUrls, clientFor: sqsFor }) : null;
const claimConfirmation = dynamoConfirmationClaim({ client: documentClient, tableName: claimsTableName });
const interval = config.defaults.intervalSeconds;
/** The requester of each round: asks every probe region to confirm the failures it sees (lambda/probe/confirmations.ts). */
const watchRound: RoundWatchFactory | undefined = transport
  ? (slot) => new ConfirmationRequester({ config, probeRegion, slot, transport, previous: (p, s, before) => store.newestChecks(p, [s - interval, s], before), logger: probeLogger })
  : undefined;

const deps: RoundDeps = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    try {
      await delay(ms, undefined, signal ? { signal } : {});
    } catch {
      // aborted: the caller looks at its own signal
    }
  },
  logger: probeLogger,
};

/** Availability and latency per platform region, with this probe region: the only dimensions, whatever the target count. */
export function publishRoundMetrics(sink: Metrics, round: RoundData): void {
  for (const summary of summarizeRound(round)) {
    const dimensions = { [PROBE_METRIC_NAMES.platformRegionDimension]: summary.platformRegion, [PROBE_METRIC_NAMES.probeRegionDimension]: round.probeRegion };
    sink.setTimestamp(round.startedAt);
    sink.addDimensions(dimensions);
    if (summary.availability !== undefined) sink.addMetric(PROBE_METRIC_NAMES.availability, MetricUnit.NoUnit, summary.availability);
    for (let i = 0; i < summary.latenciesMs.length; i += LATENCY_BATCH) {
      if (i > 0) sink.addDimensions(dimensions);
      for (const latency of summary.latenciesMs.slice(i, i + LATENCY_BATCH)) sink.addMetric(PROBE_METRIC_NAMES.latency, MetricUnit.Milliseconds, latency);
      sink.publishStoredMetrics();
    }
    if (sink.hasStoredMetrics()) sink.publishStoredMetrics();
  }
}

// Only the dashboard reads these (the alarms do not): without it they would be 18 billed metrics for nobody.
const publishesRoundMetrics = config.observability.dashboard;

/** What the log says of a round: counts, and a few failures by name for the log reader (the evidence is in the round item). */
function roundLogFields(round: RoundData, written: boolean): Record<string, unknown> {
  const down = round.results.filter((r) => r.status === 'down');
  return {
    // Only on a round that fans out: an unsharded round's line stays as it was.
    ...(round.shards === undefined ? {} : { shard: round.shard, shards: round.shards }),
    written,
    checks: round.results.length,
    down: down.length,
    degraded: round.results.filter((r) => r.status === 'degraded').length,
    durationMs: round.finishedAt - round.startedAt,
    failures: down.slice(0, 10).map((r) => `${r.region}/${r.target}: ${r.errorClass ?? 'down'}`),
  };
}

/** A round of the scheduled run: its own line (the invocation's line follows once the minute is queued). */
function onRound(round: RoundData, written: boolean): void {
  if (publishesRoundMetrics) publishRoundMetrics(metrics, round);
  logger.info('round finished', { event: 'round', slot: round.slot, ...roundLogFields(round, written) });
}

function isQueueEvent(event: Partial<ScheduledEvent> | SQSEvent | undefined): event is SQSEvent {
  return event !== undefined && 'Records' in event && Array.isArray(event.Records);
}

/**
 * The schedule's once-a-minute event, or a batch from the rounds queue. A scheduled invocation serves the rounds that
 * start in the 60 s from its event's `time` (a rate rule fires at some second of each minute and sends that second),
 * each round in the shards the config's plan says (lambda/config/capacity.ts): shard 0 of the first here, every other
 * shard and round as its own rounds-queue message. A manual invoke without `time` serves the 60 s from now.
 */
export async function handler(event: Partial<ScheduledEvent> | SQSEvent | undefined, context: Context): Promise<InvocationSummary | SQSBatchResponse> {
  logger.addContext(context);
  if (isQueueEvent(event)) return serveQueuedRounds(event);
  return serveMinute(event, context);
}

/**
 * A round message that cannot be served fails (and ends in the dead-letter queue); late and duplicate ones succeed
 * without probing. A confirmation request always succeeds: one that cannot be served is worthless a moment later.
 */
async function serveQueuedRounds(event: SQSEvent): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchItemFailure[] = [];
  // The mappings' batch size is 1; a longer batch is served in order all the same.
  for (const record of event.Records) {
    if (isConfirmationBody(record.body)) await serveConfirmation(record);
    else if (!(await serveQueuedRound(record))) batchItemFailures.push({ itemIdentifier: record.messageId });
  }
  return { batchItemFailures };
}

function isConfirmationBody(body: string): boolean {
  try {
    return isConfirmationMessage(JSON.parse(body));
  } catch {
    return false;
  }
}

async function serveConfirmation(record: SQSRecord): Promise<void> {
  try {
    const request = parseConfirmationRequest(record.body, config);
    const summary = await runConfirmation({ config, probeRegion, request, store, claim: claimConfirmation, clockOffsetMs: clockOffsets.current() }, deps);
    logger.info('confirmation finished', { event: 'confirmation', messageId: record.messageId, batch: request.batch, ...summary });
  } catch (error: unknown) {
    logger.error('confirmation failed', { event: 'confirmation-failed', messageId: record.messageId, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
}

async function serveQueuedRound(record: SQSRecord): Promise<boolean> {
  const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
  try {
    const message = parseRoundMessage(record.body, probeRegion);
    // One line per queued round: its outcome and, when it ran, what the round saw (the scheduled run's 'round
    // finished' fields). Two lines were 1.1 KB a round, 657,000 queued rounds a month at 10 s and 3 probe regions.
    let roundFields: Record<string, unknown> = {};
    const onQueuedRound = (round: RoundData, written: boolean): void => {
      if (publishesRoundMetrics) publishRoundMetrics(metrics, round);
      roundFields = roundLogFields(round, written);
    };
    const summary = await runQueuedRound({ config, probeRegion, message, store, claimSlot, onRound: onQueuedRound, ...(watchRound ? { watchRound } : {}) }, deps);
    logger.info('queued round finished', { event: 'queued-round', messageId: record.messageId, receiveCount, ...summary, ...roundFields });
    if (summary.outcome !== 'late') return true;
    metrics.addDimensions({ [PROBE_METRIC_NAMES.probeRegionDimension]: probeRegion });
    metrics.addMetric(LATE_ROUNDS_METRIC, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    // A redelivery is always late (it follows a failed or timed-out attempt by the visibility timeout): fail it
    // again so it lands in the dead-letter queue, where an alarm sees the lost round, instead of vanishing here.
    return receiveCount <= 1;
  } catch (error: unknown) {
    logger.error('queued round failed', { event: 'queued-round-failed', messageId: record.messageId, receiveCount, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    return false;
  }
}

async function serveMinute(event: Partial<ScheduledEvent> | undefined, context: Context): Promise<InvocationSummary> {
  const now = Date.now();
  const parsed = Date.parse(event?.time ?? '');
  const scheduledAt = Number.isFinite(parsed) ? parsed : now;
  const summary = await runInvocation(
    {
      config,
      probeRegion,
      scheduledAt,
      clockOffsetMs: clockOffsets.observe(now - scheduledAt),
      budgetMs: context.getRemainingTimeInMillis() - SHUTDOWN_MARGIN_MS,
      store,
      // No minute claim: every (slot, shard) the invocation probes itself is claimed, as the queued ones are, so a
      // doubled event probes nothing twice, and neither do two events whose 60 s overlap (one write a minute, as before).
      scheduling: { mode: 'invocation-per-round', enqueue, claimSlot },
      onRound,
      ...(watchRound ? { watchRound } : {}),
    },
    deps,
  );
  logger.info('invocation finished', { event: 'invocation', ...summary });
  // Nothing written at all is a failed run: no success event, so the heartbeat alarm in the watching region sees it.
  if (summary.outcome === 'ran' && summary.written.length === 0 && summary.failedWrites.length > 0) {
    throw new Error(`no round of minute ${summary.minute} could be written (${summary.failedWrites.length} failed)`);
  }
  return summary;
}
