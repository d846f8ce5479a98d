// The aggregator engine: one run per trigger (a stream batch on AWS, a written slot in local mode, a step in the
// simulator). Lease → one Query of the results window (two while verdicts wait for late results) → evaluation → one conditional write per changed item →
// publish what the items owe → mark it sent. The engine takes its clients, clock and publisher as arguments.
import { randomUUID } from 'node:crypto';
import type { RegionwatchConfig } from '../config/schema';
import { decideChecker, publishFailureAlert, type CheckerRecord } from '../core/checker';
import { evaluateWindow, evaluationSettings, lateWindowBounds, windowBounds, type EvaluationSettings, type LifecycleTuning, type WindowEvaluation } from '../core/evaluate';
import type { IncidentRecord, OutboxEntry, SentNotification } from '../core/incident-record';
import { decideRegion } from '../core/lifecycle';
import { claim, claimable, markFailed, markPublished } from '../core/outbox';
import type { NotificationEvent, NotificationPublisher } from '../core/notification';
import { incompleteRounds, slotOf, type RoundRecord } from '../core/results';
import { fitIncident } from '../core/item-size';
import type { IncidentStore } from '../store/incident-store';
import { LeaseKeeper, leaseOrder, type LeaseOptions } from '../store/lease';

/** Where the engine reads rounds: ResultsStore on DynamoDB, or anything in memory with the same method. */
export interface RoundsReader {
  /** Every round record of slots in [fromSlot, toSlot] across probe regions (ideally one Query). */
  readRounds(fromSlot: number, toSlot: number): Promise<RoundRecord[]>;
}

