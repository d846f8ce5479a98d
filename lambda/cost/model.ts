// The monthly AWS bill of a config, line by line (pure), and the same coverage bought as Route 53 health checks and Synthetics canaries.
import type { ProbeResult } from '../core/results';
import { shardPlan } from '../config/capacity';
import { resolveTargets, type ResolvedTarget } from '../config/resolve';
import { ROUND_WRITE_MARGIN_MS } from '../config/round-timing';
import type { RegionwatchConfig, TargetConfig } from '../config/schema';
import { evaluationSettings, windowBounds } from '../core/evaluate';
import { START_MARGIN_MS, confirmsFailures, isStaggered } from '../core/stagger';
import { AGGREGATOR_STREAM_SETTINGS } from '../aggregator/stream-settings';
import { isDue } from '../probe/round';
import type { ProberScheduling } from '../probe/scheduling';
import { filesEncryptedWithKey } from '../status-page/files';
import { DEFAULT_LEASE_MS } from '../store/lease';
import { toRoundItems } from '../store/results-store';
import { ALWAYS_FREE, GB, HOURS_PER_MONTH, MINUTES_PER_MONTH, PRICES, PRICES_AS_OF, SECONDS_PER_MONTH, costOf, type PriceName } from './prices';

/**
 * What the bill depends on besides the config. Each default says where it comes from; change them with
 * `estimateCost(config, { ... })` or the CLI's flags to ask "what if".
 */
export interface UsageAssumptions {
  /** Prober memory (lib/prober.ts: 256 MB, arm64). */
  proberMemoryMb: number;
  /**
   * Seconds a round keeps one shard busy. Default: derived from the config and the shard plan by `proberRoundSeconds`:
   * the round lasts until its last check has answered, so it pays for the whole spread of request starts (the latest of
   * n offsets spread over the jitter window comes at n/(n+1) of it), then `proberAnswerSeconds`, and a shard of more
   * checks than `probing.concurrency` runs in waves, each `probing.expectedLatencyMs`. With `invocation-per-round` that
   * is each invocation's billed time; with `wait-in-minute` it is the last round's, and the rounds before it are paid
   * for in full.
   */
  proberLastRoundSeconds?: number;
  /**
   * What a round takes after its last start: that check's answer (an HTTPS check across continents is three round
   * trips, 0.4-0.7 s), packing the results at the prober's CPU share and the PutItem.
   */
  proberAnswerSeconds: number;
  /**
   * How sub-minute rounds are paid for. `invocation-per-round` (what lib/prober.ts deploys): the minute's invocation
   * runs its first round and queues the others on SQS with DelaySeconds, so each round is its own short invocation.
   * `wait-in-minute` (local mode, and the deployed prober's fallback when the queue fails): one invocation a minute
   * runs every round and is billed for the waits between them.
   */
  proberScheduling: ProberScheduling;
  /**
   * Conditional puts the scheduled run makes a minute (lambda/probe/dynamo-claims.ts): the claim of the slot it runs
   * itself, against doubled or overlapping schedule deliveries. `invocation-per-round` adds one slot claim per queued
   * round (and shard), against duplicated queue deliveries.
   */
  proberClaimWritesPerMinute: number;
  /** Aggregator memory (lib/aggregator.ts: 512 MB, arm64). */
  aggregatorMemoryMb: number;
  /**
   * Aggregator invocations per round in each probe region (the acting one and each standby alike) with aligned rounds
   * (`probing.detection: rounds`): each replica's stream carries the round items of every probe region for a slot
   * (its own at once, the others' after replication), and the 2-second batching window (lib/aggregator.ts) gathers
   * them into one batch, or two when one arrives later than the window. Never more than the round items a slot
   * brings. Staggered rounds arrive an interval over the probe regions apart: as many batches as the window cannot
   * join (`staggeredBatchesPerRound`).
   */
  aggregatorInvocationsPerRound: number;
  /**
   * Confirm on failure: request batches a month, deployment-wide. A probe region sends one each time one of its rounds
   * sees targets start failing (an outage's first round, a blip, its own network's trouble), one message to every
   * probe region; a target that stays down is not asked about again. 300: ten incidents a month seen from three probe
   * regions, and ten times as many blips and partitions that the confirmations find over.
   */
  confirmationBatchesPerMonth: number;
  /**
   * Billed seconds of a confirmation invocation: the wait until the failure is minFaultSeconds old (2 s by default,
   * shorter when the failure was a timeout) and the checks.
   */
  confirmationSeconds: number;
  /** Billed duration of the acting aggregator's invocation (lease, Queries, evaluation, writes), in ms. */
  aggregatorDurationMs: number;
  /** Billed duration of a standby's invocation that reads the lease (one GetItem), then returns (lambda/aggregator/engine.ts), in ms. */
  aggregatorStandbyDurationMs: number;
  /**
   * Billed duration of a standby's invocation that does not read the lease (LeaseKeeper: the lease it saw cannot have
   * changed yet): the stream records' checks and a return, in ms.
   */
  aggregatorStandbyKnownLeaseMs: number;
  /**
   * Billed duration of the acting aggregator's quiet run (lambda/aggregator/engine.ts: a batch of only `up` results in a
   * window it already found quiet reads and evaluates nothing): the stream records' checks and a return, in ms.
   */
  aggregatorQuietRunMs: number;
  /**
   * Hours a month when something is wrong somewhere (failing results, an open incident, a checker alert), so every
   * stream batch is evaluated; in the others only a slot's first batch is (the quiet runs).
   */
  unquietHoursPerMonth: number;
  /**
   * Slots of rounds one evaluation reads. Default: what the engine's first Query reads, from `windowBounds` of the
   * config (thresholds + late tolerance + freshness look-back, and the slot before now): 25 slots at 10 s.
   */
  aggregatorWindowSlots?: number;
  /** The results Query is eventually consistent (lambda/store/results-store.ts): half a read unit per 4 KB. */
  consistentReads: boolean;
  /**
   * Read units of one strongly consistent incident-table read by the acting aggregator: per platform region a Query
   * for its status and newest incidents, and the checker item (a quiet region's items fit in 4 KB).
   */
  incidentReadUnitsPerRead: number;
  /**
   * Incident-table write units a month besides the lease renewals: the status item when what it says changes, and per
   * notification its transition, claim and mark (incident items of a few KB).
   */
  incidentChangeWriteUnitsPerMonth: number;
  /** Each channel notifier: Slack, PagerDuty, webhooks (lib/notifier.ts: 256 MB, arm64). */
  notifierMemoryMb: number;
  /** A delivery's billed time (a PagerDuty test is two events, the rest one POST). */
  notifierDurationMs: number;
  /** Notifications on the platform topic in a month (transitions, reminders, checker notices). */
  notificationsPerMonth: number;
  /**
   * Checker alarm state changes in a month (each notifies the checker topic; with more than one probe region the
   * alarm relay also forwards it to the next probe region, which publishes it to its checker topic).
   */
  checkerAlertsPerMonth: number;
  /** The prober's EMF metric names (lib/observability.ts PROBE_METRICS), each per platform region and probe region. */
  metricNames: readonly string[];
  /**
   * Alarms per probe region (lib/observability.ts: 10, one of them on the region's parked-messages queue, where the
   * rounds queue, the aggregator, every channel notifier and the status page renderer park what failed every retry: a
   * channel adds no alarm); the hosted status page adds its renderer's errors in the home region. test/infra pins this
   * to the synthesized templates.
   */
  alarmsPerRegion: number;
  /**
   * The hosted status page (lib/status-page.ts). Renders: one every 5 minutes (the schedule) plus one per change of
   * what the page shows, coalesced by the stream's 10-second batching window (an open incident's item is rewritten
   * every slot: 10 hours of incidents a month are 3,600 renders).
   */
  statusPage: {
    rendersOnChangePerMonth: number;
    rendererMemoryMb: number;
    rendererDurationMs: number;
    /** Files that change on a render (the page and the two JSON files carry the render's time); the feed and badges only on a change. */
    filesWrittenPerRender: number;
    /** Their bytes together, for the day of old versions kept. */
    bytesWrittenPerRender: number;
    /** Incident-table read units per render: the statuses, the checker and the lease, the open incidents, the history window. */
    readUnitsPerRender: number;
    /** Readers' requests a month (page views and their refreshes, JSON, feed and badges). */
    requestsPerMonth: number;
    /** Average bytes a request transfers (compressed). */
    bytesPerRequest: number;
  };
  /** Dashboards of the whole deployment (lib/observability.ts: one, in the home region, reading every region). */
  dashboards: number;
  /** Customer managed keys per probe region (lib/region-key.ts: one, shared by both topics, every log group and the status page's files). */
  kmsKeysPerRegion: number;
  /**
   * Log groups per probe region written all the time, which keep asking KMS for data keys: the prober's, the
   * aggregator's and the heartbeat's (the Slack notifier's and the stream custom resource's are written rarely).
   */
  busyLogGroupsPerRegion: number;
  /**
   * KMS requests a busy encrypted log group causes an hour. AWS does not publish how long CloudWatch Logs reuses a data
   * key; assumed one GenerateDataKey every 5 minutes, the period Kinesis documents for its own data keys.
   */
  kmsRequestsPerLogGroupHour: number;
  /** Log bytes, as Lambda's JSON log format writes them. */
  logBytes: {
    /** platform.start, platform.report and friends (the prober's and aggregator's only with `logs.invocationReports`). */
    lambdaPlatformPerInvocation: number;
    /** The prober's one summary line per round ('round finished'). */
    proberPerRound: number;
    /** A queued round's one line: its outcome with the round's summary ('queued round finished'). */
    proberPerQueuedRound: number;
    /** The scheduled invocation's line once a minute ('invocation finished': what ran, was queued, fell back). */
    proberPerInvocation: number;
    /** One EMF object per platform region per round (Availability, LatencyMs). */
    emfPerPlatformRegionPerRound: number;
    /** The aggregator logs nothing in a run without transitions (lambda/handlers/aggregator.ts). */
    aggregatorPerInvocation: number;
    /** The aggregator's 'transitions' line, per notification. */
    aggregatorPerNotification: number;
    /** A forwarded heartbeat event written to the watcher's log group. */
    heartbeatEvent: number;
    /** A channel notifier's log lines for one notification. */
    notifierPerNotification: number;
    /** The renderer's line per render. */
    rendererPerRender: number;
  };
  /** Stored (compressed) bytes per ingested byte. */
  logStoredRatio: number;
  /** Bytes a check sends to the target (requests, handshakes, ACKs); a fresh connection per check. */
  bytesOutPerCheck: { https: number; http: number; tcp: number; dns: number; tls: number };
  /** Route 53 prices differ for endpoints in AWS (same account) and outside it. */
  route53Endpoints: 'aws' | 'non-aws';
  /** Synthetics canaries run on x86 Lambda. */
  canary: { memoryMb: number; singleTargetRunSeconds: number; multiTargetBaseSeconds: number; perTargetSeconds: number };
}

