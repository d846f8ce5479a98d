// The simulator: the real aggregator engine (evaluation, lifecycle, lease, outbox) in every probe region, over the
// in-memory incident store, on a virtual clock, fed by synthesised rounds. No network, no timers: events run in
// time order from a queue, and a two-hour scenario takes a fraction of a second.
//
// What it models across AWS regions (docs/simulate.md):
// - a prober per probe region writes one round per slot into its own replica of the results table, starting at its
//   stagger offset in the slot; each other replica receives it after the replication delay (`replicationDelaySeconds`,
//   `replication-lag` events);
// - confirm on failure: a failing check asks the other probe regions to check the target (after the confirmation
//   delay, `confirmation-loss` loses requests), and their checks are written as confirmation records, replicated too;
// - an aggregator per probe region is triggered by its replica's stream: a batch opens at the first record and runs
//   after the 2-second batching window (lib/aggregator.ts); the lease decides which one acts;
// - `aggregator-lost` stops a region's aggregator (its batches wait, as stream records do, until it is back);
//   `duplicate-delivery` runs a batch a second time (at once or up to 30 s later); `crash-after-write` kills a run
//   right after it wrote a transition, before publishing, and the stream retries the batch a second later;
//   `publish-errors` fails SNS publishes; `split-brain` makes every aggregator believe it holds the lease.
// - the incident table is one strongly consistent store shared by all aggregators (conditional writes).
import type { RegionwatchConfig } from '../config/schema';
import { AggregatorEngine, type CrashPoint, type RoundsReader } from '../aggregator/engine';
import { AGGREGATOR_STREAM_SETTINGS } from '../aggregator/stream-settings';
import type { CheckerRecord } from '../core/checker';
import type { IncidentRecord, RegionStatusRecord } from '../core/incident-record';
import type { Notification, NotificationPublisher } from '../core/notification';
import { confirmationBatchId, confirmationCheckAt, isStaleRequest } from '../core/confirmation';
import { isConfirmation, slotOf, type RoundRecord } from '../core/results';
import { confirmsFailures, staggerOffsetMs } from '../core/stagger';
import { hostOf } from '../probe/checks/index';
import type { IncidentStore, LeaseRecord, RegionState } from '../store/incident-store';
import { DEFAULT_LEASE_MS } from '../store/lease';
import { MemoryIncidentStore } from '../store/memory-incident-store';
import { ConfirmationTraffic, type ConfirmationCheck, type ConfirmationCounters, type SimulatedRequest } from './confirmations';
import { Draws } from './random';
import type { Scenario, TimedEvent } from './scenario';
import { activeAt, RoundSynthesiser } from './synth';

/**
 * How long after the first record a batch runs: the stream batching window as deployed (lib/aggregator.ts takes it from
 * the same settings), or, with no window, Lambda's polling of the stream (four times a second).
 */
export const BATCHING_WINDOW_MS = Math.max(AGGREGATOR_STREAM_SETTINGS.maxBatchingWindowSeconds * 1000, AGGREGATOR_STREAM_SETTINGS.pollIntervalMs);
/** A failed batch is retried this long after the failure … */
const RETRY_DELAY_MS = 1000;
/** … at most this often, as deployed. */
export const RETRY_ATTEMPTS = AGGREGATOR_STREAM_SETTINGS.retryAttempts;
/** Latest a replayed batch runs after the original. */
const MAX_REPLAY_DELAY_MS = 30_000;
/** Events one run may process at most: a bound on the loop, far above any scenario (a week ≈ 1.5 M). */
const MAX_EVENTS = 20_000_000;

/** A notification as it reached SNS. */
export interface Delivery {
  atMs: number;
  /** The aggregator (probe region) that published it. */
  aggregator: string;
  notification: Notification;
}

export interface RunRecord {
  atMs: number;
  aggregator: string;
  reason: 'batch' | 'replay' | 'retry';
  /** False when another aggregator held the lease. */
  acted: boolean;
  crashed: boolean;
  transitions: number;
}

