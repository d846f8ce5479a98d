// The cost model against a case computed by hand, the Route 53 and Synthetics baselines, and the "what if" helpers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, validateConfig } from '../../lambda/config/load';
import { resolveTargets } from '../../lambda/config/resolve';
import type { RegionwatchConfig } from '../../lambda/config/schema';
import {
  DEFAULT_ASSUMPTIONS,
  dynamoItemBytes,
  estimateCost,
  proberRoundSeconds,
  roundItemSizes,
  staggeredBatchesPerRound,
  route53Baseline,
  syntheticsBaselines,
  referenceWorkload,
  withTargetCount,
  type CostEstimate,
  type UsageAssumptions,
} from '../../lambda/cost/model';
import { PRICES } from '../../lambda/cost/prices';

const ROOT = join(import.meta.dirname, '..', '..');
const example = () => parseConfig(JSON.parse(readFileSync(join(ROOT, 'regionwatch.config.json'), 'utf8')), 'regionwatch.config.json');

/** One probe region, one HTTPS target, a round a minute, no Slack, no email; the dashboard on, so every line is there. */
const tiny = (): RegionwatchConfig =>
  parseConfig({
    platform: 'tiny',
    probeRegions: ['us-east-1'],
    homeRegion: 'us-east-1',
    defaults: { intervalSeconds: 60, quorum: 1 },
    observability: { dashboard: true },
    logs: { invocationReports: true },
    regions: { us: { targets: [{ name: 'api', type: 'https', url: 'https://api.tiny.example/health', expect: { status: [200], bodyContains: 'ok' } }] } },
  });

/** `tiny` probed every 10 s. */
const tiny10 = (): RegionwatchConfig => parseConfig({ ...tiny(), defaults: { ...tiny().defaults, intervalSeconds: 10 } });

/** Round numbers, so every line below can be computed by hand. */
const HAND: Partial<UsageAssumptions> = {
  proberMemoryMb: 1024,
  proberLastRoundSeconds: 2,
  proberScheduling: 'wait-in-minute',
  proberClaimWritesPerMinute: 1,
  aggregatorMemoryMb: 1024,
  aggregatorInvocationsPerRound: 1,
  aggregatorDurationMs: 100,
  aggregatorStandbyDurationMs: 10,
  aggregatorStandbyKnownLeaseMs: 2,
  aggregatorQuietRunMs: 2,
  // A tenth of the month (730 h) not quiet.
  unquietHoursPerMonth: 73,
  consistentReads: false,
  incidentReadUnitsPerRead: 1,
  incidentChangeWriteUnitsPerMonth: 2_400,
  notificationsPerMonth: 100,
  checkerAlertsPerMonth: 0,
  metricNames: ['Availability', 'LatencyMs'],
  alarmsPerRegion: 8,
  dashboards: 1,
  kmsKeysPerRegion: 1,
  busyLogGroupsPerRegion: 3,
  kmsRequestsPerLogGroupHour: 12,
  logBytes: {
    lambdaPlatformPerInvocation: 1024,
    proberPerRound: 0,
    proberPerQueuedRound: 0,
    proberPerInvocation: 0,
    emfPerPlatformRegionPerRound: 0,
    aggregatorPerInvocation: 0,
    aggregatorPerNotification: 0,
    heartbeatEvent: 0,
    notifierPerNotification: 0,
    rendererPerRender: 0,
  },
  logStoredRatio: 0.1,
  bytesOutPerCheck: { https: 1500, http: 500, tcp: 250, dns: 120, tls: 900 },
};

function line(e: CostEstimate, service: string, itemStart: string): number {
  const found = e.lines.filter((l) => l.service === service && l.item.startsWith(itemStart));
  expect(found, `${service} ${itemStart}`).toHaveLength(1);
  return found[0]?.monthly ?? Number.NaN;
}