export const DEFAULT_ASSUMPTIONS: UsageAssumptions = {
  proberMemoryMb: 256,
  proberAnswerSeconds: 0.6,
  proberScheduling: 'invocation-per-round',
  proberClaimWritesPerMinute: 1,
  aggregatorMemoryMb: 512,
  aggregatorInvocationsPerRound: 2,
  confirmationBatchesPerMonth: 300,
  confirmationSeconds: 3,
  aggregatorDurationMs: 120,
  aggregatorStandbyDurationMs: 15,
  aggregatorStandbyKnownLeaseMs: 3,
  aggregatorQuietRunMs: 3,
  // Ten incidents a month and ten times as many blips and partitions (confirmationBatchesPerMonth), each a few slots to
  // half an hour of evaluating every batch.
  unquietHoursPerMonth: 12,
  consistentReads: false,
  incidentReadUnitsPerRead: 1,
  incidentChangeWriteUnitsPerMonth: 3000,
  notifierMemoryMb: 256,
  notifierDurationMs: 400,
  notificationsPerMonth: 60,
  checkerAlertsPerMonth: 20,
  metricNames: ['Availability', 'LatencyMs'],
  alarmsPerRegion: 10,
  statusPage: {
    rendersOnChangePerMonth: 5_000,
    rendererMemoryMb: 512,
    rendererDurationMs: 800,
    filesWrittenPerRender: 3,
    bytesWrittenPerRender: 60_000,
    readUnitsPerRender: 20,
    requestsPerMonth: 100_000,
    bytesPerRequest: 12_000,
  },
  dashboards: 1,
  kmsKeysPerRegion: 1,
  busyLogGroupsPerRegion: 3,
  kmsRequestsPerLogGroupHour: 12,
  logBytes: {
    lambdaPlatformPerInvocation: 900,
    // Measured on the handler's own lines (test/probe/prober-handler.test.ts pins them), with a deployed function's
    // longer name, ARN and request id.
    proberPerRound: 520,
    proberPerQueuedRound: 660,
    proberPerInvocation: 640,
    emfPerPlatformRegionPerRound: 450,
    aggregatorPerInvocation: 0,
    aggregatorPerNotification: 1500,
    heartbeatEvent: 900,
    notifierPerNotification: 1500,
    rendererPerRender: 400,
  },
  logStoredRatio: 0.15,
  bytesOutPerCheck: { https: 1500, http: 500, tcp: 250, dns: 120, tls: 900 },
  route53Endpoints: 'non-aws',
  canary: { memoryMb: 1024, singleTargetRunSeconds: 3, multiTargetBaseSeconds: 2, perTargetSeconds: 0.3 },
};

export type FreePool = keyof typeof ALWAYS_FREE;

export interface BillLine {
  service: string;
  item: string;
  quantity: number;
  unit: string;
  price: PriceName;
  /** List price for the month. */
  monthly: number;
  /** What is left after the always-free allowance, if nothing else in the account uses it. */
  afterFree: number;
  note?: string;
}

export interface Baseline {
  label: string;
  lines: BillLine[];
  total: number;
  /** What this alternative cannot check that regionwatch does. */
  gaps: string[];
  /** Targets of the config this alternative cannot check at all (left out of its price). */
  uncoveredTargets: number;
}

