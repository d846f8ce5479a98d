// What the prober reports to CloudWatch per round, as plain data: low cardinality (platform region × probe region), never per target.
import type { RoundData } from './round';

/**
 * Names the prober emits in Embedded Metric Format. They must equal lib/observability.ts's PROBE_METRICS
 * (the dashboard and alarms read them); a test pins the two together. Kept here so the Lambda bundle
 * does not import the CDK.
 */
export const PROBE_METRIC_NAMES = {
  namespace: 'RegionWatch',
  /** Share of a round's checks of one platform region that came back `up` (0..1), one value per round. */
  availability: 'Availability',
  /** Latency of each check that got an answer (up or degraded), ms. */
  latency: 'LatencyMs',
  platformRegionDimension: 'PlatformRegion',
  probeRegionDimension: 'ProbeRegion',
} as const;

/**
 * Queued rounds dropped because they arrived too late to finish inside their slot, per probe region (dimension
 * `ProbeRegion` only). Emitted only when it happens, so a healthy prober does not pay for the metric.
 */
export const LATE_ROUNDS_METRIC = 'LateRounds';

export interface PlatformRegionRoundSummary {
  platformRegion: string;
  checks: number;
  up: number;
  degraded: number;
  down: number;
  /** up / checks, or undefined for a round without checks of this region. */
  availability: number | undefined;
  /** Latencies of the checks that were up or degraded: a refused connection's 1 ms would flatter the percentiles. */
  latenciesMs: number[];
}

/** One summary per platform region present in the round, in first-seen order. */
export function summarizeRound(round: RoundData): PlatformRegionRoundSummary[] {
  const byRegion = new Map<string, PlatformRegionRoundSummary>();
  for (const result of round.results) {
    let summary = byRegion.get(result.region);
    if (!summary) {
      summary = { platformRegion: result.region, checks: 0, up: 0, degraded: 0, down: 0, availability: undefined, latenciesMs: [] };
      byRegion.set(result.region, summary);
    }
    summary.checks++;
    summary[result.status]++;
    if (result.status !== 'down') summary.latenciesMs.push(result.latencyMs);
  }
  for (const summary of byRegion.values()) summary.availability = summary.checks === 0 ? undefined : summary.up / summary.checks;
  return [...byRegion.values()];
}
