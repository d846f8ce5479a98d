// Cost rows of `npm run bench`: the example config's monthly bill and the 50-target reference workload, beside
// Route 53 and Synthetics; the bill at 50, 1,000 and 10,000 targets and its slope.
import { readFileSync } from 'node:fs';
import { parseConfig } from '../lambda/config/load';
import type { RegionwatchConfig } from '../lambda/config/schema';
import { estimateCost, referenceWorkload, withTargetCount, type CostEstimate } from '../lambda/cost/model';
import type { Bench, BenchRow } from './types';

const GOAL_USD = 20;

function dominant(e: CostEstimate): string {
  return `largest line ${e.dominant.service} ${e.dominant.item.replace(/ \(.*$/, '')} $${e.dominant.monthly.toFixed(2)} (${Math.round(e.dominant.share * 100)}%)`;
}

export const bench: Bench = async () => {
  const example = parseConfig(JSON.parse(readFileSync(new URL('../regionwatch.config.json', import.meta.url), 'utf8')), 'regionwatch.config.json');
  // The goal case, the reference workload: 50 targets (the example's mix of checks, repeated), its 3 probe
  // regions, a 10-second interval, Slack only.
  const goalConfig = referenceWorkload(example);
  const ex = estimateCost(example);
  const goal = estimateCost(goalConfig);
  // The same 50 targets with the example's PagerDuty service, webhook and public status page.
  const withChannels = estimateCost(withTargetCount({ ...example, defaults: { ...example.defaults, intervalSeconds: 10 } }, 50));
  // The first design: one invocation a minute that waited for the minute's later rounds, at 512 MB.
  const waitInMinute = estimateCost(goalConfig, { proberMemoryMb: 512, proberScheduling: 'wait-in-minute' });
  // Detection as it was: aligned rounds and no confirmation (probing.detection rounds), same targets.
  const aligned = estimateCost({ ...goalConfig, probing: { ...goalConfig.probing, detection: 'rounds' } });
  const confirmationLines = goal.lines.filter((l) => l.item.startsWith('confirmation'));
  const transport = confirmationLines.reduce((n, l) => n + l.monthly, 0);
  const rows: BenchRow[] = [
    {
      area: 'cost',
      figure: `example config (${ex.inputs.targets} targets, ${ex.inputs.probeRegions} probe regions, ${ex.inputs.intervalSeconds} s): monthly bill, list prices`,
      value: round2(ex.total),
      unit: '$/month',
      goal: 'below Synthetics (one canary per probe region)',
      ok: ex.total < ex.synthetics.perProbeRegion.total,
      baseline: { label: 'Synthetics, one multi-target canary per probe region, every minute', value: round2(ex.synthetics.perProbeRegion.total) },
      note: dominant(ex),
    },
    {
      area: 'cost',
      figure: 'example config: monthly bill vs Route 53 health checks',
      value: round2(ex.total),
      unit: '$/month',
      goal: 'informational',
      ok: true,
      baseline: { label: `Route 53 (${ex.route53.lines[0]?.quantity ?? 0} checks; ${ex.route53.uncoveredTargets} targets it cannot check)`, value: round2(ex.route53.total) },
      note: `$${ex.totalAfterFree.toFixed(2)} with the always-free allowances`,
    },
    {
      area: 'cost',
      figure: '50 targets, 3 probe regions, 10 s, Slack only (the reference workload): monthly bill, list prices',
      value: round2(goal.total),
      unit: '$/month',
      goal: `<= $${GOAL_USD}`,
      ok: goal.total <= GOAL_USD,
      baseline: { label: `Route 53 (${goal.route53.lines[0]?.quantity ?? 0} checks; ${goal.route53.uncoveredTargets} targets it cannot check)`, value: round2(goal.route53.total) },
      note: `${dominant(goal)}; $${goal.totalAfterFree.toFixed(2)} with the always-free allowances`,
    },
    {
      area: 'cost',
      figure: '50 targets, 3 probe regions, 10 s: monthly bill vs Synthetics',
      value: round2(goal.total),
      unit: '$/month',
      goal: 'below Synthetics (one canary per probe region)',
      ok: goal.total < goal.synthetics.perProbeRegion.total,
      baseline: { label: 'Synthetics, one multi-target canary per probe region, every minute', value: round2(goal.synthetics.perProbeRegion.total) },
      note: `one canary per target per probe region: $${goal.synthetics.perTarget.total.toFixed(0)}`,
    },
    {
      area: 'cost',
      figure: '50 targets, 3 probe regions, 10 s: monthly bill with the always-free allowances (Lambda, CloudWatch, SNS, SQS free tiers)',
      value: round2(goal.totalAfterFree),
      unit: '$/month',
      goal: `<= $${GOAL_USD}`,
      ok: goal.totalAfterFree <= GOAL_USD,
      note: 'only if nothing else in the account uses the free allowances',
    },
    {
      area: 'cost',
      figure: "50 targets with the example's PagerDuty service, webhook and public status page: monthly bill, list prices",
      value: round2(withChannels.total),
      unit: '$/month',
      goal: 'informational',
      ok: true,
      baseline: { label: 'the reference workload (Slack only)', value: round2(goal.total) },
      note: `$${withChannels.totalAfterFree.toFixed(2)} with the always-free allowances`,
    },
    {
      area: 'cost',
      figure: '50 targets: staggered rounds and confirm on failure against aligned rounds (probing.detection rounds)',
      value: round2(goal.total),
      unit: '$/month',
      goal: 'informational',
      ok: true,
      baseline: { label: 'aligned rounds, no confirmation', value: round2(aligned.total) },
      note: `the confirmation transport $${transport.toFixed(2)} (${confirmationLines.length} lines: ${goal.assumptions.confirmationBatchesPerMonth} request batches a month on the rounds queues); the rest is staggering's extra stream batches; $${goal.totalAfterFree.toFixed(2)} against $${aligned.totalAfterFree.toFixed(2)} after the always-free allowances`,
    },
    {
      area: 'cost',
      figure: '50 targets: one prober invocation per round (256 MB, as deployed) against the first design',
      value: round2(goal.total),
      unit: '$/month',
      goal: 'informational',
      ok: goal.total < waitInMinute.total,
      baseline: { label: 'one invocation a minute waiting for its later rounds (512 MB)', value: round2(waitInMinute.total) },
      note: dominant(waitInMinute).replace('largest line', 'first design\'s largest line'),
    },
  ];
  return [...rows, ...growth()];
};