export interface CostEstimate {
  pricesAsOf: string;
  inputs: {
    platform: string;
    platformRegions: number;
    probeRegions: number;
    targets: number;
    intervalSeconds: number;
    roundsPerMonth: number;
    checksPerMonth: number;
    /** Shards each probe region's round fans out over (invocations per round per probe region), and checks per shard. */
    shards: number;
    checksPerShard: number;
    /** Seconds a round keeps one shard busy (billed per shard with invocation-per-round). */
    shardRoundSeconds: number;
    resultRetentionHours: number;
    /** `logs.retentionDays`: every log group keeps its logs this long. */
    logRetentionDays: number;
    /** A round item as the prober writes it (results Brotli-packed), in DynamoDB's size terms, averaged over a cycle. */
    roundItemBytes: number;
    roundItemWriteUnits: number;
    /** Slots of rounds the acting aggregator's Query reads per invocation, and the bytes of round items it returns. */
    aggregatorWindowSlots: number;
    aggregatorQueryBytes: number;
    /** `probing.detection`, and the stream batches a round brings each region's aggregator under it. */
    detection: RegionwatchConfig['probing']['detection'];
    aggregatorBatchesPerRound: number;
    /** Whether failures are confirmed across probe regions (the confirmation requests are priced). */
    confirming: boolean;
    slack: boolean;
    /** Channel notifiers per probe region: Slack, each PagerDuty service, each webhook. */
    channels: number;
    statusPage: 'off' | 'public' | 'private';
    emails: number;
  };
  assumptions: UsageAssumptions;
  lines: BillLine[];
  total: number;
  totalAfterFree: number;
  byService: Record<string, number>;
  /** The largest line and its share of the total. */
  dominant: { service: string; item: string; monthly: number; share: number };
  route53: Baseline;
  synthetics: { perTarget: Baseline; perProbeRegion: Baseline };
}

/** Size of a DynamoDB item as DynamoDB counts it for capacity units: names plus values. */
export function dynamoItemBytes(item: Record<string, unknown>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    bytes += Buffer.byteLength(name) + dynamoValueBytes(value);
  }
  return bytes;
}

function dynamoValueBytes(value: unknown): number {
  if (value === null || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') {
    const digits = String(Math.abs(value)).replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;
    return Math.ceil(Math.max(1, digits) / 2) + 1;
  }
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) return 3 + value.reduce((n: number, v) => n + 1 + dynamoValueBytes(v), 0);
  if (typeof value === 'object') return 3 + Object.entries(value).reduce((n, [k, v]) => n + 1 + Buffer.byteLength(k) + dynamoValueBytes(v), 0);
  return 0;
}

/** A small seeded generator, so synthetic results vary like real ones (a compressor would flatter a regular pattern) yet stay deterministic. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4_294_967_296;
  };
}

/** A plausible healthy result for a target, deterministic per seed, for sizing round items with the real packing. */
export function syntheticResult(target: ResolvedTarget, seed: number): ProbeResult {
  const rnd = prng(seed * 7919 + target.name.length * 31 + target.region.length);
  const ms = (lo: number, hi: number) => Math.round(lo + rnd() * (hi - lo));
  const latencyMs = ms(25, 450);
  const base: ProbeResult = { region: target.region, target: target.name, role: target.role, status: 'up', latencyMs };
  switch (target.type) {
    case 'http':
    case 'https':
      return { ...base, statusCode: 200, timings: { dnsMs: ms(1, 40), connectMs: ms(5, 120), tlsMs: ms(10, 160), firstByteMs: Math.max(1, latencyMs - ms(1, 20)) } };
    case 'tcp':
      return { ...base, timings: { dnsMs: ms(1, 40), connectMs: latencyMs } };
    case 'tls':
      return { ...base, tlsDaysLeft: ms(15, 89), timings: { dnsMs: ms(1, 40), connectMs: ms(5, 120), tlsMs: latencyMs } };
    case 'dns':
      return { ...base, timings: { dnsMs: latencyMs } };
  }
}

/**
 * Round items of one probe region over one cycle of target intervals: average bytes and write units per item, items
 * per round. With `shards` > 1 each shard writes its own items (targets dealt out in turn, close to the plan's spread).
 */
export function roundItemSizes(
  targets: readonly ResolvedTarget[],
  intervalSeconds: number,
  retentionHours: number,
  shards = 1,
): { bytes: number; writeUnits: number; itemsPerRound: number } {
  if (shards > 1) {
    const parts = Array.from({ length: shards }, (_, s) => roundItemSizes(targets.filter((_t, n) => n % shards === s), intervalSeconds, retentionHours));
    const items = parts.reduce((n, p) => n + p.itemsPerRound, 0);
    return {
      bytes: parts.reduce((n, p) => n + p.bytes * p.itemsPerRound, 0) / items,
      writeUnits: parts.reduce((n, p) => n + p.writeUnits * p.itemsPerRound, 0) / items,
      itemsPerRound: items,
    };
  }
  const multiples = targets.map((t) => Math.max(1, Math.round(t.intervalSeconds / intervalSeconds)));
  const cycle = Math.max(1, ...multiples);
  let bytes = 0;
  let units = 0;
  let items = 0;
  const slot0 = 1_775_000_000 - (1_775_000_000 % (intervalSeconds * cycle));
  for (let r = 0; r < cycle; r += 1) {
    const due = targets.filter((_, i) => r % (multiples[i] ?? 1) === 0);
    const slot = slot0 + r * intervalSeconds;
    const roundItems = toRoundItems(
      { probeRegion: 'ap-southeast-1', slot, intervalSeconds, startedAt: slot * 1000 + 3, finishedAt: slot * 1000 + 1234, results: due.map((t, i) => syntheticResult(t, i * 131 + r + 1)) },
      retentionHours,
    );
    for (const item of roundItems) {
      const b = dynamoItemBytes(item as unknown as Record<string, unknown>);
      bytes += b;
      units += Math.max(1, Math.ceil(b / 1024));
      items += 1;
    }
  }
  return { bytes: bytes / items, writeUnits: units / items, itemsPerRound: items / cycle };
}

function bytesOut(t: ResolvedTarget, a: UsageAssumptions): number {
  if (t.type === 'http' || t.type === 'https') return t.url.startsWith('https:') ? a.bytesOutPerCheck.https : a.bytesOutPerCheck.http;
  return a.bytesOutPerCheck[t.type];
}

class Bill {
  readonly lines: BillLine[] = [];
  private readonly freeLeft = new Map<FreePool, number>(Object.entries(ALWAYS_FREE) as Array<[FreePool, number]>);

  add(service: string, item: string, quantity: number, unit: string, price: PriceName, free?: FreePool, note?: string): void {
    const monthly = costOf(PRICES[price], quantity);
    let billable = quantity;
    if (free !== undefined) {
      const left = this.freeLeft.get(free) ?? 0;
      const used = Math.min(left, quantity);
      this.freeLeft.set(free, left - used);
      billable = quantity - used;
    }
    this.lines.push({ service, item, quantity, unit, price, monthly, afterFree: costOf(PRICES[price], billable), ...(note !== undefined ? { note } : {}) });
  }
}

const sum = (lines: readonly BillLine[], key: 'monthly' | 'afterFree' = 'monthly') => lines.reduce((n, l) => n + l[key], 0);