describe('estimateCost: a small case computed by hand (1 probe region, 1 target, 60 s interval)', () => {
  const e = estimateCost(tiny(), HAND);
  // A month is 730 h = 43,800 minutes; at a 60 s interval that is 43,800 rounds and 43,800 prober runs.
  const minutes = 43_800;
  const GiB = 1024 ** 3;

  it('counts rounds and checks', () => {
    expect(e.inputs).toMatchObject({ probeRegions: 1, platformRegions: 1, targets: 1, intervalSeconds: 60, roundsPerMonth: 43_800, checksPerMonth: 43_800, slack: false, emails: 0 });
    // One result Brotli-packed plus the item's keys: well under 1 KB, so one write unit.
    expect(e.inputs.roundItemBytes).toBeGreaterThan(150);
    expect(e.inputs.roundItemBytes).toBeLessThan(1024);
    expect(e.inputs.roundItemWriteUnits).toBe(1);
  });

  it('prices Lambda', () => {
    // 43,800 runs × $0.20 per million = $0.00876.
    expect(line(e, 'Lambda', 'prober requests')).toBeCloseTo(0.00876, 8);
    // One round a minute: only the last round's 2 s are billed. 43,800 × 2 s × 1 GB = 87,600 GB-s × $0.0000133334 = $1.16800584.
    expect(line(e, 'Lambda', 'prober duration')).toBeCloseTo(1.16800584, 8);
    // One aggregator invocation per round: 43,800 × $0.20/M = $0.00876; 43,800 × 0.1 s × 1 GB = 4,380 GB-s = $0.058400292.
    expect(line(e, 'Lambda', 'aggregator requests')).toBeCloseTo(0.00876, 8);
    expect(line(e, 'Lambda', 'aggregator duration')).toBeCloseTo(0.058400292, 8);
    expect(e.lines.some((l) => l.item.startsWith('Slack'))).toBe(false);
  });

  it('prices DynamoDB', () => {
    // 43,800 round items × 1 WRU × $0.625/M = $0.027375; no replicas, so no replicated writes or replicated TTL deletes.
    expect(line(e, 'DynamoDB', 'results writes')).toBeCloseTo(0.027375, 9);
    expect(e.lines.some((l) => l.price === 'dynamoReplicatedWriteUnits')).toBe(false);
    // One claim a minute (the scheduled run's slot): another 43,800 WRU = $0.027375.
    expect(line(e, 'DynamoDB', 'prober slot claims')).toBeCloseTo(0.027375, 9);
    // The engine's window at 60 s (windowBounds): 3 threshold slots + 3 of late tolerance (180 s) + the decision slot,
    // 2 of freshness look-back, and the slot before now = 10 slots of one item each. 10 × 300 B is under 4 KB: 1 RRU,
    // halved for eventual consistency, and the least a Query costs (0.5 RRU) for the empty range of the layout before the
    // ring; 43,800 × 1 = 43,800 RRU × $0.125/M.
    expect(e.inputs.aggregatorWindowSlots).toBe(10);
    expect(e.inputs.roundItemBytes).toBe(300);
    expect(e.inputs.aggregatorQueryBytes).toBe(3_000);
    expect(line(e, 'DynamoDB', 'results reads')).toBeCloseTo(0.005475, 9);
    // Consistent incident-table reads per run: the lease, the one region's Query, the checker item = 131,400 RRU × $0.125/M.
    expect(line(e, 'DynamoDB', 'incident table reads')).toBeCloseTo(0.016425, 9);
    // The lease renewed every 30 s (2 a minute): 87,600 WRU, and 2,400 for changes = 90,000 WRU × $0.625/M.
    expect(line(e, 'DynamoDB', 'incident table writes')).toBeCloseTo(0.05625, 9);
    // 60 rounds an hour × 48 h retained = 2,880 items of roundItemBytes, in one replica, at $0.25 per GB-month.
    expect(line(e, 'DynamoDB', 'results storage')).toBeCloseTo(((2_880 * e.inputs.roundItemBytes) / GiB) * 0.25, 12);
    expect(line(e, 'DynamoDB', 'streams')).toBe(0);
  });

  it('prices CloudWatch, SNS, KMS, EventBridge and data transfer', () => {
    // 1 platform region × 1 probe region × 2 names = 2 metrics × $0.30.
    expect(line(e, 'CloudWatch', 'custom metrics')).toBeCloseTo(0.6, 9);
    // 8 alarms (no Slack dead-letter alarm) × $0.10; one dashboard at $3.
    expect(line(e, 'CloudWatch', 'alarms')).toBeCloseTo(0.8, 9);
    expect(line(e, 'CloudWatch', 'dashboards')).toBeCloseTo(3, 9);
    // 1,024 B per invocation, 43,800 prober + 43,800 aggregator invocations = 89,702,400 B = 0.08354187 GiB × $0.50.
    const logGb = (2 * minutes * 1024) / GiB;
    expect(logGb).toBeCloseTo(0.0835418701, 9);
    expect(line(e, 'CloudWatch', 'logs ingested')).toBeCloseTo(logGb * 0.5, 9);
    // Kept logs.retentionDays (default 365 days: 12 billing months of 730 h), compressed to 0.1, $0.03 per GB-month.
    expect(e.inputs.logRetentionDays).toBe(365);
    expect(line(e, 'CloudWatch', 'logs stored')).toBeCloseTo(logGb * 12 * 0.1 * 0.03, 9);
    // 100 publishes × $0.50/M; no email subscribers.
    expect(line(e, 'SNS', 'publishes')).toBeCloseTo(0.00005, 9);
    expect(line(e, 'SNS', 'email deliveries')).toBe(0);
    // One customer managed key at $1 (both topics and every log group share it); 100 notifications × 2 KMS requests × $0.03 per 10,000.
    expect(line(e, 'KMS', 'customer managed keys')).toBeCloseTo(1, 9);
    expect(line(e, 'KMS', 'requests (encrypted topic')).toBeCloseTo(0.0006, 9);
    // The prober's, the aggregator's and the heartbeat log group, each asking for a data key 12 times an hour:
    // 3 × 12 × 730 = 26,280 requests × $0.03 per 10,000.
    expect(line(e, 'KMS', 'requests (CloudWatch Logs')).toBeCloseTo(0.07884, 9);
    // The schedule is free; two heartbeat events per run (destination, forward): 87,600 × $1/M.
    expect(line(e, 'EventBridge', 'prober schedule')).toBe(0);
    expect(line(e, 'EventBridge', 'prober heartbeats')).toBeCloseTo(0.0876, 9);
    // 43,800 checks × 1,500 B out = 0.0611884 GiB × $0.09.
    expect(line(e, 'Data transfer', 'probe traffic')).toBeCloseTo(((minutes * 1500) / GiB) * 0.09, 9);
    expect(e.lines.some((l) => l.price === 'dataTransferInterRegion')).toBe(false);
  });

  it('adds up', () => {
    const storage = ((2_880 * e.inputs.roundItemBytes) / GiB) * 0.25;
    const logGb = (2 * minutes * 1024) / GiB;
    const byHand =
      0.00876 + 1.16800584 + 0.00876 + 0.058400292 + // Lambda
      0.027375 * 2 + 0.005475 + 0.016425 + 0.05625 + storage + // DynamoDB
      0.6 + 0.8 + 3 + logGb * 0.5 + logGb * 12 * 0.1 * 0.03 + // CloudWatch
      0.00005 + 1 + 0.0006 + 0.07884 + 0.0876 + // SNS, KMS, EventBridge
      ((minutes * 1500) / GiB) * 0.09; // data transfer
    expect(e.total).toBeCloseTo(byHand, 8);
    expect(e.total).toBeCloseTo(6.99, 2);
    // The dashboard is the largest line of so small a setup.
    expect(e.dominant).toMatchObject({ service: 'CloudWatch', item: 'dashboards (one in the home region, reading every probe region)' });
    // Always-free covers the Lambda, the metrics, the alarms, the dashboard and the logs here; the keys remain.
    expect(e.totalAfterFree).toBeLessThan(e.total);
    expect(e.totalAfterFree).toBeGreaterThanOrEqual(1);
    expect(e.lines.reduce((n, l) => n + l.monthly, 0)).toBeCloseTo(e.total, 9);
  });
});