export interface Takeover {
  awsRegion: string;
  /** Scenario second the aggregator was lost. */
  from: number;
  /** Seconds until another aggregator acted; null when none did before the scenario ended. */
  seconds: number | null;
  /** The aggregator that took over. */
  by: string | null;
}

export interface SimulationTrace {
  deliveries: Delivery[];
  runs: RunRecord[];
  /** Every incident in the store at the end, oldest first. */
  incidents: IncidentRecord[];
  takeovers: Takeover[];
  rounds: number;
  /** Round checks made (every target of every round). */
  roundChecks: number;
  /** Confirmation traffic: requests, checks, the most requests per target, probe region and slot. */
  confirmations: ConfirmationCounters;
  /** Every confirmation check, when, from where, of which platform region. */
  confirmationChecks: ConfirmationCheck[];
  crashes: number;
  replays: number;
  publishFailures: number;
  conflicts: number;
  storeWrites: number;
  /** Warnings the engines logged. */
  warnings: string[];
  /** Wall time of the event loop. */
  wallMs: number;
}

/** Thrown by the crash hook and by every call a crashed run still makes: the process is gone. */
export class SimulatedCrash extends Error {
  override readonly name = 'SimulatedCrash';
}

/** A failed SNS publish, as the real publisher's typed errors are: retryable. */
export class SimulatedPublishError extends Error {
  override readonly name = 'SimulatedPublishError';
  readonly retryable = true;
}

type QueueEvent =
  | { kind: 'slot'; slot: number }
  | { kind: 'round'; probeRegion: string; slot: number }
  | { kind: 'confirm'; to: string; request: SimulatedRequest }
  | { kind: 'confirm-check'; to: string; request: SimulatedRequest }
  | { kind: 'written'; from: string; round: RoundRecord }
  | { kind: 'arrive'; replica: string; round: RoundRecord }
  | { kind: 'run'; aggregator: string; reason: RunRecord['reason']; attempt: number };

interface Queued {
  atMs: number;
  seq: number;
  event: QueueEvent;
}

/** A binary min-heap on (atMs, seq): events at the same instant run in the order they were scheduled. */
class EventQueue {
  private readonly heap: Queued[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(atMs: number, event: QueueEvent): void {
    const item = { atMs, seq: this.seq++, event };
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent];
      if (!p || !before(item, p)) break;
      h[i] = p;
      h[parent] = item;
      i = parent;
    }
  }

  pop(): Queued | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      const hm = () => h[m] as Queued;
      const hl = h[l];
      const hr = h[r];
      if (hl && before(hl, hm())) m = l;
      if (hr && before(hr, hm())) m = r;
      if (m === i) break;
      const cur = h[i] as Queued;
      h[i] = hm();
      h[m] = cur;
      i = m;
    }
    return top;
  }
}

function before(a: Queued, b: Queued): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}

/**
 * One AWS region's replica of the results table: the same readRounds contract as ResultsStore and MemoryRounds.
 * Rounds are never modified once synthesised, so unlike MemoryRounds it stores them without copying (it is the
 * simulator's hottest path: every round lands in every replica).
 */
export class ReplicaRounds implements RoundsReader {
  private readonly bySlot = new Map<number, RoundRecord[]>();

  constructor(private readonly intervalSeconds: number) {}

  /** Stores a round or confirmation; the same key (slot, probe region, shard or confirmation batch, part) again replaces it, as the results table does. */
  write(round: RoundRecord): void {
    const list = this.bySlot.get(round.slot) ?? [];
    const same = list.findIndex(
      (r) => r.probeRegion === round.probeRegion && r.part === round.part && r.batch === round.batch && isConfirmation(r) === isConfirmation(round) && (r.shard ?? 0) === (round.shard ?? 0),
    );
    if (same >= 0) list[same] = round;
    else list.push(round);
    this.bySlot.set(round.slot, list);
  }

  /** Drops rounds older than `slot` (the results table's TTL). */
  expireBefore(slot: number): void {
    for (const s of [...this.bySlot.keys()]) if (s < slot) this.bySlot.delete(s);
  }