/** `n` https targets, ten to a host, in the three platform regions of the example's probe regions, 300 ms answers. */
function spread(n: number): RegionwatchConfig {
  const regions: Record<string, { targets: unknown[] }> = { us: { targets: [] }, eu: { targets: [] }, apac: { targets: [] } };
  for (let i = 0; i < n; i++) {
    const region = ['us', 'eu', 'apac'][i % 3] ?? 'us';
    regions[region]?.targets.push({ name: `t${i}`, type: 'https', url: `https://h${Math.floor(i / 10)}.${region}.example/t${i}` });
  }
  return parseConfig({ platform: 'grow', probeRegions: ['us-east-1', 'eu-west-1', 'ap-southeast-1'], homeRegion: 'us-east-1', regions, probing: { expectedLatencyMs: 300 } });
}

/** The bill at 50, 1,000 and 10,000 targets (rounds sharded as the plan says) and its growth per target. */
function growth(): BenchRow[] {
  const sizes = [50, 1000, 10_000];
  const estimates = sizes.map((n) => estimateCost(spread(n)));
  const rows: BenchRow[] = estimates.map((e, n) => ({
    area: 'cost',
    figure: `${(sizes[n] ?? 0).toLocaleString('en-US')} targets, 3 probe regions, 10 s, ${e.inputs.shards} shard(s) per round: monthly bill, list prices`,
    value: round2(e.total),
    unit: '$/month',
    goal: 'below Route 53 (a health check per target)',
    ok: e.total < e.route53.total,
    baseline: { label: `Route 53 (${e.route53.lines[0]?.quantity ?? 0} checks)`, value: round2(e.route53.total) },
    note: dominant(e),
  }));
  const [small, middle, large] = estimates.map((e) => e.total);
  const slopeLow = ((middle ?? 0) - (small ?? 0)) / (1000 - 50);
  const slopeHigh = ((large ?? 0) - (middle ?? 0)) / (10_000 - 1000);
  rows.push({
    area: 'cost',
    figure: 'growth of the monthly bill per added target, from 1,000 to 10,000 targets',
    value: Math.round(slopeHigh * 10_000) / 10_000,
    unit: '$/month per target',
    goal: 'within 10 % of the slope from 50 to 1,000 (linear)',
    ok: Math.abs(slopeHigh - slopeLow) / slopeLow < 0.1,
    baseline: { label: 'slope from 50 to 1,000 targets', value: Math.round(slopeLow * 10_000) / 10_000 },
  });
  return rows;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