describe('the prober\'s time per round', () => {
  it('pays for the whole jitter spread: the last of n starts comes at n/(n+1) of the window, then its answer', () => {
    // 12 targets, 500 ms of jitter (the default): 500 × 12/13 ms + 0.6 s.
    expect(proberRoundSeconds(example())).toBeCloseTo(0.5 * (12 / 13) + 0.6, 9);
    expect(proberRoundSeconds(parseConfig({ ...example(), probing: { ...example().probing, jitterMs: 2000 } }))).toBeCloseTo(2 * (12 / 13) + 0.6, 9);
    // The window is clipped so that offset + timeoutMs ends before the round deadline (10 s - 1 s - 3 s - 0.1 s).
    expect(proberRoundSeconds(parseConfig({ ...example(), probing: { ...example().probing, jitterMs: 10_000 } }))).toBeCloseTo(5.9 * (12 / 13) + 0.6, 9);
    expect(proberRoundSeconds(parseConfig({ ...example(), probing: { ...example().probing, jitterMs: 0 } }))).toBeCloseTo(0.6, 9);
    // And the bill uses it, unless told otherwise.
    const e = estimateCost(example());
    expect(line(e, 'Lambda', 'prober duration')).toBeCloseTo(3 * 262_800 * proberRoundSeconds(example()) * 0.25 * 0.0000133334, 6);
    expect(line(estimateCost(example(), { proberLastRoundSeconds: 2 }), 'Lambda', 'prober duration')).toBeCloseTo(3 * 262_800 * 2 * 0.25 * 0.0000133334, 6);
  });
});

describe('the dashboard (observability.dashboard)', () => {
  it('is off by default: no dashboard, none of the probers\' metrics and none of their EMF log bytes', () => {
    const logBytes = { ...DEFAULT_ASSUMPTIONS.logBytes, emfPerPlatformRegionPerRound: 450 };
    const off = estimateCost(parseConfig({ ...tiny(), observability: {} }), { ...HAND, logBytes });
    const on = estimateCost(tiny(), { ...HAND, logBytes });
    expect(off.lines.some((l) => l.item.startsWith('custom metrics') || l.item.startsWith('dashboards'))).toBe(false);
    // 1 platform region × 1 probe region × 2 names × $0.30, the dashboard's $3, and 43,800 rounds × 450 B of EMF at $0.50/GiB.
    const emf = (43_800 * 450) / 1024 ** 3;
    expect(on.total - off.total).toBeCloseTo(0.6 + 3 + emf * 0.5 + emf * 12 * 0.1 * 0.03, 9);
  });
});

describe("Lambda's invocation reports (logs.invocationReports)", () => {
  it('are not priced for the prober and the aggregator by default (system log level WARN), and are with the key', () => {
    const off = estimateCost(parseConfig({ ...tiny(), logs: {} }), HAND);
    const on = estimateCost(tiny(), HAND);
    // HAND logs only the 1,024 B of platform lines per invocation: 43,800 prober + 43,800 aggregator invocations.
    expect(line(off, 'CloudWatch', 'logs ingested')).toBe(0);
    expect(line(on, 'CloudWatch', 'logs ingested')).toBeCloseTo(((2 * 43_800 * 1024) / 1024 ** 3) * 0.5, 9);
  });
});

describe('log retention', () => {
  it('stores logs.retentionDays of logs, in 730-hour months, and the key count does not change with it', () => {
    const month = estimateCost(parseConfig({ ...tiny(), logs: { retentionDays: 30, invocationReports: true } }), HAND);
    const year = estimateCost(tiny(), HAND);
    const stored = (e: CostEstimate) => e.lines.find((l) => l.item.startsWith('logs stored'))?.quantity ?? Number.NaN;
    expect(stored(year) / stored(month)).toBeCloseTo(365 / 30, 9);
    expect(month.lines.find((l) => l.item.startsWith('logs stored'))?.item).toBe('logs stored (30 days retained: 1 month of logs once full, compressed)');
    expect(line(month, 'KMS', 'customer managed keys')).toBe(line(year, 'KMS', 'customer managed keys'));
  });
});