  async readRounds(fromSlot: number, toSlot: number): Promise<RoundRecord[]> {
    const out: RoundRecord[] = [];
    for (let slot = fromSlot; slot <= toSlot; slot += this.intervalSeconds) {
      const rounds = this.bySlot.get(slot);
      if (rounds) out.push(...rounds);
    }
    return out.sort((a, b) => a.slot - b.slot || a.probeRegion.localeCompare(b.probeRegion) || (a.shard ?? 0) - (b.shard ?? 0) || a.part - b.part);
  }
}

/** One AWS region's aggregator as the simulator drives it. */
interface AggregatorSlot {
  region: string;
  replica: ReplicaRounds;
  engine: AggregatorEngine;
  /** A batch is waiting for its window (or for the aggregator to come back). */
  pending: boolean;
  life: AggregatorLife;
}

interface AggregatorLife {
  region: string;
  /** Set by a crash: every call the dying run still makes fails. Cleared at the next run. */
  dead: boolean;
}

/**
 * The shared incident table as one aggregator sees it: calls fail once its run crashed, and during `split-brain`
 * it reads a lease that it holds.
 */
class AggregatorStoreView implements IncidentStore {
  constructor(
    private readonly store: MemoryIncidentStore,
    private readonly life: AggregatorLife,
    private readonly splitBrain: () => boolean,
    private readonly now: () => number,
  ) {}

  private alive(): void {
    if (this.life.dead) throw new SimulatedCrash('the aggregator crashed in this run');
  }

  async readRegion(region: string): Promise<RegionState> {
    this.alive();
    return this.store.readRegion(region);
  }
  async getIncident(region: string, seq: number): Promise<IncidentRecord | null> {
    this.alive();
    return this.store.getIncident(region, seq);
  }
  async putIncident(record: IncidentRecord, expected: number | null): Promise<boolean> {
    this.alive();
    return this.store.putIncident(record, expected);
  }
  async putStatus(record: RegionStatusRecord, expected: number | null): Promise<boolean> {
    this.alive();
    return this.store.putStatus(record, expected);
  }
  async readChecker(): Promise<CheckerRecord | null> {
    this.alive();
    return this.store.readChecker();
  }
  async putChecker(record: CheckerRecord, expected: number | null): Promise<boolean> {
    this.alive();
    return this.store.putChecker(record, expected);
  }
  async readLease(): Promise<LeaseRecord | null> {
    this.alive();
    if (this.splitBrain()) {
      const now = this.now();
      return { holder: this.life.region, expiresAt: now + 10 * DEFAULT_LEASE_MS, acquiredAt: now, version: -1 };
    }
    return this.store.readLease();
  }
  async putLease(record: LeaseRecord, expected: number | null): Promise<boolean> {
    this.alive();
    return this.store.putLease(record, expected);
  }
  openIncidents(): Promise<IncidentRecord[]> {
    return this.store.openIncidents();
  }
  regionIncidents(region: string, fromIso: string, toIso: string): Promise<IncidentRecord[]> {
    return this.store.regionIncidents(region, fromIso, toIso);
  }
  regionIncidentBefore(region: string, beforeIso: string): Promise<IncidentRecord | null> {
    return this.store.regionIncidentBefore(region, beforeIso);
  }
  statuses(regions: readonly string[]): Promise<RegionStatusRecord[]> {
    return this.store.statuses(regions);
  }
}

