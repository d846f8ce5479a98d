// The prober Lambda: wiring only. Env, config and clients once per cold start; the probe engine does the work.
import { setTimeout as delay } from 'node:timers/promises';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, ScheduledEvent } from 'aws-lambda';
import type { ProbeLogger } from '../probe/context';
import { dynamoMinuteClaim } from '../probe/dynamo-claims';
import { ClockOffsetEstimator, runInvocation, type InvocationSummary } from '../probe/invocation';
import { PROBE_METRIC_NAMES, summarizeRound } from '../probe/metrics';
import type { RoundData, RoundDeps } from '../probe/round';
import { ResultsStore } from '../store/results-store';
import { ENV, requireEnv } from './env';
import { loadRuntimeConfig } from './runtime-config';

/** Time kept back from the Lambda timeout for the last write and the metric flush. */
const SHUTDOWN_MARGIN_MS = 5_000;
/** EMF allows 100 values per metric; Powertools flushes at 100 and then forgets dimensions, so batches stay below. */
const LATENCY_BATCH = 90;

const tableName = requireEnv(ENV.resultsTable);
const probeRegion = requireEnv(ENV.probeRegion);
const config = loadRuntimeConfig();

const logger = new Logger({ serviceName: 'regionwatch-prober', persistentKeys: { probeRegion } });
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
const claimMinute = dynamoMinuteClaim({ client: documentClient, tableName, logger: probeLogger });
// Lives as long as the warm container: tells a skewed clock from a late delivery.
const clockOffsets = new ClockOffsetEstimator();

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

function onRound(round: RoundData, written: boolean): void {
  publishRoundMetrics(metrics, round);
  const down = round.results.filter((r) => r.status === 'down');
  logger.info('round finished', {
    event: 'round',
    slot: round.slot,
    written,
    checks: round.results.length,
    down: down.length,
    degraded: round.results.filter((r) => r.status === 'degraded').length,
    durationMs: round.finishedAt - round.startedAt,
    // A few failures by name for the log reader; the full evidence is in the round item.
    failures: down.slice(0, 10).map((r) => `${r.region}/${r.target}: ${r.errorClass ?? 'down'}`),
  });
}

/** EventBridge's once-a-minute event; `time` (the scheduled minute) picks the slots. A manual invoke without it serves the current minute. */
export async function handler(event: Partial<ScheduledEvent> | undefined, context: Context): Promise<InvocationSummary> {
  logger.addContext(context);
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
      claimMinute,
      onRound,
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