describe('one invocation per round, by hand (1 probe region, 1 target, 10 s interval)', () => {
  const e = estimateCost(tiny10(), { ...HAND, proberScheduling: 'invocation-per-round' });

  it('bills each round as its own invocation, not the waits between them', () => {
    // 6 rounds a minute × 43,800 minutes = 262,800 invocations × $0.20/M = $0.05256.
    expect(line(e, 'Lambda', 'prober requests')).toBeCloseTo(0.05256, 8);
    // 262,800 × 2 s × 1 GB = 525,600 GB-s × $0.0000133334 = $7.00803504 (waiting in the minute: 43,800 × 52 s = $30.37).
    expect(line(e, 'Lambda', 'prober duration')).toBeCloseTo(7.00803504, 8);
    expect(line(estimateCost(tiny10(), HAND), 'Lambda', 'prober duration')).toBeCloseTo(43_800 * 52 * 0.0000133334, 6);
  });

  it('adds the rounds queue and a slot claim per queued round', () => {
    // Per minute: one SendMessageBatch (5 rounds), a receive and a delete per round (10), 15 idle long polls = 26 requests;
    // 43,800 × 26 = 1,138,800 × $0.40/M = $0.45552.
    expect(line(e, 'SQS', 'rounds queue')).toBeCloseTo(0.45552, 8);
    // The scheduled run's slot claim and five queued ones a minute: 262,800 WRU × $0.625/M = $0.16425.
    expect(line(e, 'DynamoDB', 'prober slot claims')).toBeCloseTo(0.16425, 8);
  });

  it('writes claims once, in each probe region\'s regional claims table: no replication, no replicated TTL delete', () => {
    // The example: 3 probe regions. 6 claims a minute per region × 43,800 minutes × 3 = 788,400 WRU, and nothing replicated.
    const three = estimateCost(example(), { ...HAND, proberScheduling: 'invocation-per-round' });
    expect(three.lines.filter((l) => l.item.includes('claims') && !l.item.startsWith('confirmation')).map((l) => [l.quantity, l.price])).toEqual([[788_400, 'dynamoWriteRequestUnits']]);
  });
});