/**
 * Seconds one round (or one shard of it: `checks`, the shard's) keeps a prober invocation busy: the round ends when its
 * last check has answered, so it lasts the spread of its request starts (`lambda/probe/round.ts`: each target's offset
 * is a hash over the jitter window, clipped so that offset + timeoutMs ends before the round deadline; the latest of n
 * offsets comes, on average, at n/(n+1) of the window), then `proberAnswerSeconds`, plus a wave of answers for every
 * further `probing.concurrency` checks; never past the round deadline.
 */
export function proberRoundSeconds(config: RegionwatchConfig, a: Pick<UsageAssumptions, 'proberAnswerSeconds'> = DEFAULT_ASSUMPTIONS, checks?: number): number {
  const targets = resolveTargets(config);
  const n = checks ?? targets.filter((t) => isDue(t, 0)).length;
  if (n === 0) return a.proberAnswerSeconds;
  const longestTimeoutMs = Math.max(...targets.map((t) => t.timeoutMs));
  const roomMs = config.defaults.intervalSeconds * 1000 - ROUND_WRITE_MARGIN_MS - longestTimeoutMs - START_MARGIN_MS;
  const windowMs = Math.max(0, Math.min(config.probing.jitterMs, roomMs));
  // Past probing.concurrency checks in flight the shard works in waves, each about an answer long (capacity.ts).
  const extraWavesMs = Math.max(0, Math.ceil(n / config.probing.concurrency) - 1) * config.probing.expectedLatencyMs;
  const seconds = (windowMs * n) / (n + 1) / 1000 + a.proberAnswerSeconds + extraWavesMs / 1000;
  return Math.min(seconds, (config.defaults.intervalSeconds * 1000 - ROUND_WRITE_MARGIN_MS) / 1000);
}

/**
 * Slots of rounds the engine's first Query reads (`windowBounds` of the config's evaluation settings, both ends
 * included): the slots decided on, the freshness look-back, and the slot before now.
 */
export function aggregatorWindowSlots(config: RegionwatchConfig): number {
  const settings = evaluationSettings(config);
  const { fromSlot, toSlot } = windowBounds(settings, 1_775_000_000_000);
  return (toSlot - fromSlot) / settings.intervalSeconds + 1;
}

const qtyText = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * Stream batches a slot brings each replica with staggered rounds: the probe regions' round items arrive an
 * interval over the probe regions apart, and one batch gathers those within the batching window of its first.
 */
export function staggeredBatchesPerRound(probeRegions: number, intervalSeconds: number, windowSeconds: number = AGGREGATOR_STREAM_SETTINGS.maxBatchingWindowSeconds): number {
  if (probeRegions <= 1) return 1;
  const apart = intervalSeconds / probeRegions;
  return Math.ceil(probeRegions / (Math.floor(windowSeconds / apart) + 1));
}

