// What the aggregator reports to CloudWatch per stream batch, as plain data: one dimension (the probe region).
import type { StreamBatchOutcome } from './stream';

/**
 * Names the aggregator emits in Embedded Metric Format, in the prober's namespace (lambda/probe/metrics.ts) so
 * every regionwatch metric is in one place. lib/observability.ts imports this for the dashboard and alarms;
 * kept here so the Lambda bundle does not import the CDK.
 */
export const AGGREGATOR_METRIC_NAMES = {
  namespace: 'RegionWatch',
  /** The only dimension: the AWS region the aggregator runs in. */
  probeRegionDimension: 'ProbeRegion',
  metrics: {
    /** Stream records that were not readable round items, quarantined or not. */
    poisonRecords: 'PoisonRecords',
    /** Poison records that reached the failure queue (the rest were reported failed). */
    quarantinedRecords: 'QuarantinedRecords',
    /** Batches whose engine run failed (every record reported failed and retried). */
    runFailures: 'RunFailures',
    /** Incident and checker transitions written by the run. */
    transitions: 'Transitions',
    /** Failed SNS publishes in the run (each retried). */
    publishFailures: 'PublishFailures',
    /** Notifications still waiting in an outbox after the run. */
    pendingNotifications: 'PendingNotifications',
    /** Notifications that failed to publish run after run (alarmed). */
    stuckNotifications: 'StuckNotifications',
    /** Conditional writes lost to a concurrent aggregator (re-derived). */
    writeConflicts: 'WriteConflicts',
    /** Sharded rounds in the window that still miss a shard (engine.ts INCOMPLETE_AFTER_SLOTS): emitted only when rounds fan out. */
    incompleteRounds: 'IncompleteRounds',
  },
} as const;

export type AggregatorMetricName = (typeof AGGREGATOR_METRIC_NAMES.metrics)[keyof typeof AGGREGATOR_METRIC_NAMES.metrics];

/**
 * The counts one stream batch reports, in emission order: only those that are not zero. CloudWatch bills a custom
 * metric ($0.30 a month) for every hour it receives a value, and zeros are values: emitted on every batch, the 7 counts
 * of a healthy aggregator were 7 metrics in each probe region, $6.30 a month at 3 probe regions, and standby runs
 * (every batch of the two regions that do not hold the lease) $0.60 more, for lines that said nothing happened.
 * Reported only when they happen, like the prober's LateRounds: the alarm on StuckNotifications treats missing data
 * as not breaching, and a dashboard line is absent while its count is zero. A standby is not counted at all: it is the
 * normal state of every region but one, and the Lambda's Invocations metric and the lease item say which.
 */
export function streamBatchMetrics(outcome: StreamBatchOutcome): { name: AggregatorMetricName; value: number }[] {
  const m = AGGREGATOR_METRIC_NAMES.metrics;
  const out: { name: AggregatorMetricName; value: number }[] = [
    { name: m.poisonRecords, value: outcome.poison.length },
    { name: m.quarantinedRecords, value: outcome.poison.filter((p) => p.quarantined).length },
  ];
  const run = outcome.run;
  if (run) {
    out.push(
      { name: m.transitions, value: run.transitions.reduce((n, t) => n + t.events.length, 0) + run.checkerTransitions.length },
      { name: m.publishFailures, value: run.publishFailures },
      { name: m.pendingNotifications, value: run.pending },
      { name: m.stuckNotifications, value: run.stuck },
      { name: m.writeConflicts, value: run.conflicts },
    );
    // Always zero where rounds do not fan out, so never sent there: an unsharded deployment pays for no metric of it.
    out.push({ name: m.incompleteRounds, value: run.incompleteRounds });
  }
  if (outcome.runError) out.push({ name: m.runFailures, value: 1 });
  return out.filter((metric) => metric.value !== 0);
}