describe('the aggregator as the engine runs it (the example: 3 probe regions, 10 s)', () => {
  const aligned = () => parseConfig({ ...example(), probing: { ...example().probing, detection: 'rounds' } });
  const e = estimateCost(aligned(), HAND);
  const rounds = 262_800;

  it('invokes every region\'s aggregator, but only the acting one works and reads the results window', () => {
    // Aligned rounds (the first design): 3 regions × 262,800 rounds × 1 invocation; one region acts (100 ms at 1 GB), two
    // stand by: 10 ms when they read the lease (twice a minute each: 175,200), 2 ms when the lease they saw cannot have
    // changed yet.
    expect(e.lines.find((l) => l.item.startsWith('aggregator requests'))?.quantity).toBe(3 * rounds);
    const standbyReads = 2 * 43_800 * 2;
    expect(e.lines.find((l) => l.item.startsWith('aggregator duration'))?.quantity).toBeCloseTo(rounds * 0.1 + standbyReads * 0.01 + (2 * rounds - standbyReads) * 0.002, 6);
    // windowBounds at 10 s: 3 + 18 (180 s) + 1 decision slots, 2 of look-back, the slot before now = 25 slots,
    // 3 round items each of 501 B = 37,575 B: 10 × 4 KB, 5 RRU eventually consistent, and 0.5 for the pre-ring layout's
    // empty range, per acting invocation only.
    expect(e.inputs).toMatchObject({ aggregatorWindowSlots: 25, roundItemBytes: 501, aggregatorQueryBytes: 37_575 });
    expect(e.lines.find((l) => l.item.startsWith('results reads'))?.quantity).toBe(rounds * 5.5);
    expect(line(e, 'DynamoDB', 'results reads')).toBeCloseTo(rounds * 5.5 * 0.125e-6, 9);
    // The lease in all 3 regions twice a minute (262,800 GetItems, not one per invocation: 788,400), and per acting run
    // 3 region Queries and the checker item (1,051,200).
    expect(e.lines.find((l) => l.item.startsWith('incident table reads'))?.quantity).toBe(3 * 43_800 * 2 + 4 * rounds);
  });

  it('staggered rounds arrive apart: one stream batch per probe region\'s round, and a record per confirmation request in every replica', () => {
    const staggered = estimateCost(example(), HAND);
    // 3.3 s apart, beyond the 2 s batching window: 3 batches a round in each of 3 regions, plus 300 request batches
    // a month × 3 probe regions of confirmation records, each in every region's stream.
    expect(staggeredBatchesPerRound(3, 10)).toBe(3);
    expect(staggeredBatchesPerRound(3, 5)).toBe(2);
    expect(staggeredBatchesPerRound(1, 10)).toBe(1);
    expect(staggered.lines.find((l) => l.item.startsWith('aggregator requests'))?.quantity).toBe(3 * (3 * rounds + 900));
    // The acting one evaluates a slot's first batch; the other two are quiet runs (2 ms, no reads) but in the tenth of
    // the month something is wrong.
    const standbyReads = 2 * 43_800 * 2;
    const quiet = rounds * 2 * 0.9;
    expect(staggered.lines.find((l) => l.item.startsWith('aggregator duration'))?.quantity).toBeCloseTo((3 * rounds + 900 - quiet) * 0.1 + quiet * 0.002 + standbyReads * 0.01 + (2 * (3 * rounds + 900) - standbyReads) * 0.002, 6);
    const evaluations = 3 * rounds + 900 - quiet;
    // 5.5 RRU an evaluation (the same window as aligned rounds above), none in a quiet run.
    expect(staggered.lines.find((l) => l.item.startsWith('results reads'))?.quantity).toBeCloseTo(evaluations * 5.5, 6);
    expect(staggered.lines.find((l) => l.item.startsWith('incident table reads'))?.quantity).toBeCloseTo(3 * 43_800 * 2 + 4 * evaluations, 6);
  });

  it('prices the confirmation transport: per request batch a message on each rounds queue, an invocation, a claim and an item per probe region', () => {
    const c = estimateCost(example(), HAND);
    // 900 messages sent, received, deleted, on the rounds queues: no idle long polls of their own (a confirmations
    // queue per region cost 15 a minute each, 1,971,000 requests a month).
    expect(c.lines.find((l) => l.item.startsWith('confirmation requests on the rounds queues'))?.quantity).toBe(3 * 900);
    expect(line(c, 'SQS', 'confirmation requests on the rounds queues')).toBeCloseTo(2700 * 0.4e-6, 12);
    expect(c.lines.filter((l) => l.service === 'SQS' && l.quantity > 0).map((l) => l.item)).toEqual(['confirmation requests on the rounds queues (each sent, received and deleted; no idle polls of their own)']);
    expect(c.lines.find((l) => l.item.startsWith('confirmation requests served'))?.quantity).toBe(900);
    // 900 invocations × 3 s × 1 GB (HAND's prober memory).
    expect(c.lines.find((l) => l.item.startsWith('confirmation duration'))?.quantity).toBeCloseTo(2700, 9);
    expect(c.lines.find((l) => l.item.startsWith('confirmation claims (regional) and items ('))?.quantity).toBe(1800);
    // Only the items are replicated (and TTL-deleted) in the 2 other replicas: the claims are in the regional claims table.
    expect(c.lines.find((l) => l.item.startsWith('confirmation items replicated'))?.quantity).toBe(900 * 2 * 2);
    // Nothing of it without confirmation, or with one probe region.
    expect(e.lines.some((l) => l.item.startsWith('confirmation'))).toBe(false);
    expect(estimateCost(tiny(), HAND).lines.some((l) => l.item.startsWith('confirmation'))).toBe(false);
  });

  it('takes the window from the engine\'s windowBounds, so thresholds and intervals move it', () => {
    const slow = parseConfig({ ...example(), defaults: { ...example().defaults, failureThreshold: 5 } });
    expect(estimateCost(slow).inputs.aggregatorWindowSlots).toBe(27);
    // Freshness looks back two of the longest target interval: a 60 s target adds 10 slots of look-back at 10 s.
    const regions = { ...example().regions, us: { targets: [...(example().regions.us?.targets ?? []).map((t) => ({ ...t, intervalSeconds: 60 }))] } };
    expect(estimateCost(parseConfig({ ...example(), regions })).inputs.aggregatorWindowSlots).toBe(35);
  });

  it('writes the incident table when the lease is renewed (every half lease), not every round', async () => {
    const { DEFAULT_LEASE_MS } = await import('../../lambda/store/lease');
    expect(DEFAULT_LEASE_MS).toBe(60_000);
    expect(e.lines.find((l) => l.item.startsWith('incident table writes'))?.quantity).toBe(43_800 * 2 + 2_400);
    expect(e.lines.find((l) => l.item.startsWith('incident table replicated writes'))?.quantity).toBe(2 * (43_800 * 2 + 2_400));
  });

  it('never counts more aggregator invocations a round than round items reach a replica', () => {
    // One probe region, one item a round: one batch, whatever the assumption says.
    expect(estimateCost(tiny10()).lines.find((l) => l.item.startsWith('aggregator requests'))?.quantity).toBe(rounds);
  });
});

describe('global tables and Slack', () => {
  it('charges replicated writes for every other replica but no TTL deletes (round items are overwritten on a ring), and a secret per probe region', () => {
    const e = estimateCost(example());
    const writes = e.lines.find((l) => l.item.startsWith('results writes'));
    const replicated = e.lines.find((l) => l.item.startsWith('results replicated writes'));
    const ttl = e.lines.find((l) => l.item.startsWith('results TTL deletes'));
    expect(replicated?.quantity).toBeCloseTo((writes?.quantity ?? 0) * 2, 6);
    expect(ttl?.quantity).toBe(0);
    // Slack, PagerDuty oncall and webhook opsgenie: a secret (or replica) each in each of the 3 regions.
    expect(e.inputs).toMatchObject({ channels: 3, statusPage: 'public' });
    expect(e.lines.find((l) => l.service === 'Secrets Manager' && l.unit === 'secrets')?.quantity).toBe(9);
    // 10 alarms in each of 3 regions whatever the channels (one on the parked-messages queue), and the status page
    // renderer's at home (test/infra pins the count to the templates).
    expect(e.lines.find((l) => l.item.startsWith('alarms'))?.quantity).toBe(3 * 10 + 1);
  });
});