/** The config's monthly bill, line by line, with the Route 53 and Synthetics alternatives. */
export function estimateCost(config: RegionwatchConfig, overrides: Partial<UsageAssumptions> = {}): CostEstimate {
  const a: UsageAssumptions = {
    ...DEFAULT_ASSUMPTIONS,
    ...overrides,
    logBytes: { ...DEFAULT_ASSUMPTIONS.logBytes, ...overrides.logBytes },
    statusPage: { ...DEFAULT_ASSUMPTIONS.statusPage, ...overrides.statusPage },
  };
  const targets = resolveTargets(config);
  const P = config.probeRegions.length;
  const G = Object.keys(config.regions).length;
  const interval = config.defaults.intervalSeconds;
  const retentionHours = config.probing.resultRetentionHours;
  const slack = config.notifications.slackWebhookSecretName !== null;
  const channelNames = [...(slack ? ['Slack'] : []), ...config.notifications.pagerDuty.map((p) => `PagerDuty ${p.name}`), ...config.notifications.webhooks.map((w) => `webhook ${w.name}`)];
  const channels = channelNames.length;
  const page = config.statusPage.mode;
  const emails = config.notifications.emails.length;

  const roundsPerMonth = SECONDS_PER_MONTH / interval;
  const roundsPerMinute = 60 / interval;
  const invocationsPerMonth = MINUTES_PER_MONTH;
  const checksPerProbeRegion = targets.reduce((n, t) => n + SECONDS_PER_MONTH / t.intervalSeconds, 0);
  const checksPerMonth = checksPerProbeRegion * P;
  const plan = shardPlan(config);
  const shards = plan.shards;
  const item = roundItemSizes(targets, interval, retentionHours, shards);
  const itemsPerMonth = roundsPerMonth * item.itemsPerRound * P;

  const bill = new Bill();

  // Lambda: per round, each round's shard is its own short invocation; waiting in the minute, every round but the last
  // is paid in full, once per shard.
  const perRound = a.proberScheduling === 'invocation-per-round';
  const checksPerShard = targets.length / shards;
  const shardSeconds = a.proberLastRoundSeconds ?? proberRoundSeconds(config, a, checksPerShard);
  const proberInvocations = (perRound ? P * roundsPerMonth : P * invocationsPerMonth) * shards;
  const proberSeconds = perRound ? shardSeconds : (roundsPerMinute - 1) * interval + shardSeconds;
  const proberGbs = proberInvocations * proberSeconds * (a.proberMemoryMb / 1024);
  // Every region's aggregator is invoked by its own replica's stream; only the lease holder acts, the others return
  // after reading the lease. Staggered rounds arrive apart: as many batches as the window cannot join. Confirmations
  // add one record per probe region per request batch, in every replica.
  const staggered = isStaggered(config.probing.detection);
  const confirming = confirmsFailures(config);
  const aggPerRound = staggered ? staggeredBatchesPerRound(P, interval) : Math.min(a.aggregatorInvocationsPerRound, P * item.itemsPerRound);
  const confirmationRecords = confirming ? a.confirmationBatchesPerMonth * P : 0;
  const actingInvocations = roundsPerMonth * aggPerRound + confirmationRecords;
  const standbyInvocations = (P - 1) * (roundsPerMonth * aggPerRound + confirmationRecords);
  const aggInvocations = actingInvocations + standbyInvocations;
  // The acting aggregator evaluates a slot's first batch; while nothing is wrong the slot's later batches of only `up`
  // results are quiet runs that read nothing (lambda/aggregator/engine.ts).
  const quietRuns = roundsPerMonth * (aggPerRound - 1) * Math.max(0, 1 - a.unquietHoursPerMonth / HOURS_PER_MONTH);
  const actingEvaluations = actingInvocations - quietRuns;
  // Each region's aggregator reads the lease only when it could have changed (lambda/store/lease.ts LeaseKeeper): the
  // holder at each renewal, a standby once the lease it saw could be its own; both about once per half lease.
  const leaseReadsPerMinute = 60_000 / (DEFAULT_LEASE_MS / 2);
  const actingLeaseReads = Math.min(actingInvocations, MINUTES_PER_MONTH * leaseReadsPerMinute);
  const standbyLeaseReads = Math.min(standbyInvocations, (P - 1) * MINUTES_PER_MONTH * leaseReadsPerMinute);
  const standbyMs = standbyLeaseReads * a.aggregatorStandbyDurationMs + (standbyInvocations - standbyLeaseReads) * a.aggregatorStandbyKnownLeaseMs;
  const aggGbs = (actingEvaluations * a.aggregatorDurationMs + quietRuns * a.aggregatorQuietRunMs + standbyMs) / 1000 * (a.aggregatorMemoryMb / 1024);
  const perShard = shards > 1 ? ` × ${shards} shards` : '';
  bill.add(
    'Lambda',
    perRound ? `prober requests (one per round per probe region${perShard})` : `prober requests (one a minute per probe region${perShard})`,
    proberInvocations,
    'requests',
    'lambdaRequests',
    'lambdaRequests',
  );
  bill.add(
    'Lambda',
    perRound
      ? `prober duration (${a.proberMemoryMb} MB × ${round(proberSeconds, 1)} s per round per probe region${perShard})`
      : `prober duration (${a.proberMemoryMb} MB × ${round(proberSeconds, 1)} s a minute per probe region${perShard})`,
    proberGbs,
    'GB-s',
    'lambdaGbSecondArm',
    'lambdaGbSeconds',
    !perRound && roundsPerMinute > 1 ? `${roundsPerMinute} rounds inside each once-a-minute run; the waits between them are billed` : undefined,
  );
  // Every shard of every round but the one the scheduled run serves itself arrives on the rounds queue.
  const queuedRoundsPerMinute = perRound ? roundsPerMinute * shards - 1 : 0;
  if (queuedRoundsPerMinute > 0) {
    // A SendMessageBatch per 10 queued rounds, a receive and a delete per round, and the event source mapping's idle
    // long polls (about 5 pollers, 20 s each) per region.
    const sqsRequests = P * MINUTES_PER_MONTH * (Math.ceil(queuedRoundsPerMinute / 10) + 2 * queuedRoundsPerMinute + 15);
    bill.add('SQS', 'rounds queue: delayed round messages (batched sends, receives, deletes) and the mapping\'s long polls', sqsRequests, 'requests', 'sqsRequests', 'sqsRequests');
  }
  if (confirming) {
    // Confirm on failure: each request batch is a message to every probe region's rounds queue (sent across regions,
    // received, deleted), one short prober invocation each, a claim (UpdateItem, in the regional claims table) and a
    // confirmation item (in the global results table, replicated). On the rounds queues, whose mapping polls anyway,
    // requests add no idle long polls: a queue of their own cost 15 a minute per region (lib/prober.ts).
    const messages = a.confirmationBatchesPerMonth * P;
    bill.add('SQS', 'confirmation requests on the rounds queues (each sent, received and deleted; no idle polls of their own)', 3 * messages, 'requests', 'sqsRequests', 'sqsRequests');
    bill.add('Lambda', `confirmation requests served (${a.confirmationBatchesPerMonth} request batches a month × ${P} probe regions)`, messages, 'requests', 'lambdaRequests', 'lambdaRequests');
    bill.add('Lambda', `confirmation duration (${a.proberMemoryMb} MB × ${a.confirmationSeconds} s: the wait until minFaultSeconds, and the checks)`, messages * a.confirmationSeconds * (a.proberMemoryMb / 1024), 'GB-s', 'lambdaGbSecondArm', 'lambdaGbSeconds');
    // A claim and a confirmation item per request per probe region (small: a few targets). The claim is in the regional
    // claims table (not replicated, TTL free); the item is replicated and TTL-deleted in the other replicas. The
    // sender's read of its own newest checks, two small Queries.
    const writes = 2 * messages;
    bill.add('DynamoDB', 'confirmation claims (regional) and items (one UpdateItem and one PutItem per request per probe region), and the sender\'s reads of its newest checks', writes, 'WRU', 'dynamoWriteRequestUnits');
    if (P > 1) bill.add('DynamoDB', 'confirmation items replicated, and their TTL deletes', messages * (P - 1) * 2, 'rWRU', 'dynamoReplicatedWriteUnits');
  }
  bill.add('Lambda', `aggregator requests (stream batches${staggered ? `: ${aggPerRound} a round per region, staggered` : ''})`, aggInvocations, 'requests', 'lambdaRequests', 'lambdaRequests');
  bill.add(
    'Lambda',
    `aggregator duration (${a.aggregatorMemoryMb} MB × ${a.aggregatorDurationMs} ms an evaluation${quietRuns > 0 ? `, ${a.aggregatorQuietRunMs} ms a quiet run` : ''}${P > 1 ? `, ${a.aggregatorStandbyKnownLeaseMs} ms standing by (${a.aggregatorStandbyDurationMs} ms when it reads the lease)` : ''})`,
    aggGbs,
    'GB-s',
    'lambdaGbSecondArm',
    'lambdaGbSeconds',
  );
  // Every notification to every channel, at most (a route sends fewer): one invocation of that channel's notifier in
  // the publishing region.
  const deliveries = a.notificationsPerMonth * channels;
  if (channels > 0) {
    const which = channelNames.join(', ');
    bill.add('Lambda', `channel notifier requests (${which})`, deliveries, 'requests', 'lambdaRequests', 'lambdaRequests');
    bill.add('Lambda', 'channel notifier duration', deliveries * (a.notifierDurationMs / 1000) * (a.notifierMemoryMb / 1024), 'GB-s', 'lambdaGbSecondArm', 'lambdaGbSeconds');
  }
  const sp = a.statusPage;
  const renders = page === 'off' ? 0 : MINUTES_PER_MONTH / 5 + sp.rendersOnChangePerMonth;
  if (page !== 'off') {
    bill.add('Lambda', 'status page renderer requests (every 5 minutes and on each change)', renders, 'requests', 'lambdaRequests', 'lambdaRequests');
    bill.add('Lambda', `status page renderer duration (${sp.rendererMemoryMb} MB × ${sp.rendererDurationMs} ms)`, renders * (sp.rendererDurationMs / 1000) * (sp.rendererMemoryMb / 1024), 'GB-s', 'lambdaGbSecondArm', 'lambdaGbSeconds');
  }

  // DynamoDB: one Brotli-packed item per probe region and round, replicated to every other replica.
  const resultWrus = itemsPerMonth * item.writeUnits;
  bill.add('DynamoDB', `results writes (${Math.round(item.bytes)} B round items, ${round(item.writeUnits, 2)} WRU each)`, resultWrus, 'WRU', 'dynamoWriteRequestUnits');
  if (P > 1) {
    bill.add('DynamoDB', `results replicated writes (to ${P - 1} other replicas)`, resultWrus * (P - 1), 'rWRU', 'dynamoReplicatedWriteUnits');
    // Round items sit on a ring (lambda/store/tables.ts): a round overwrites the one of a retention ago, so there are no
    // TTL deletes to replicate (they were a write unit per item in every other replica).
    bill.add('DynamoDB', 'results TTL deletes (none: a round overwrites the item of one retention ago)', 0, 'rWRU', 'dynamoReplicatedWriteUnits', undefined, 'items are overwritten on a ring, not deleted');
  }
  // The prober claims each (slot, shard) it probes with one small conditional put in its region's claims table
  // (lib/claims-table.ts): the scheduled run its own (proberClaimWritesPerMinute), each queued round or shard its own.
  // A regional table, so no replication, and TTL deletes there are free.
  const claimWrus = P * invocationsPerMonth * (a.proberClaimWritesPerMinute + queuedRoundsPerMinute);
  if (claimWrus > 0) {
    const what = `prober slot claims (one small conditional put per round${shards > 1 ? ' and shard' : ''}: the scheduled run's and each queued one's`;
    bill.add('DynamoDB', `${what}, in a regional table: not replicated, TTL deletes free)`, claimWrus, 'WRU', 'dynamoWriteRequestUnits');
  }
  // The acting aggregator's one Query of the window (a second only while verdicts wait for late results): DynamoDB
  // sums the sizes of the items it returns and charges per 4 KB of the sum, half of it eventually consistent.
  const windowSlots = a.aggregatorWindowSlots ?? aggregatorWindowSlots(config);
  const bytesPerQuery = windowSlots * P * item.itemsPerRound * item.bytes;
  const rrusPerQuery = Math.max(1, Math.ceil(bytesPerQuery / 4096)) * (a.consistentReads ? 1 : 0.5);
  // And one Query of the layout before the ring (legacyRoundSortKeyRange), empty once its items have expired: the least
  // a Query costs.
  const minimumQueryRrus = a.consistentReads ? 1 : 0.5;
  bill.add(
    'DynamoDB',
    `results reads (acting aggregator, per evaluation${quietRuns > 0 ? ', not in quiet runs' : ''}: a ${windowSlots}-slot window, ${qtyText(bytesPerQuery)} B, ${rrusPerQuery} RRU a Query, + ${minimumQueryRrus} for the pre-ring layout)`,
    actingEvaluations * (rrusPerQuery + minimumQueryRrus),
    'RRU',
    'dynamoReadRequestUnits',
  );
  // Strongly consistent reads of the incident table: the lease in every region about once per half lease (not per
  // invocation: LeaseKeeper); the acting one also each platform region's status and newest incidents (one Query each)
  // and the checker item.
  const incidentRrus = (actingLeaseReads + standbyLeaseReads) * a.incidentReadUnitsPerRead + actingEvaluations * (G + 1) * a.incidentReadUnitsPerRead;
  bill.add('DynamoDB', `incident table reads (the lease in every region when it could have changed, ${leaseReadsPerMinute} a minute; ${G} region ${G === 1 ? 'Query' : 'Queries'} and the checker item per evaluation)`, incidentRrus, 'RRU', 'dynamoReadRequestUnits');
  // The lease holder renews when half the lease has gone: one small write per half lease, not per round.
  const leaseRenewalsPerMinute = leaseReadsPerMinute;
  const incidentWrus = MINUTES_PER_MONTH * leaseRenewalsPerMinute + a.incidentChangeWriteUnitsPerMonth;
  bill.add('DynamoDB', `incident table writes (lease renewed ${leaseRenewalsPerMinute} times a minute; status and incidents on a change)`, incidentWrus, 'WRU', 'dynamoWriteRequestUnits');
  if (P > 1) bill.add('DynamoDB', 'incident table replicated writes', incidentWrus * (P - 1), 'rWRU', 'dynamoReplicatedWriteUnits');
  const storedItems = (3600 / interval) * retentionHours * item.itemsPerRound * P;
  bill.add('DynamoDB', `results storage (${retentionHours} h retained, in ${P} replicas)`, (storedItems * item.bytes * P) / GB, 'GB-month', 'dynamoStorage', 'dynamoStorageGb');
  bill.add('DynamoDB', `streams read by the aggregators${page !== 'off' ? ' and the status page renderer' : ''} (Lambda trigger)`, 0, 'read requests', 'dynamoStreamReads', undefined, 'free when read by a Lambda event source mapping');
  if (page !== 'off') {
    // Readers of the page never touch the table: only the renderer reads it, a handful of items per render.
    bill.add('DynamoDB', `incident table reads by the status page renderer (${sp.readUnitsPerRender} RRU a render)`, renders * sp.readUnitsPerRender, 'RRU', 'dynamoReadRequestUnits');
  }

  // CloudWatch: the probers' metrics, per platform region and probe region only (never per target), exist only with the
  // dashboard, their only reader (observability.dashboard).
  const dashboard = config.observability.dashboard;
  if (dashboard) {
    const metrics = G * P * a.metricNames.length;
    bill.add('CloudWatch', `custom metrics (${G} platform × ${P} probe regions × ${a.metricNames.length} names)`, metrics, 'metrics', 'cloudwatchMetrics', 'cloudwatchMetrics');
  }
  // The aggregator's counts and the prober's LateRounds are emitted only when not zero (lambda/aggregator/metrics.ts):
  // a healthy deployment sends none, and CloudWatch bills a metric only for the hours it receives values.
  bill.add('CloudWatch', 'aggregator counts and late rounds (emitted only when not zero)', 0, 'metrics', 'cloudwatchMetrics', 'cloudwatchMetrics', 'billed only for the hours something is counted');
  // One alarm per region on its parked-messages queue, whatever the channels (one per dead-letter queue was one per
  // channel, the aggregator's and the prober's, and the status page's: 3 a region with Slack alone).
  // A sharded round adds the aggregators' RoundsIncomplete alarm in each region (lib/observability.ts); its
  // IncompleteRounds metric, like the other counts, is sent only when a round misses a shard.
  const shardedExtra = shards > 1 ? 1 : 0;
  const alarms = P * (a.alarmsPerRegion + shardedExtra) + (page !== 'off' ? 1 : 0);
  bill.add('CloudWatch', `alarms (checker health, per probe region, one on its parked-messages queue${shardedExtra ? '; incomplete sharded rounds' : ''}${page !== 'off' ? '; the status page renderer' : ''})`, alarms, 'alarms', 'cloudwatchAlarms', 'cloudwatchAlarms');
  if (dashboard) bill.add('CloudWatch', 'dashboards (one in the home region, reading every probe region)', a.dashboards, 'dashboards', 'cloudwatchDashboards', 'cloudwatchDashboards');
  const lb = a.logBytes;
  // Lambda's START, END and REPORT lines of the prober and the aggregator only with logs.invocationReports (system log
  // level WARN otherwise, lib/function.ts); the Slack notifier always keeps its few.
  const busyPlatformBytes = config.logs.invocationReports ? lb.lambdaPlatformPerInvocation : 0;
  const logBytes =
    proberInvocations * busyPlatformBytes +
    P * invocationsPerMonth * lb.heartbeatEvent +
    P * roundsPerMonth * (dashboard ? G * lb.emfPerPlatformRegionPerRound : 0) +
    // A round of the scheduled run logs its summary, the invocation its own line once a minute; a queued round logs one
    // line, its outcome with the round's summary in it (lambda/handlers/prober.ts).
    P * (roundsPerMonth - MINUTES_PER_MONTH * queuedRoundsPerMinute) * lb.proberPerRound +
    P * MINUTES_PER_MONTH * (queuedRoundsPerMinute * lb.proberPerQueuedRound + lb.proberPerInvocation) +
    aggInvocations * (busyPlatformBytes + lb.aggregatorPerInvocation) +
    a.notificationsPerMonth * lb.aggregatorPerNotification +
    deliveries * (lb.lambdaPlatformPerInvocation + lb.notifierPerNotification) +
    renders * (lb.lambdaPlatformPerInvocation + lb.rendererPerRender);
  const logGb = logBytes / GB;
  bill.add('CloudWatch', 'logs ingested (Lambda JSON logs, EMF metrics, heartbeats)', logGb, 'GB', 'cloudwatchLogsIngestion', 'cloudwatchLogsGb');
  // Every log group keeps `logs.retentionDays`: once that long has passed, each month's logs stay stored that many months.
  const retentionDays = config.logs.retentionDays;
  const retentionMonths = retentionDays / (HOURS_PER_MONTH / 24);
  const monthsShown = round(retentionMonths, 1);
  bill.add(
    'CloudWatch',
    `logs stored (${retentionDays} days retained: ${monthsShown} month${monthsShown === 1 ? '' : 's'} of logs once full, compressed)`,
    logGb * retentionMonths * a.logStoredRatio,
    'GB-month',
    'cloudwatchLogsStorage',
    'cloudwatchLogsGb',
  );

  // Notifications. With more than one probe region every checker alarm change is published twice: by its own region
  // and, relayed along the heartbeat ring, by the next one (lib/alarm-relay.ts).
  const relayedAlerts = P > 1 ? a.checkerAlertsPerMonth : 0;
  const checkerPublishes = a.checkerAlertsPerMonth + relayedAlerts;
  bill.add('SNS', 'publishes (notifications and checker alerts)', a.notificationsPerMonth + checkerPublishes, 'requests', 'snsPublishes', 'snsPublishes');
  bill.add('SNS', `email deliveries (${emails} address(es), both topics)`, (a.notificationsPerMonth + checkerPublishes) * emails, 'emails', 'snsEmail', 'snsEmail');
  if (channels > 0) bill.add('SNS', 'deliveries to the channel notifiers', deliveries, 'deliveries', 'snsLambda');
  bill.add('SQS', `parked-messages queues (${P}, one per region, idle unless something fails)`, 0, 'requests', 'sqsRequests', 'sqsRequests');
  if (channels > 0) {
    bill.add('Secrets Manager', `channel secrets (${channels} per probe region: each notifier reads its own region's secret or replica)`, P * channels, 'secrets', 'secret');
    bill.add('Secrets Manager', 'GetSecretValue calls (cold starts, 5-minute cache)', deliveries, 'calls', 'secretApiCalls');
  }
  if (page !== 'off') {
    bill.add('S3', `status page files written (${sp.filesWrittenPerRender} changed files a render)`, renders * sp.filesWrittenPerRender, 'PUT requests', 's3Put');
    bill.add('S3', 'status page renderer reads (the previous status.json, once a render)', renders, 'GET requests', 's3Get');
    // Versioned with a day of old versions: a day of renders' files, plus the current ones.
    bill.add('S3', 'status page storage (the files and a day of old versions)', ((renders / 30) * sp.bytesWrittenPerRender + sp.bytesWrittenPerRender) / GB, 'GB-month', 's3Storage');
    if (page === 'public') {
      bill.add('CloudFront', `status page requests (${qtyText(sp.requestsPerMonth)} reads a month, assumed)`, sp.requestsPerMonth, 'requests', 'cloudfrontHttpsRequests', 'cloudfrontRequests');
      bill.add('CloudFront', 'status page data out', (sp.requestsPerMonth * sp.bytesPerRequest) / GB, 'GB', 'cloudfrontDataOut', 'cloudfrontDataOutGb');
    } else {
      bill.add('S3', `status page reads through VPC endpoints (${qtyText(sp.requestsPerMonth)} a month, assumed)`, sp.requestsPerMonth, 'GET requests', 's3Get');
    }
    bill.add('EventBridge', 'status page schedule (every 5 minutes)', MINUTES_PER_MONTH / 5, 'invocations', 'eventbridgeScheduledRule', undefined, 'scheduled rules are free');
  }
  const keyUsers = page !== 'off' && filesEncryptedWithKey(config.statusPage) ? "both topics, every log group and the status page's files" : 'both topics and every log group';
  bill.add('KMS', `customer managed keys (${a.kmsKeysPerRegion} per probe region, shared by ${keyUsers})`, P * a.kmsKeysPerRegion, 'keys', 'kmsKey');
  bill.add('KMS', 'requests (encrypted topic publishes and deliveries)', (a.notificationsPerMonth + checkerPublishes) * (2 + emails) + deliveries, 'requests', 'kmsRequests', 'kmsRequests');
  bill.add(
    'KMS',
    `requests (CloudWatch Logs data keys: ${a.busyLogGroupsPerRegion} busy log groups per probe region, ${a.kmsRequestsPerLogGroupHour} an hour each)`,
    P * a.busyLogGroupsPerRegion * a.kmsRequestsPerLogGroupHour * HOURS_PER_MONTH,
    'requests',
    'kmsRequests',
    'kmsRequests',
  );
  bill.add('EventBridge', 'prober schedule (once a minute per probe region)', P * invocationsPerMonth, 'invocations', 'eventbridgeScheduledRule', undefined, 'scheduled rules are free');
  bill.add('EventBridge', 'prober heartbeats (Lambda destination events, forwarded to the watching region)', 2 * P * invocationsPerMonth, 'events', 'eventbridgeEvents');
  // The alarm change on the local bus is a free AWS service event; forwarding it to another region is charged.
  if (P > 1) bill.add('EventBridge', 'relayed checker alarm changes (forwarded to the next probe region)', relayedAlerts, 'events', 'eventbridgeEvents');

  // Data transfer: probe requests out to the targets, replication between regions.
  bill.add(
    'Data transfer',
    `probe traffic out to targets (${Math.round(checksPerMonth).toLocaleString('en-US')} checks)`,
    (P * targets.reduce((n, t) => n + (SECONDS_PER_MONTH / t.intervalSeconds) * bytesOut(t, a), 0)) / GB,
    'GB',
    'dataTransferInternetOut',
    'dataTransferOutGb',
  );
  if (P > 1) {
    bill.add('Data transfer', 'global table replication between regions', (itemsPerMonth * item.bytes * (P - 1) + incidentWrus * 1024 * (P - 1)) / GB, 'GB', 'dataTransferInterRegion');
  }

  const lines = bill.lines;
  const total = sum(lines);
  const byService: Record<string, number> = {};
  for (const l of lines) byService[l.service] = (byService[l.service] ?? 0) + l.monthly;
  const top = lines.reduce((best, l) => (l.monthly > best.monthly ? l : best), lines[0] as BillLine);

  return {
    pricesAsOf: PRICES_AS_OF,
    inputs: {
      platform: config.platform,
      platformRegions: G,
      probeRegions: P,
      targets: targets.length,
      intervalSeconds: interval,
      roundsPerMonth,
      checksPerMonth,
      shards,
      checksPerShard,
      shardRoundSeconds: shardSeconds,
      resultRetentionHours: retentionHours,
      logRetentionDays: retentionDays,
      roundItemBytes: item.bytes,
      roundItemWriteUnits: item.writeUnits,
      aggregatorWindowSlots: windowSlots,
      aggregatorQueryBytes: bytesPerQuery,
      detection: config.probing.detection,
      aggregatorBatchesPerRound: aggPerRound,
      confirming,
      slack,
      channels,
      statusPage: page,
      emails,
    },
    assumptions: a,
    lines,
    total,
    totalAfterFree: sum(lines, 'afterFree'),
    byService,
    dominant: { service: top.service, item: top.item, monthly: top.monthly, share: total > 0 ? top.monthly / total : 0 },
    route53: route53Baseline(targets, a),
    synthetics: syntheticsBaselines(targets, P, a),
  };
}