export interface EngineLog {
  (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void;
}

/** Points a test (or the simulator's `crash-after-write` fault) can fail at; throwing there aborts the run. */
export type CrashPoint = 'after-write' | 'after-publish';

export interface AggregatorEngineOptions {
  config: RegionwatchConfig;
  /** The probe region this aggregator runs in (its lease identity). */
  probeRegion: string;
  rounds: RoundsReader;
  incidents: IncidentStore;
  publisher: NotificationPublisher;
  /** Epoch milliseconds: the wall clock on AWS, a virtual one in local mode and the simulator. */
  clock: { now(): number };
  tuning?: Partial<LifecycleTuning>;
  lease?: Partial<Pick<LeaseOptions, 'leaseMs' | 'staggerMs'>>;
  /** Publish tries per notification per run (default 3) … */
  publishTries?: number;
  /** … with this wait before the second and doubled before each later one (default 200 ms). */
  retryDelayMs?: number;
  /** Failed runs (attempts on the outbox entry) before a checker alert about a notification that will not go (default 3). */
  alertAfterAttempts?: number;
  /** How long a run's claim on the notifications it is publishing holds (default 30 s). */
  claimMs?: number;
  /** Waits between publish tries; the simulator passes a no-op. Default: setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  log?: EngineLog;
  /** Test and simulator hook, called at each crash point with what was just done; throw to simulate a crash. */
  crash?: (point: CrashPoint, what: string) => void;
}

/** What one run did, for logs, metrics, local mode and the simulator. */
export interface AggregatorRun {
  /** False when another aggregator holds the lease: this one wrote nothing and published nothing. */
  acted: boolean;
  evaluatedSlot: number | null;
  resultCount: number;
  transitions: { region: string; incidentId: string; events: NotificationEvent[] }[];
  checkerTransitions: string[];
  /** Notifications published in this run (including ones a crashed run owed). */
  published: SentNotification[];
  publishFailures: number;
  /** Notifications still pending in outboxes after the run. */
  pending: number;
  /** Pending notifications that failed alertAfterAttempts runs or more. */
  stuck: number;
  /** Conditional writes that lost a race (the run re-read and re-derived). */
  conflicts: number;
  /**
   * Sharded rounds in the window still missing a shard INCOMPLETE_AFTER_SLOTS slots after their own (a shard that never
   * ran): alarmed on when rounds fan out.
   */
  incompleteRounds: number;
  /** True when the run read and evaluated nothing: a batch of only `up` results while everything was quiet this slot. */
  quiet?: boolean;
}

/** Slots after its own by which every shard of a round has been written and replicated (each writes inside its slot). */
export const INCOMPLETE_AFTER_SLOTS = 2;

/** Platform regions that failed in a run while the others and the checker went on; the stream retries the batch. */
export class RegionRunError extends Error {
  override readonly name = 'RegionRunError';
  constructor(
    readonly failures: readonly { region: string; error: unknown }[],
    /** What the run did for the other regions and the checker. */
    readonly run: AggregatorRun,
  ) {
    super(`aggregator run failed for ${failures.map((f) => `${f.region} (${describeError(f.error).logText})`).join(', ')}`, { cause: failures[0]?.error });
  }
}

/** The first slot the window re-derives: timeline segments before it may be folded (lifecycle foldTimeline). */
function foldBefore(evaluation: WindowEvaluation): number {
  return evaluation.slots[0] ?? 0;
}

/** Writes retried on a lost race before the run gives up on an item (the next run derives it again). */
const MAX_WRITE_ATTEMPTS = 4;

/** An identifier-like token (a failure kind, an AWS error code, an error class name): safe to store and show. */
const SAFE_TOKEN = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;

/**
 * A failed publish as the outbox stores it (`lastError`) and the checker alert shows it: the typed error's `kind`
 * and `code` (NotificationPublishError in lambda/notify/sns-publisher.ts), never its message: an SDK message names the
 * role and topic ARNs, and the alert goes to email and Slack. `logText` is the whole message, for the log only.
 */
function describeError(error: unknown): { text: string; logText: string; retryable: boolean } {
  if (!(error instanceof Error)) return { text: 'unknown', logText: String(error), retryable: true };
  const typed = error as { kind?: unknown; code?: unknown; retryable?: unknown };
  const kind = typeof typed.kind === 'string' && SAFE_TOKEN.test(typed.kind) ? typed.kind : 'unknown';
  const code = typeof typed.code === 'string' && SAFE_TOKEN.test(typed.code) ? typed.code : kind === 'unknown' && SAFE_TOKEN.test(error.name) ? error.name : undefined;
  return { text: code === undefined ? kind : `${kind} (${code})`, logText: `${error.name}: ${error.message}`, retryable: typed.retryable !== false };
}

/** A checker item with nothing wrong and nothing owed: every probe region ok, results on time, no refusal, empty outbox. */
function checkerIsCalm(record: CheckerRecord): boolean {
  return (
    Object.values(record.probeRegions).every((p) => p.state === 'ok' && p.suspect === undefined) &&
    (record.results?.state ?? 'ok') === 'ok' &&
    Object.keys(record.refusedTargets ?? {}).length === 0 &&
    record.outbox.length === 0
  );
}

/**
 * The aggregator. Create one per process (it keeps no state between runs but the settings derived from the config and
 * the lease it last saw, which it reads again only when that could have changed) and call `run()` once per trigger. Runs of one engine must not overlap; runs of different engines (other
 * regions, a retried Lambda) may: every write is conditional and every decision is re-derived on a lost race.
 */
export class AggregatorEngine {
  readonly settings: EvaluationSettings;
  private readonly order: string[];
  /** The lease as this engine last saw it: read again only when it could have changed (LeaseKeeper). */
  private readonly lease: LeaseKeeper;
  /** The window's last slot when this engine's last run found everything quiet (see `run`); null otherwise. */
  private quietToSlot: number | null = null;
  /** Whether every platform region ended this run calm (set by runRegion). */
  private calmRegions = new Set<string>();
  private runId = '';
  /** Set when the crash hook threw in this run. */
  private crashed: { error: unknown } | null = null;

  constructor(private readonly options: AggregatorEngineOptions) {
    this.settings = evaluationSettings(options.config, options.tuning);
    this.order = leaseOrder(options.config.homeRegion, options.config.probeRegions);
    this.lease = new LeaseKeeper(options.incidents, { probeRegion: options.probeRegion, order: this.order, ...options.lease });
  }