describe('the hosted status page and the channel notifiers', () => {
  const page = { rendersOnChangePerMonth: 1_240, rendererMemoryMb: 1024, rendererDurationMs: 1000, filesWrittenPerRender: 4, bytesWrittenPerRender: 0, readUnitsPerRender: 10, requestsPerMonth: 20_000_000, bytesPerRequest: 1024 ** 3 / 1_000_000 };
  const withPage = (mode: 'public' | 'private') => parseConfig({ ...tiny(), statusPage: { mode } });

  it('prices a public page by hand: 10,000 renders, their PUTs and reads, CloudFront past its free tier', () => {
    // 43,800 minutes / 5 = 8,760 scheduled renders + 1,240 on changes = 10,000 renders.
    const e = estimateCost(withPage('public'), { ...HAND, statusPage: page });
    expect(line(e, 'Lambda', 'status page renderer requests')).toBeCloseTo(10_000 * 0.2e-6, 12);
    // 10,000 × 1 s × 1 GB = 10,000 GB-s.
    expect(line(e, 'Lambda', 'status page renderer duration')).toBeCloseTo(10_000 * 0.0000133334, 9);
    // 40,000 PUTs at $0.005 per 1,000; 10,000 GETs at $0.0004 per 1,000.
    expect(line(e, 'S3', 'status page files written')).toBeCloseTo(0.2, 9);
    expect(line(e, 'S3', 'status page renderer reads')).toBeCloseTo(0.004, 9);
    // 100,000 RRU at $0.125 per million; the readers read none.
    expect(line(e, 'DynamoDB', 'incident table reads by the status page renderer')).toBeCloseTo(0.0125, 9);
    // 20 M requests at $0.01 per 10,000 = $20 list, 10 M of them always free; 20 M × 1,073.74 B = 20 GiB × $0.085.
    const requests = e.lines.find((l) => l.item.startsWith('status page requests'));
    expect(requests?.monthly).toBeCloseTo(20, 9);
    expect(requests?.afterFree).toBeCloseTo(10, 9);
    expect(line(e, 'CloudFront', 'status page data out')).toBeCloseTo(20 * 0.085, 6);
    // One alarm (renderer errors) besides the region's: its dead letters go to the parked-messages queue.
    expect(e.lines.find((l) => l.item.startsWith('alarms'))?.quantity).toBe(8 + 1);
  });

  it('prices a private page by its S3 reads instead of CloudFront, and no page at all', () => {
    const e = estimateCost(withPage('private'), { ...HAND, statusPage: page });
    expect(e.lines.some((l) => l.service === 'CloudFront')).toBe(false);
    expect(line(e, 'S3', 'status page reads through VPC endpoints')).toBeCloseTo(20_000_000 * 0.0004e-3, 9);
    const off = estimateCost(tiny(), HAND);
    expect(off.lines.some((l) => l.service === 'S3' || l.item.includes('status page'))).toBe(false);
  });

  it('counts every channel notifier: a delivery and a secret per region each, and no alarm of its own', () => {
    const channels = parseConfig({
      ...tiny(),
      notifications: {
        pagerDuty: [{ name: 'oncall', routingKeySecretName: 'regionwatch/pd' }],
        webhooks: [
          { name: 'a', secretName: 'regionwatch/a' },
          { name: 'b', secretName: 'regionwatch/b' },
        ],
      },
    });
    const e = estimateCost(channels, HAND);
    expect(e.inputs.channels).toBe(3);
    // 100 notifications to each of 3 channels: 300 invocations of 0.4 s at 256 MB.
    expect(e.lines.find((l) => l.item.startsWith('channel notifier requests'))?.quantity).toBe(300);
    expect(e.lines.find((l) => l.item.startsWith('channel notifier requests'))?.item).toBe('channel notifier requests (PagerDuty oncall, webhook a, webhook b)');
    expect(e.lines.find((l) => l.item.startsWith('channel notifier duration'))?.quantity).toBeCloseTo(300 * 0.4 * 0.25, 9);
    expect(e.lines.find((l) => l.service === 'Secrets Manager' && l.unit === 'secrets')?.quantity).toBe(3);
    expect(line(e, 'Secrets Manager', 'channel secrets')).toBeCloseTo(1.2, 9);
    // No alarm per channel: their dead letters go to the region's parked-messages queue, which has the one.
    expect(e.lines.find((l) => l.item.startsWith('alarms'))?.quantity).toBe(8);
  });
});

describe('the alarm relay (lib/alarm-relay.ts)', () => {
  const quantity = (e: CostEstimate, service: string, itemStart: string) => e.lines.find((l) => l.service === service && l.item.startsWith(itemStart))?.quantity;

  it('forwards each checker alarm change to the next probe region, which publishes it again', () => {
    // The example: 3 probe regions, one email address, Slack. 1,000 alarm changes and no notifications, to count by hand.
    const e = estimateCost(example(), { checkerAlertsPerMonth: 1_000, notificationsPerMonth: 0 });
    // One cross-region event per change ($1/M): the change on the local bus is a free AWS service event.
    expect(quantity(e, 'EventBridge', 'relayed checker alarm changes')).toBe(1_000);
    expect(line(e, 'EventBridge', 'relayed checker alarm changes')).toBeCloseTo(0.001, 9);
    // Published by its own region and by the next one: 2,000 publishes, 2,000 emails to the one address.
    expect(quantity(e, 'SNS', 'publishes')).toBe(2_000);
    expect(quantity(e, 'SNS', 'email deliveries')).toBe(2_000);
  });

  it('relays nothing with one probe region (the ring closes on itself)', () => {
    const e = estimateCost(tiny(), { ...HAND, checkerAlertsPerMonth: 1_000 });
    expect(e.lines.some((l) => l.item.startsWith('relayed checker alarm changes'))).toBe(false);
    expect(quantity(e, 'SNS', 'publishes')).toBe(1_100);
  });
});