/**
 * The same targets as Route 53 health checks: one per target (Route 53 checks it from several regions itself),
 * with fast interval when the config checks more often than every 30 s, HTTPS for https URLs, string matching for
 * body assertions, and one CloudWatch alarm per check to notify anyone.
 */
export function route53Baseline(targets: readonly ResolvedTarget[], a: UsageAssumptions = DEFAULT_ASSUMPTIONS): Baseline {
  const aws = a.route53Endpoints === 'aws';
  const gaps: string[] = [];
  let checks = 0;
  let https = 0;
  let strings = 0;
  let fast = 0;
  for (const t of targets) {
    if (t.type === 'dns' || t.type === 'tls') {
      gaps.push(`${t.region}/${t.name}: ${t.type === 'dns' ? 'DNS answers' : 'certificate expiry'} (no Route 53 check type)`);
      continue;
    }
    if (t.role === 'write-probe') {
      gaps.push(`${t.region}/${t.name}: write probe (Route 53 only sends GET)`);
      continue;
    }
    checks += 1;
    if (t.intervalSeconds < 30) fast += 1;
    if ((t.type === 'http' || t.type === 'https') && t.url.startsWith('https:')) https += 1;
    if ((t.type === 'http' || t.type === 'https') && (t.expect.bodyContains !== undefined || t.expect.json !== undefined)) strings += 1;
  }
  const bill = new Bill();
  const where = aws ? 'AWS endpoints' : 'endpoints outside AWS';
  bill.add('Route 53', `health checks (${where})`, checks, 'checks', aws ? 'route53HealthCheckAws' : 'route53HealthCheckNonAws', aws ? 'route53AwsHealthChecks' : undefined);
  const option = aws ? 'route53OptionAws' : 'route53OptionNonAws';
  bill.add('Route 53', 'fast interval (10 s) option', fast, 'options', option);
  bill.add('Route 53', 'HTTPS option', https, 'options', option);
  bill.add('Route 53', 'string matching option', strings, 'options', option);
  bill.add('CloudWatch', 'one alarm per health check (to notify anyone)', checks, 'alarms', 'cloudwatchAlarms');
  const uncoveredTargets = targets.length - checks;
  if (targets.some((t) => t.type === 'http' || t.type === 'https')) gaps.push('no read-only (write probe) or degraded (latency) verdicts, no incident record or report');
  return { label: 'Route 53 health checks', lines: bill.lines, total: sum(bill.lines), gaps, uncoveredTargets };
}