/** Lets the microtasks of a crashed run settle (every one of them fails fast) before the next event. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs a scenario to its end and returns what happened. Deterministic for a given scenario and seed. */
export async function runScenario(scenario: Scenario): Promise<SimulationTrace> {
  const config: RegionwatchConfig = scenario.config;
  const draws = new Draws(scenario.seed);
  const synth = new RoundSynthesiser(scenario, draws);
  const store = new MemoryIncidentStore();
  const interval = config.defaults.intervalSeconds;
  const t0 = scenario.startAtMs;
  const sec = (ms: number) => (ms - t0) / 1000;
  const endMs = t0 + scenario.durationSeconds * 1000;
  const events = scenario.events;
  const during = <F extends TimedEvent['fault']>(fault: F, atMs: number): Extract<TimedEvent, { fault: F }>[] =>
    events.filter((e): e is Extract<TimedEvent, { fault: F }> => e.fault === fault && activeAt(e, sec(atMs)));
  const rateOf = (fault: 'duplicate-delivery' | 'crash-after-write' | 'publish-errors', atMs: number) =>
    Math.max(0, ...during(fault, atMs).map((e) => e.rate));

  let now = t0 - scenario.warmupSeconds * 1000;
  const trace: SimulationTrace = {
    deliveries: [],
    runs: [],
    incidents: [],
    takeovers: [],
    rounds: 0,
    roundChecks: 0,
    confirmations: { requests: 0, lost: 0, dropped: 0, checks: 0, claimedAway: 0, maxRequestsPerTargetSlot: 0 },
    confirmationChecks: [],
    crashes: 0,
    replays: 0,
    publishFailures: 0,
    conflicts: 0,
    storeWrites: 0,
    warnings: [],
    wallMs: 0,
  };

  const aggregators = new Map<string, AggregatorSlot>();
  for (const region of config.probeRegions) {
    const life: AggregatorLife = { region, dead: false };
    const view = new AggregatorStoreView(store, life, () => during('split-brain', now).length > 0, () => now);
    const publisher: NotificationPublisher = {
      publish: async (notification) => {
        if (life.dead) throw new SimulatedCrash('the aggregator crashed in this run');
        if (draws.chance(`publish/${region}/${now}/${notification.dedupKey}/${trace.publishFailures}`, rateOf('publish-errors', now))) {
          trace.publishFailures++;
          throw new SimulatedPublishError('simulated SNS failure (throttled)');
        }
        trace.deliveries.push({ atMs: now, aggregator: region, notification });
      },
    };
    let runCount = 0;
    const replica = new ReplicaRounds(config.defaults.intervalSeconds);
    const engine = new AggregatorEngine({
      config,
      probeRegion: region,
      rounds: replica,
      incidents: view,
      publisher,
      clock: { now: () => now },
      sleep: async () => undefined,
      log: (level, message) => {
        if (level !== 'info') trace.warnings.push(`${new Date(now).toISOString()} ${region} ${level}: ${message}`);
      },
      crash: (point: CrashPoint, what: string) => {
        if (point !== 'after-write') return;
        runCount++;
        if (!draws.chance(`crash/${region}/${now}/${what}/${runCount}`, rateOf('crash-after-write', now))) return;
        life.dead = true;
        trace.crashes++;
        throw new SimulatedCrash(`simulated crash after writing ${what}`);
      },
    });
    aggregators.set(region, { region, replica, engine, pending: false, life });
  }

  const queue = new EventQueue();
  const firstSlot = Math.ceil((now / 1000) / interval) * interval;
  queue.push(firstSlot * 1000, { kind: 'slot', slot: firstSlot });

  const replicationDelayMs = (replica: string, atMs: number): number => {
    const lags = during('replication-lag', atMs).filter((e) => e.awsRegion === undefined || e.awsRegion === replica);
    return 1000 * (lags.length > 0 ? Math.max(...lags.map((e) => e.delaySeconds)) : scenario.replicationDelaySeconds);
  };
  const lostUntil = (aggregator: string, atMs: number): number | null => {
    const lost = during('aggregator-lost', atMs).filter((e) => e.awsRegion === aggregator);
    return lost.length > 0 ? t0 + Math.max(...lost.map((e) => e.to)) * 1000 : null;
  };

  const confirming = confirmsFailures(config);
  const traffic = new ConfirmationTraffic(synth.targets, synth.targets.map(hostOf), config.probing, interval);
  // Results items share one partition, which replicates in order: from one probe region into one replica, a later
  // write never arrives before an earlier one (a lag that ends drains its backlog first). Writes are replicated when
  // they are made (a `written` event), so the order is the order of the writes.
  const lastArrival = new Map<string, number>();
  const replicate = (record: RoundRecord, from: string, writtenAtMs: number) => queue.push(writtenAtMs, { kind: 'written', from, round: record });
  const arrivals = (record: RoundRecord, from: string) => {
    for (const replica of config.probeRegions) {
      if (replica === from) {
        queue.push(now, { kind: 'arrive', replica, round: record });
        continue;
      }
      const stream = `${from}>${replica}`;
      const at = Math.max(now + replicationDelayMs(replica, now), lastArrival.get(stream) ?? 0);
      lastArrival.set(stream, at);
      queue.push(at, { kind: 'arrive', replica, round: record });
    }
  };
  const lossRate = (from: string, atMs: number) => Math.max(0, ...during('confirmation-loss', atMs).filter((e) => e.probeRegion === undefined || e.probeRegion === from).map((e) => e.rate));
  const asRequest = (r: SimulatedRequest) => ({
    kind: 'confirm' as const,
    from: r.from,
    slot: r.slot,
    batch: r.batch,
    targets: r.targets.map((x) => ({ region: synth.targets[x.target]?.region ?? '', target: synth.targets[x.target]?.name ?? '', at: x.at })),
  });

  const started = performance.now();
  for (let n = 0; n < MAX_EVENTS; n++) {
    const next = queue.pop();
    if (!next || next.atMs > endMs) break;
    now = next.atMs;
    const e = next.event;
    if (e.kind === 'slot') {
      for (const p of config.probeRegions) queue.push(e.slot * 1000 + staggerOffsetMs(config, p), { kind: 'round', probeRegion: p, slot: e.slot });
      const nextSlot = e.slot + interval;
      if (nextSlot * 1000 < endMs) queue.push(nextSlot * 1000, { kind: 'slot', slot: nextSlot });
      traffic.expireBefore(e.slot - 2 * interval);
      // The results table's TTL, shortened: nothing older than half an hour is ever in a window.
      if (e.slot % 600 === 0) for (const a of aggregators.values()) a.replica.expireBefore(e.slot - 1800);
    } else if (e.kind === 'round') {
      const made = synth.round(e.probeRegion, e.slot);
      if (!made) continue;
      trace.rounds++;
      trace.roundChecks += made.checks.length;
      replicate(made.round, e.probeRegion, made.writtenAtMs);
      const requests = traffic.fromRound(e.probeRegion, e.slot, made.checks);
      if (!confirming) continue;
      for (const request of requests) {
        // Every probe region checks again, the one that saw the failure too: its own second look is a vantage point
        // the quorum needs when another probe region cannot reach the platform.
        for (const to of config.probeRegions) {
          const key = `${request.from}/${to}`;
          if (draws.chance(`confirm-loss/${key}/${request.slot}/${request.batch}`, lossRate(request.from, request.sentAtMs))) {
            traffic.counters.lost++;
            continue;
          }
          traffic.counters.requests++;
          const delayMs = scenario.confirmationDelaySeconds * 1000 * (0.5 + draws.unitAt(draws.keyHash(`confirm-delay/${key}`), request.slot, request.batch));
          queue.push(request.sentAtMs + delayMs, { kind: 'confirm', to, request });
        }
      }
    } else if (e.kind === 'confirm') {
      // The asked probe region: dropped when it is silent or the request is old; otherwise it checks, at once or, if
      // the failure is younger than minFaultSeconds, when it is that old.
      const request = asRequest(e.request);
      if (synth.isSilent(e.to, slotOf(now, interval)) || isStaleRequest(request, now, interval)) {
        traffic.counters.dropped++;
        continue;
      }
      const minFault = Math.max(...e.request.targets.map((x) => synth.targets[x.target]?.minFaultSeconds ?? 0));
      queue.push(confirmationCheckAt(request, now, minFault), { kind: 'confirm-check', to: e.to, request: e.request });
    } else if (e.kind === 'confirm-check') {
      const slot = slotOf(now, interval);
      const targets = traffic.claim(e.to, slot, e.request.targets.map((x) => x.target));
      if (targets.length === 0) continue;
      const batch = confirmationBatchId(e.request);
      const made = synth.confirmation(e.to, targets, now, batch, 1 + (draws.keyHash(`${batch}/${e.to}`) % 1_000_000));
      traffic.fromConfirmation(e.to, made.checks);
      replicate(made.record, e.to, made.writtenAtMs);
    } else if (e.kind === 'written') {
      arrivals(e.round, e.from);
    } else if (e.kind === 'arrive') {
      const a = aggregators.get(e.replica);
      if (!a) continue;
      a.replica.write(e.round);
      if (!a.pending) {
        a.pending = true;
        queue.push(now + BATCHING_WINDOW_MS, { kind: 'run', aggregator: a.region, reason: 'batch', attempt: 0 });
      }
    } else {
      const a = aggregators.get(e.aggregator);
      if (!a) continue;
      const back = lostUntil(a.region, now);
      if (back !== null) {
        // The region is gone: its stream keeps the records; the batch runs when it is back.
        queue.push(back, e);
        continue;
      }
      if (e.reason === 'batch') a.pending = false;
      a.life.dead = false;
      const record: RunRecord = { atMs: now, aggregator: a.region, reason: e.reason, acted: false, crashed: false, transitions: 0 };
      trace.runs.push(record);
      try {
        const run = await a.engine.run();
        record.acted = run.acted;
        record.transitions = run.transitions.reduce((sum, t) => sum + t.events.length, 0) + run.checkerTransitions.length;
        trace.conflicts += run.conflicts;
      } catch (error: unknown) {
        if (!(error instanceof SimulatedCrash)) throw error;
        record.acted = true;
        record.crashed = true;
        await settle();
        // The batch failed: the stream delivers it again.
        if (e.attempt < RETRY_ATTEMPTS) queue.push(now + RETRY_DELAY_MS, { kind: 'run', aggregator: a.region, reason: 'retry', attempt: e.attempt + 1 });
        continue;
      }
      if (e.reason === 'batch' && draws.chance(`duplicate/${a.region}/${now}`, rateOf('duplicate-delivery', now))) {
        trace.replays++;
        const delay = draws.chance(`duplicate-at-once/${a.region}/${now}`, 0.5) ? 0 : draws.int(`duplicate-delay/${a.region}/${now}`, 1000, MAX_REPLAY_DELAY_MS);
        queue.push(now + delay, { kind: 'run', aggregator: a.region, reason: 'replay', attempt: 0 });
      }
    }
  }
  trace.wallMs = performance.now() - started;
  trace.storeWrites = store.counters.writes;
  trace.confirmations = traffic.counters;
  trace.confirmationChecks = traffic.checks;

  const all: IncidentRecord[] = [];
  for (const region of Object.keys(config.regions)) all.push(...(await store.regionIncidents(region, '0000', '9999')));
  trace.incidents = all.sort((a, b) => a.openedAt.localeCompare(b.openedAt) || a.region.localeCompare(b.region));
  trace.takeovers = takeovers(scenario, trace.runs);
  return trace;
}

/** For each aggregator-lost event on the aggregator that was acting: how long until another one acted. */
function takeovers(scenario: Scenario, runs: readonly RunRecord[]): Takeover[] {
  const out: Takeover[] = [];
  const t0 = scenario.startAtMs;
  for (const e of scenario.events) {
    if (e.fault !== 'aggregator-lost') continue;
    const fromMs = t0 + e.from * 1000;
    let holder: string | null = null;
    for (const r of runs) {
      if (r.atMs >= fromMs) break;
      if (r.acted) holder = r.aggregator;
    }
    if (holder !== e.awsRegion) continue;
    const next = runs.find((r) => r.atMs >= fromMs && r.acted && r.aggregator !== e.awsRegion);
    out.push({ awsRegion: e.awsRegion, from: e.from, seconds: next ? (next.atMs - fromMs) / 1000 : null, by: next ? next.aggregator : null });
  }
  return out;
}