describe('Route 53 baseline', () => {
  const targets = resolveTargets(
    parseConfig({
      platform: 'r53',
      probeRegions: ['us-east-1', 'eu-west-1', 'ap-southeast-1'],
      homeRegion: 'us-east-1',
      defaults: { intervalSeconds: 10 },
      regions: {
        us: {
          targets: [
            { name: 'api', type: 'https', url: 'https://api.r53.example/health', expect: { bodyContains: 'ok' } },
            { name: 'db', type: 'tcp', host: 'db.r53.example', port: 5432, intervalSeconds: 60 },
            { name: 'write', type: 'http', method: 'POST', role: 'write-probe', url: 'https://api.r53.example/canary' },
            { name: 'cert', type: 'tls', host: 'api.r53.example' },
            { name: 'dns', type: 'dns', hostname: 'api.r53.example' },
          ],
        },
      },
    }),
  );

  it('prices an HTTPS string-matching 10 s check outside AWS at $6.85 and a 60 s TCP check at $0.85, alarms included', () => {
    const b = route53Baseline(targets, DEFAULT_ASSUMPTIONS);
    // api: $0.75 basic + $2 fast interval + $2 HTTPS + $2 string matching + $0.10 alarm = $6.85.
    // db: $0.75 basic + $0.10 alarm = $0.85 (60 s is the standard interval, plain TCP).
    expect(b.total).toBeCloseTo(6.85 + 0.85, 9);
    expect(b.gaps.join('\n')).toContain('us/write: write probe');
    expect(b.gaps.join('\n')).toContain('us/cert: certificate expiry');
    expect(b.gaps.join('\n')).toContain('us/dns: DNS answers');
  });

  it('is cheaper for AWS endpoints (first 50 basic checks free)', () => {
    const b = route53Baseline(targets, { ...DEFAULT_ASSUMPTIONS, route53Endpoints: 'aws' });
    // api: $0.50 + 3 × $1 + $0.10; db: $0.50 + $0.10.
    expect(b.total).toBeCloseTo(3.6 + 0.6, 9);
    expect(b.lines[0]?.afterFree).toBe(0);
  });

  it('makes Route 53 far dearer than regionwatch per added HTTPS target', () => {
    const base = example();
    const small = estimateCost(base);
    const large = estimateCost(withTargetCount(base, 120));
    const perTarget = (large.total - small.total) / (120 - 12);
    expect(perTarget).toBeLessThan(1);
    expect(PRICES.route53HealthCheckNonAws.usd + 3 * PRICES.route53OptionNonAws.usd).toBeGreaterThan(6);
  });
});

describe('Synthetics baseline', () => {
  it('counts one run a minute per canary, plus its Lambda', () => {
    const targets = resolveTargets(tiny());
    const s = syntheticsBaselines(targets, 3, DEFAULT_ASSUMPTIONS);
    // 1 target × 3 probe regions × 43,800 minutes = 131,400 runs × $0.0012 = $157.68.
    expect(s.perTarget.lines[0]?.monthly).toBeCloseTo(157.68, 6);
    // The same canary with 1 GB × 3 s of x86 Lambda per run: 394,200 GB-s × $0.0000166667.
    expect(s.perTarget.lines[1]?.monthly).toBeCloseTo(394_200 * 0.0000166667, 6);
    expect(s.perProbeRegion.total).toBeLessThanOrEqual(s.perTarget.total);
  });
});

describe('what if', () => {
  it('withTargetCount repeats the config\'s own targets with unique names, and the result is a valid config', () => {
    const fifty = withTargetCount(example(), 50);
    const targets = resolveTargets(fifty);
    expect(targets).toHaveLength(50);
    for (const region of Object.keys(fifty.regions)) {
      const names = targets.filter((t) => t.region === region).map((t) => t.name);
      expect(new Set(names).size).toBe(names.length);
    }
    expect(validateConfig(fifty).ok).toBe(true);
    expect(resolveTargets(withTargetCount(example(), 3))).toHaveLength(3);
  });

  it('invents HTTPS targets for a config without any', () => {
    const empty = parseConfig({ platform: 'e', probeRegions: ['us-east-1'], homeRegion: 'us-east-1', defaults: { quorum: 1 }, regions: { us: { targets: [] }, eu: { targets: [] } } });
    const t = resolveTargets(withTargetCount(empty, 4));
    expect(t.map((x) => `${x.region}/${x.name}`)).toEqual(['us/health-1', 'us/health-3', 'eu/health-2', 'eu/health-4']);
  });

  it('one invocation per round (the default) is cheaper than waiting inside the minute at a 10 s interval', () => {
    const c = withTargetCount(example(), 50);
    const perRound = estimateCost(c);
    const wait = estimateCost(c, { proberScheduling: 'wait-in-minute' });
    expect(perRound.assumptions.proberScheduling).toBe('invocation-per-round');
    // At the same 256 MB: the waits (50 s a minute) against six rounds of about 1.1 s, less the queue and the slot claims.
    expect(perRound.total).toBeLessThan(wait.total - 10);
    expect(perRound.lines.some((l) => l.service === 'SQS' && l.item.startsWith('rounds queue'))).toBe(true);
    expect(wait.lines.some((l) => l.service === 'SQS' && l.item.startsWith('rounds queue'))).toBe(false);
  });
});