/** The same targets as CloudWatch Synthetics canaries, at their fastest (once a minute), run from every probe region. */
export function syntheticsBaselines(targets: readonly ResolvedTarget[], probeRegions: number, a: UsageAssumptions = DEFAULT_ASSUMPTIONS): CostEstimate['synthetics'] {
  const c = a.canary;
  const gbs = c.memoryMb / 1024;
  const perTargetRuns = targets.length * probeRegions * MINUTES_PER_MONTH;
  const one = new Bill();
  one.add('Synthetics', `canary runs (one canary per target per probe region, every minute)`, perTargetRuns, 'runs', 'syntheticsCanaryRun');
  one.add('Lambda', `canary duration (x86, ${c.memoryMb} MB × ${c.singleTargetRunSeconds} s)`, perTargetRuns * c.singleTargetRunSeconds * gbs, 'GB-s', 'lambdaGbSecondX86');
  one.add('Lambda', 'canary requests', perTargetRuns, 'requests', 'lambdaRequests');
  const shared = probeRegions * MINUTES_PER_MONTH;
  const seconds = c.multiTargetBaseSeconds + c.perTargetSeconds * targets.length;
  const many = new Bill();
  many.add('Synthetics', 'canary runs (one canary per probe region checking every target, every minute)', shared, 'runs', 'syntheticsCanaryRun');
  many.add('Lambda', `canary duration (x86, ${c.memoryMb} MB × ${round(seconds, 1)} s)`, shared * seconds * gbs, 'GB-s', 'lambdaGbSecondX86');
  many.add('Lambda', 'canary requests', shared, 'requests', 'lambdaRequests');
  const gaps = ['once a minute at the fastest (regionwatch: every intervalSeconds)', 'S3 artifact storage and the canaries\' own logs not counted'];
  return {
    perTarget: { label: 'Synthetics, one canary per target per probe region', lines: one.lines, total: sum(one.lines), gaps, uncoveredTargets: 0 },
    perProbeRegion: {
      label: 'Synthetics, one multi-target canary per probe region',
      lines: many.lines,
      total: sum(many.lines),
      gaps: [...gaps, 'one failing target fails the whole canary run'],
      uncoveredTargets: 0,
    },
  };
}