  /**
   * One trigger: acquire or renew the lease (standby ⇒ return at once), read the results window (one Query),
   * evaluate, and for each platform region (all, or `regions`) write what changed and drain its outbox; then the
   * checker item. Throws only when the store fails (the stream then retries the batch, which is harmless).
   */
  async run(trigger: { regions?: readonly string[]; allUp?: boolean } = {}): Promise<AggregatorRun> {
    const nowMs = this.options.clock.now();
    this.runId = `${this.options.probeRegion}/${nowMs}/${randomUUID().slice(0, 8)}`;
    this.crashed = null;
    const out: AggregatorRun = {
      acted: false,
      evaluatedSlot: null,
      resultCount: 0,
      transitions: [],
      checkerTransitions: [],
      published: [],
      publishFailures: 0,
      pending: 0,
      stuck: 0,
      conflicts: 0,
      incompleteRounds: 0,
    };
    const lease = await this.lease.acquire(nowMs);
    if (!lease.holder) {
      this.quietToSlot = null;
      return out;
    }
    out.acted = true;

    const { fromSlot, toSlot } = windowBounds(this.settings, nowMs);
    // Quiet: this engine's last run, in this same window, found every platform region up with no incident open and
    // nothing owed, and the checker calm; a batch of only `up` results (trigger.allUp) cannot change any of that, and
    // the window has not moved, so nothing time-driven is due either. Staggered rounds bring each acting aggregator
    // three batches a slot: the first is evaluated, the quiet others read nothing (results window, region Queries,
    // checker item). A failing result, a confirmation of one, a poison record, a new slot, anything not calm, a new
    // process or a lost lease: evaluated as always.
    if (trigger.allUp === true && this.quietToSlot === toSlot) {
      out.quiet = true;
      return out;
    }
    this.quietToSlot = null;
    this.calmRegions = new Set();
    let rounds = await this.options.rounds.readRounds(fromSlot, toSlot);
    // Verdicts waiting for late results decide further back: read the older part too (at most one more Query).
    const late = lateWindowBounds(this.settings, rounds, nowMs);
    if (late) rounds = [...(await this.options.rounds.readRounds(late.fromSlot, late.toSlot)), ...rounds];
    const evaluation = evaluateWindow(this.settings, rounds, nowMs);
    out.incompleteRounds = incompleteRounds(rounds, slotOf(nowMs, this.settings.intervalSeconds) - INCOMPLETE_AFTER_SLOTS * this.settings.intervalSeconds).length;
    out.evaluatedSlot = evaluation.slots[evaluation.latest] ?? null;
    out.resultCount = evaluation.resultCount;

    const regions = this.settings.regions.filter((r) => !trigger.regions || trigger.regions.includes(r));
    const stuck: OutboxEntry[] = [];
    // One region's failure (a store error, an item DynamoDB refuses) must not stop the others or the checker.
    const settled = await Promise.allSettled(regions.map((region) => this.runRegion(region, evaluation, nowMs, out, stuck, foldBefore(evaluation))));
    // A crash (test or simulator hook) is the process dying: nothing more runs.
    const crashed = this.crashed as { error: unknown } | null; // set by crashAt during the awaits above
    if (crashed) throw crashed.error;
    const failed = settled.flatMap((r, n) => (r.status === 'rejected' ? [{ region: regions[n] ?? '?', error: r.reason as unknown }] : []));
    for (const f of failed) {
      this.options.log?.('error', 'a platform region failed in this run; the other regions and the checker went on, the batch is retried', {
        region: f.region,
        error: describeError(f.error).logText,
      });
    }
    const checkerCalm = await this.runChecker(evaluation, nowMs, out, stuck);
    out.stuck = stuck.length;
    const calm =
      checkerCalm &&
      !late &&
      failed.length === 0 &&
      this.settings.regions.every((r) => this.calmRegions.has(r)) &&
      out.transitions.length === 0 &&
      out.checkerTransitions.length === 0 &&
      out.published.length === 0 &&
      out.publishFailures === 0 &&
      out.pending === 0 &&
      out.stuck === 0 &&
      out.conflicts === 0;
    if (calm) this.quietToSlot = toSlot;
    // The run's error (RunFailures metric, the batch retried) once everything else is done.
    if (failed.length > 0) throw new RegionRunError(failed, out);
    return out;
  }