describe('the reference workload (50 targets, 3 probe regions, 10 s, Slack only)', () => {
  it('costs at most $20 a month at list prices, keeping what on-call relies on: every region\'s checker alarms, its key, detection by confirmation', () => {
    const config = referenceWorkload(example());
    expect(resolveTargets(config)).toHaveLength(50);
    expect(config.notifications.slackWebhookSecretName).not.toBeNull();
    const e = estimateCost(config);
    expect(e.inputs).toMatchObject({ targets: 50, probeRegions: 3, intervalSeconds: 10, channels: 1, statusPage: 'off', detection: 'confirm', confirming: true });
    expect(e.total).toBeLessThanOrEqual(20);
    expect(e.totalAfterFree).toBeLessThan(e.total);
    expect(e.lines.find((l) => l.service === 'CloudWatch' && l.item.startsWith('alarms'))?.quantity).toBe(3 * DEFAULT_ASSUMPTIONS.alarmsPerRegion);
    expect(e.lines.find((l) => l.service === 'KMS' && l.item.startsWith('customer managed keys'))?.quantity).toBe(3);
    // Logs kept a year, encrypted: what AWS Control Tower's CT.CLOUDWATCH.PR.2 asks for.
    expect(e.inputs.logRetentionDays).toBe(365);
  });
});

describe('round item sizing uses the real packing', () => {
  it('grows with targets, far slower than one write unit per target', () => {
    const few = roundItemSizes(resolveTargets(example()), 10, 48);
    const many = roundItemSizes(resolveTargets(withTargetCount(example(), 50)), 10, 48);
    expect(many.bytes).toBeGreaterThan(few.bytes);
    // 50 targets still fit one write unit (Brotli; gzip needed two).
    expect(many.writeUnits).toBe(1);
    expect(few.itemsPerRound).toBe(1);
  });

  it('sizes items as DynamoDB does: names plus values', () => {
    // "a" (1) + "xyz" (3); "n" (1) + 12345 (3 significant-digit pairs → 3 + 1 = 4); "b" (1) + 10 bytes.
    expect(dynamoItemBytes({ a: 'xyz', n: 12345, b: new Uint8Array(10) })).toBe(4 + 5 + 11);
  });
});

describe('the assumptions match the infrastructure', () => {
  it('prober memory and scheduling are what lib/prober.ts deploys', async () => {
    const { PROBER_MEMORY_MB } = await import('../../lib/prober');
    expect(DEFAULT_ASSUMPTIONS).toMatchObject({ proberMemoryMb: PROBER_MEMORY_MB, proberScheduling: 'invocation-per-round' });
  });

  it('metric names are the prober\'s EMF names', async () => {
    const { PROBE_METRICS } = await import('../../lib/observability');
    expect([...DEFAULT_ASSUMPTIONS.metricNames].sort()).toEqual([PROBE_METRICS.availability, PROBE_METRICS.latency].sort());
  });
});

describe('estimateCost at scale: shards and a bill linear in targets', () => {
  /** `n` https targets, ten to a host, answering in 300 ms. */
  const spread = (n: number) =>
    parseConfig({
      platform: 'big',
      probeRegions: ['us-east-1', 'eu-west-1', 'ap-southeast-1'],
      homeRegion: 'us-east-1',
      probing: { expectedLatencyMs: 300 },
      regions: { us: { targets: Array.from({ length: n }, (_, i) => ({ name: `t${i}`, type: 'https', url: `https://h${Math.floor(i / 10)}.big.example/t${i}` })) } },
    });

  it('bills a prober invocation per shard per round, each for its shard\'s checks', () => {
    const e = estimateCost(spread(10_000));
    expect(e.inputs).toMatchObject({ shards: 8, checksPerShard: 1250 });
    // The last of 1,250 starts over the 500 ms jitter window, its answer (0.6 s), then 19 more waves of 64 checks
    // (ceil(1250 / 64) = 20 in all), 300 ms each.
    expect(e.inputs.shardRoundSeconds).toBeCloseTo(0.5 * (1250 / 1251) + 0.6 + 19 * 0.3, 6);
    const requests = e.lines.find((l) => l.service === 'Lambda' && l.item.startsWith('prober requests'));
    expect(requests?.item).toBe('prober requests (one per round per probe region × 8 shards)');
    expect(requests?.quantity).toBe(3 * (43_800 * 6) * 8);
    // Each shard writes its own round items: at least one per shard.
    expect(roundItemSizes(resolveTargets(spread(10_000)), 10, 48, 8).itemsPerRound).toBeGreaterThanOrEqual(8);
  });

  it('grows linearly: the cost per added target is the same from 2,000 to 6,000 as from 6,000 to 10,000', () => {
    const total = (n: number) => estimateCost(spread(n)).total;
    const [a, b, c] = [total(2000), total(6000), total(10_000)];
    const slopeLow = (b - a) / 4000;
    const slopeHigh = (c - b) / 4000;
    expect(Math.abs(slopeHigh - slopeLow) / slopeLow).toBeLessThan(0.1);
  });
});