/**
 * The config with exactly `n` targets, for "what if": its own targets repeated in order (renamed `name-2`, `name-3`, ...
 * in their own platform regions), or https health checks spread over its platform regions when it has none.
 */
export function withTargetCount(config: RegionwatchConfig, n: number): RegionwatchConfig {
  const pairs: Array<[string, TargetConfig]> = [];
  for (const [region, { targets }] of Object.entries(config.regions)) for (const t of targets) pairs.push([region, t]);
  const regionNames = Object.keys(config.regions);
  const regions: RegionwatchConfig['regions'] = Object.fromEntries(regionNames.map((r) => [r, { targets: [] as TargetConfig[] }]));
  for (let i = 0; i < n; i += 1) {
    const copy = Math.floor(i / Math.max(1, pairs.length));
    const pair = pairs[i % Math.max(1, pairs.length)];
    const region = pair?.[0] ?? regionNames[i % regionNames.length] ?? 'default';
    const base: TargetConfig = pair?.[1] ?? {
      name: 'health',
      type: 'https',
      url: `https://${region}.example.com/health`,
      method: 'GET',
      role: 'read',
      headers: {},
      followRedirects: true,
      expect: { status: [200], bodyContains: 'ok' },
    };
    const name = copy === 0 && pair !== undefined ? base.name : `${base.name.slice(0, 24)}-${copy + 1}`;
    const bucket = (regions[region] ??= { targets: [] });
    bucket.targets.push({ ...base, name });
  }
  return { ...config, regions };
}

/**
 * The workload the cost goal is set for (issue 14, docs/cost.md): the config's own mix of checks repeated to 50
 * targets, every 10 s, from its probe regions, with Slack as the only channel and no status page. Email, the
 * checker's alarms and the encryption stay as the config has them.
 */
export function referenceWorkload(config: RegionwatchConfig): RegionwatchConfig {
  return withTargetCount(
    {
      ...config,
      defaults: { ...config.defaults, intervalSeconds: 10 },
      notifications: { ...config.notifications, pagerDuty: [], webhooks: [] },
      statusPage: { ...config.statusPage, mode: 'off' },
    },
    50,
  );
}

/** The config with a different default interval (targets that set their own keep theirs, if still a multiple). */
export function withInterval(config: RegionwatchConfig, intervalSeconds: RegionwatchConfig['defaults']['intervalSeconds']): RegionwatchConfig {
  return { ...config, defaults: { ...config.defaults, intervalSeconds } };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