  private async runRegion(region: string, evaluation: WindowEvaluation, nowMs: number, out: AggregatorRun, stuck: OutboxEntry[], foldFrom: number): Promise<void> {
    const { incidents } = this.options;
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const state = await incidents.readRegion(region);
      const latest = state.incidents[0] ?? null;
      const decision = decideRegion({ settings: this.settings, evaluation, region, nowMs, latest, status: state.status });
      let current: IncidentRecord | null = latest;
      if (decision.incident) {
        const expected = decision.created ? null : (latest?.version ?? null);
        const fitted = fitIncident(decision.incident, foldFrom);
        if (fitted.trimmed.length > 0) {
          this.options.log?.('warn', 'incident item too large: evidence dropped to keep it under the item limit', { region, incidentId: decision.incident.incidentId, bytes: fitted.bytes, dropped: fitted.trimmed });
        }
        if (!(await incidents.putIncident(fitted.record, expected))) {
          out.conflicts++;
          continue; // another aggregator wrote first: re-read and re-derive
        }
        current = { ...fitted.record, version: (expected ?? 0) + 1 };
        if (decision.transitions.length > 0) {
          out.transitions.push({ region, incidentId: current.incidentId, events: decision.transitions });
          this.crashAt('after-write', `${region}:${decision.transitions.join(',')}`);
        }
      }
      if (decision.status && !(await incidents.putStatus(decision.status, state.status?.version ?? null))) out.conflicts++;
      const status = decision.status ?? state.status;
      const open = (current !== null && current.status === 'open') || state.incidents.some((i) => i.status === 'open' || i.outbox.length > 0);
      if (status?.verdict === 'up' && status.openIncidentId === null && (status.refusedTargets ?? []).length === 0 && !open) this.calmRegions.add(region);
      // Drain every outbox read, oldest incident first, so a page an earlier incident still owes (a resolve held back
      // by a failing SNS or a crash) goes out before the next incident's opening. When this run created an incident,
      // the one before it (state.incidents[0]) is among them; otherwise `current` is that one, as written now.
      const older = decision.created ? state.incidents : state.incidents.slice(1);
      const owing = [...older].reverse().concat(current ?? []).filter((i) => i.outbox.length > 0);
      for (const incident of owing) await this.drainIncident(incident, nowMs, out, stuck);
      return;
    }
    this.options.log?.('warn', 'gave up on a region after repeated lost races; the next run derives it again', { region });
  }

  private drainIncident(record: IncidentRecord, nowMs: number, out: AggregatorRun, stuck: OutboxEntry[]): Promise<void> {
    const { incidents } = this.options;
    return this.drain(record, nowMs, out, {
      put: (r, expected) => incidents.putIncident(r, expected),
      reread: () => incidents.getIncident(record.region, record.seq),
      done: (r) => {
        for (const o of r.outbox) if (o.attempts >= this.alertAfter) stuck.push(o);
      },
    });
  }

  /**
   * Publishes what a record owes: claim the entries (one conditional write, so a racing aggregator skips them),
   * publish, then one conditional write that moves sent entries to the log and counts failed ones.
   * A crash after the claim delays the page by the claim's time (claimMs); a crash after the publish and before
   * the mark republishes it with the same dedupKey.
   */
  private async drain<T extends { outbox: OutboxEntry[]; notifications: SentNotification[]; version: number }>(
    record: T,
    nowMs: number,
    out: AggregatorRun,
    io: { put(r: T, expected: number): Promise<boolean>; reread(): Promise<T | null>; done?(r: T): void },
  ): Promise<void> {
    let current: T | null = record;
    let mine: OutboxEntry[] = [];
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS && current; attempt++) {
      mine = claimable(current.outbox, this.runId, nowMs);
      if (mine.length === 0) {
        out.pending += current.outbox.length;
        return;
      }
      const claimed = claim(current, new Set(mine.map((o) => o.notification.dedupKey)), this.runId, nowMs + (this.options.claimMs ?? 30_000));
      if (await io.put(claimed, current.version)) {
        current = { ...claimed, version: current.version + 1 };
        break;
      }
      out.conflicts++;
      current = await io.reread();
      mine = [];
    }
    if (!current || mine.length === 0) return;
    const results = await this.publishAll(mine, out);
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS && current; attempt++) {
      const marked = applyResults(current, results, nowMs);
      if (await io.put(marked, current.version)) {
        out.pending += marked.outbox.length;
        io.done?.(marked);
        return;
      }
      out.conflicts++;
      current = await io.reread();
    }
  }

  /** Calls the crash hook; a throw there is the process dying, remembered so the run stops instead of going on. */
  private crashAt(point: CrashPoint, what: string): void {
    try {
      this.options.crash?.(point, what);
    } catch (error: unknown) {
      this.crashed ??= { error };
      throw error;
    }
  }

  private get alertAfter(): number {
    return this.options.alertAfterAttempts ?? 3;
  }

  /** Decides and stores the checker item; resolves true when the checker is calm (nothing wrong, nothing owed). */
  private async runChecker(evaluation: WindowEvaluation, nowMs: number, out: AggregatorRun, stuck: OutboxEntry[]): Promise<boolean> {
    const { incidents } = this.options;
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const stored = await incidents.readChecker();
      const decision = decideChecker({ settings: this.settings, evaluation, nowMs, checker: stored });
      let record: CheckerRecord | null = decision.record ?? stored;
      let changed = decision.record !== null;
      for (const entry of stuck) {
        if (!record) break;
        const alerted = publishFailureAlert(record, entry, nowMs);
        if (alerted) {
          record = alerted;
          changed = true;
        }
      }
      if (record && changed) {
        if (!(await incidents.putChecker(record, stored?.version ?? null))) {
          out.conflicts++;
          continue;
        }
        record = { ...record, version: (stored?.version ?? 0) + 1 };
        out.checkerTransitions.push(...decision.transitions);
        if (decision.transitions.length > 0) this.crashAt('after-write', `checker:${decision.transitions.join(',')}`);
      }
      if (record && record.outbox.length > 0) await this.drainChecker(record, nowMs, out);
      return record !== null && checkerIsCalm(record);
    }
    return false;
  }

  private drainChecker(record: CheckerRecord, nowMs: number, out: AggregatorRun): Promise<void> {
    const { incidents } = this.options;
    return this.drain(record, nowMs, out, { put: (r, expected) => incidents.putChecker(r, expected), reread: () => incidents.readChecker() });
  }

  /** Publishes each entry, retrying retryable failures a few times; returns dedupKey → null (sent) or the error text. */
  private async publishAll(outbox: readonly OutboxEntry[], out: AggregatorRun): Promise<Map<string, string | null>> {
    const results = new Map<string, string | null>();
    const tries = Math.max(1, this.options.publishTries ?? 3);
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    for (const entry of outbox) {
      const key = entry.notification.dedupKey;
      let delay = this.options.retryDelayMs ?? 200;
      for (let n = 0; n < tries; n++) {
        try {
          await this.options.publisher.publish(entry.notification);
        } catch (error: unknown) {
          const { text, logText, retryable } = describeError(error);
          out.publishFailures++;
          results.set(key, text);
          this.options.log?.('error', 'notification publish failed; it stays in the outbox', { dedupKey: key, error: logText, kind: text, attempt: entry.attempts + 1, try: n + 1 });
          if (!retryable || n === tries - 1) break;
          await sleep(delay);
          delay *= 2;
          continue;
        }
        results.set(key, null);
        out.published.push({
          event: entry.notification.event,
          severity: entry.notification.severity,
          dedupKey: key,
          subject: entry.notification.subject,
          at: entry.notification.at,
          publishedAt: new Date(this.options.clock.now()).toISOString(),
        });
        // Outside the try: a crash here aborts the run before the mark (the claim then expires and a later run
        // republishes with the same dedupKey), it is not a failed publish to retry.
        this.crashAt('after-publish', key);
        break;
      }
    }
    return results;
  }
}

function applyResults<T extends { outbox: OutboxEntry[]; notifications: SentNotification[] }>(record: T, results: Map<string, string | null>, nowMs: number): T {
  let next = record;
  for (const [key, error] of results) {
    if (!next.outbox.some((o) => o.notification.dedupKey === key)) continue;
    next = error === null ? markPublished(next, key, nowMs) : markFailed(next, key, error);
  }
  return next;
}
