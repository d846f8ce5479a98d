// The prober's invocation loop: once a minute, run the minute's slots back to back and write each round once.
import { shardPlan, shardTargets } from '../config/capacity';
import type { RegionwatchConfig } from '../config/schema';
import { resolveTargets, type ResolvedTarget } from '../config/resolve';
import { staggerOffsetMs } from '../core/stagger';
import { silentLogger } from './context';
import { ROUND_WRITE_MARGIN_MS, runRound, type CheckWatch, type RoundData, type RoundDeps } from './round';
import { MIN_ROUND_MS, planMinute, slotsOfWindow, type QueuedRound, type RoundMessage } from './scheduling';

export { slotsOfMinute, slotsOfWindow } from './scheduling';

/** Clock skew the prober is promised to survive (FAULTS row 16); a larger offset is logged as an error. */
export const SKEW_TOLERANCE_MS = 120_000;
/** Rounds of a minute end this long after the minute starts, so the next minute's invocation never waits for this one. */
export const DEFAULT_INVOCATION_BUDGET_MS = 58_000;

/** Where rounds go: `ResultsStore` fits. */
export interface RoundWriter {
  writeRound(round: RoundData): Promise<unknown>;
}

/** Claims (probe region, minute) once across invocations; false when another invocation already has it. */
export type MinuteClaim = (probeRegion: string, minute: number) => Promise<boolean>;

/**
 * Claims (probe region, slot, shard) once across invocations and queue deliveries; false when another one already
 * has it. `shard` is absent for a round that does not fan out.
 */
export type SlotClaim = (probeRegion: string, slot: number, shard?: number) => Promise<boolean>;

/**
 * Hands rounds to the rounds queue. Resolves with the messages that could not be queued (they are run in this
 * invocation instead); a rejection means none was queued.
 */
export type RoundEnqueuer = (rounds: readonly QueuedRound[]) => Promise<{ failed: RoundMessage[] }>;

/**
 * How the minute's later rounds are paid for (see `ProberScheduling`). With `invocation-per-round`, slots the
 * queue refused are run here as `wait-in-minute` would, each behind a slot claim (`claimSlot`) in case the queue
 * took the message after all: a broken queue costs money, not coverage.
 */
export type InvocationScheduling = { mode: 'wait-in-minute' } | { mode: 'invocation-per-round'; enqueue: RoundEnqueuer; claimSlot?: SlotClaim };

export interface InvocationInput {
  config: RegionwatchConfig;
  probeRegion: string;
  /**
   * Epoch ms of the scheduled event (EventBridge `time`, whole seconds): the invocation serves the rounds that start
   * in the 60 s from it (slotsOfWindow). Default: `now()` at start.
   */
  scheduledAt?: number;
  /**
   * Estimated offset of the local clock from the scheduler's (local minus schedule), in ms. Default: this
   * invocation's own offset, i.e. assume it started on time. `ClockOffsetEstimator` gives a better one
   * across invocations, which tells a skewed clock (persistent offset) from a late delivery (transient).
   */
  clockOffsetMs?: number;
  /** How long this invocation may run from its start, in ms (the Lambda's remaining time less a margin). */
  budgetMs?: number;
  store: RoundWriter;
  /** Guards against a doubled scheduled delivery probing the same minute twice. Optional. */
  claimMinute?: MinuteClaim;
  /** Default `wait-in-minute` (local mode, tests, the fallback). */
  scheduling?: InvocationScheduling;
  /** Called after each round is written (metrics, logs). Its errors are logged, not thrown. */
  onRound?: (round: RoundData, written: boolean) => void | Promise<void>;
  /** Confirm on failure: what each round tells about its checks as they start (lambda/probe/confirmations.ts). */
  watchRound?: RoundWatchFactory;
}

/**
 * Makes the watch of one round's checks (the confirmation requester of that round), and says when the round's
 * requests are all sent, so an invocation does not end with one still in flight.
 */
export type RoundWatchFactory = (slot: number) => RoundWatch;

export interface RoundWatch {
  watch: CheckWatch;
  /** Resolves once every request the round made is sent (or failed: logged, never thrown). */
  drain(): Promise<void>;
}

export type InvocationOutcome = 'ran' | 'late' | 'duplicate';

export interface InvocationSummary {
  outcome: InvocationOutcome;
  /** Epoch seconds of the start of the 60 s served: the scheduled event's time. */
  minute: number;
  /** Local clock minus scheduled time at start, in ms. */
  offsetMs: number;
  /** How late the invocation started on the scheduler's clock (offset minus the clock offset estimate), in ms. */
  latenessMs: number;
  /** Slots whose round was written. */
  written: number[];
  /** Slots run but whose write failed (logged). */
  failedWrites: number[];
  /** Slots of the minute not run because the budget was used up (or, queue fallback, another run claimed them). */
  skipped: number[];
  /** Slots handed to the rounds queue (invocation-per-round). */
  queued: number[];
  /** Slots run here (some or all of their shards) because the queue refused them (invocation-per-round fallback). */
  fallback: number[];
  /** Shards each round fans out over (1: the whole round in one invocation). */
  shards: number;
}

/**
 * Serves one scheduled minute for one probe region: the minute's slots, each run and written at most once.
 *
 * Time is kept on the scheduler's clock (local clock minus `clockOffsetMs`), so a prober whose clock is off by
 * up to ±2 minutes still runs each slot in its own stretch of time and labels it right. The scheduled event's
 * time picks the minute. A late start skips the slots whose time has passed and shortens the current one; an
 * invocation that starts after its minute is over does nothing (the next one serves the present). Every round
 * ends by DEFAULT_INVOCATION_BUDGET_MS into the minute, so invocations never overlap. A doubled delivery
 * rewrites the same keys, or with `claimMinute` does not probe at all.
 *
 * With `scheduling.mode: 'invocation-per-round'` it runs only the first slot with time left and queues the others
 * (`planMinute`); what the queue refuses it runs itself, waiting in between, as above.
 */
export async function runInvocation(input: InvocationInput, deps: RoundDeps): Promise<InvocationSummary> {
  const logger = deps.logger ?? silentLogger;
  const interval = input.config.defaults.intervalSeconds;
  const scheduling = input.scheduling ?? { mode: 'wait-in-minute' };
  // Only the queue fans a round out (one message per shard); waiting in the minute (local mode, tests) runs it whole.
  // Planned before the clock is read: the plan is cached per config, but its first computation takes a moment.
  const shards = scheduling.mode === 'invocation-per-round' ? shardPlan(input.config).shards : 1;
  const startLocal = deps.now();
  const scheduledAt = input.scheduledAt ?? startLocal;
  // The 60 s from the event's time, not its calendar minute: a rule firing at :37 would otherwise find the rounds of
  // :00 to :30 already past, and the next event a minute later would start after :40 and :50 (slotsOfWindow).
  const minute = Math.floor(scheduledAt / 1000);
  const minuteStartMs = minute * 1000;
  const offsetMs = startLocal - scheduledAt;
  const clockOffsetMs = input.clockOffsetMs ?? offsetMs;
  const latenessMs = Math.max(0, offsetMs - clockOffsetMs);
  /** Now on the scheduler's clock. */
  const scheduleNow = () => deps.now() - clockOffsetMs;
  // A staggered probe region's minute runs its offset later: its rounds start then, and so does its budget.
  const staggerMs = staggerOffsetMs(input.config, input.probeRegion);
  const endMs = Math.min(minuteStartMs + staggerMs + DEFAULT_INVOCATION_BUDGET_MS, scheduleNow() + (input.budgetMs ?? DEFAULT_INVOCATION_BUDGET_MS));
  const summary: InvocationSummary = {
    outcome: 'ran',
    minute,
    offsetMs: Math.round(offsetMs),
    latenessMs: Math.round(latenessMs),
    written: [],
    failedWrites: [],
    skipped: [],
    queued: [],
    fallback: [],
    shards,
  };
  const log = { probeRegion: input.probeRegion, minute, offsetMs: summary.offsetMs, latenessMs: summary.latenessMs };

  if (Math.abs(clockOffsetMs) > SKEW_TOLERANCE_MS) logger.error('local clock is off by more than the tolerated skew', { event: 'clock-skew', ...log, clockOffsetMs });
  else if (Math.abs(clockOffsetMs) > 5_000) logger.warn('local clock and schedule disagree', { event: 'clock-skew', ...log, clockOffsetMs });
  if (scheduleNow() + MIN_ROUND_MS > endMs) {
    logger.warn('scheduled invocation started after its minute was over', { event: 'invocation-late', ...log });
    return { ...summary, outcome: 'late', skipped: slotsOfWindow(minute, interval, staggerMs) };
  }
  if (input.claimMinute && !(await input.claimMinute(input.probeRegion, minute))) {
    logger.warn('minute already served by another invocation', { event: 'invocation-duplicate', ...log });
    return { ...summary, outcome: 'duplicate' };
  }

  const plan = planMinute({ scheduling: scheduling.mode, probeRegion: input.probeRegion, minute, intervalSeconds: interval, offsetMs: staggerMs, shards, nowMs: scheduleNow(), endMs, clockOffsetMs });
  summary.skipped.push(...plan.skipped);
  /** Per slot, the shards the queue refused: run here instead. */
  const fallback = new Map<number, Set<number>>();
  if (scheduling.mode === 'invocation-per-round' && plan.enqueue.length > 0) {
    let failed: RoundMessage[];
    try {
      ({ failed } = await scheduling.enqueue(plan.enqueue));
    } catch (error: unknown) {
      failed = plan.enqueue.map((q) => q.message);
      logger.error('queueing rounds failed', { event: 'enqueue-failed', ...log, error: error instanceof Error ? error.name : String(error) });
    }
    for (const m of failed) fallback.set(m.slot, (fallback.get(m.slot) ?? new Set<number>()).add(m.shard ?? 0));
    summary.queued = [...new Set(plan.enqueue.map((q) => q.message.slot))].filter((slot) => !fallback.has(slot));
    if (fallback.size > 0) logger.warn('running rounds the queue refused in this invocation', { event: 'enqueue-fallback', ...log, slots: [...fallback.keys()], messages: failed.length });
  }

  const targets = resolveTargets(input.config);
  const targetsOf = (shard: number): readonly ResolvedTarget[] => (shards > 1 ? shardTargets(input.config, shard, targets) : targets);
  const claimSlot = scheduling.mode === 'invocation-per-round' ? scheduling.claimSlot : undefined;
  const toRun = [...new Set([...plan.run, ...fallback.keys()])].sort((a, b) => a - b);
  // Each slot comes up once in this loop, each shard of it at most once: one invocation never runs or writes one twice.
  for (const slot of toRun) {
    const slotStartMs = slot * 1000 + staggerMs;
    const roundEndMs = Math.min(slotStartMs + interval * 1000, endMs) - ROUND_WRITE_MARGIN_MS;
    const begin = Math.max(scheduleNow(), slotStartMs);
    // A slot whose time has passed (late start, overrunning write) is skipped, never run late under its label.
    if (roundEndMs - begin < MIN_ROUND_MS) {
      summary.skipped.push(slot);
      continue;
    }
    const wait = slotStartMs - scheduleNow();
    if (wait > 0) await deps.sleep(wait);
    const refused = fallback.get(slot) ?? new Set<number>();
    const planned = plan.run.includes(slot) ? [0, ...refused] : [...refused];
    const here: number[] = [];
    for (const shard of new Set(planned)) {
      // Every (slot, shard) this invocation probes is claimed first: the queue may have taken a refused message after
      // all (a timeout after it accepted), and an earlier event's window may have queued this slot (windows overlap
      // when an event comes early or twice); whoever claims first probes it.
      if (claimSlot && !(await claimSlot(input.probeRegion, slot, shards > 1 ? shard : undefined))) {
        logger.warn('slot already served by another invocation', { event: 'slot-duplicate', ...log, slot, ...(shards > 1 ? { shard } : {}) });
        continue;
      }
      here.push(shard);
    }
    if (here.length === 0) {
      summary.skipped.push(slot);
      continue;
    }
    if (here.some((shard) => refused.has(shard))) summary.fallback.push(slot);
    // A slot's shards run side by side, each with its own caps: hosts are never split across shards, so the per-host
    // caps hold for the whole round. Each is written as its own part of the round.
    const written = await Promise.all(here.map((shard) => runShard(input, deps, { slot, shard, shards, targets: targetsOf(shard), deadlineAt: roundEndMs + clockOffsetMs, clockOffsetMs, log })));
    if (written.every(Boolean)) summary.written.push(slot);
    else summary.failedWrites.push(slot);
  }
  summary.skipped.sort((a, b) => a - b);
  return summary;
}

/** Runs one shard of a slot's round (the whole round when `shards` is 1), writes it and calls the hooks; true when written. */
async function runShard(
  input: InvocationInput,
  deps: RoundDeps,
  shard: { slot: number; shard: number; shards: number; targets: readonly ResolvedTarget[]; deadlineAt: number; clockOffsetMs: number; log: Record<string, unknown> },
): Promise<boolean> {
  const logger = deps.logger ?? silentLogger;
  const { slot, log } = shard;
  const where = { ...log, slot, ...(shard.shards > 1 ? { shard: shard.shard } : {}) };
  const watcher = input.watchRound?.(slot);
  const data = await runRound(
    { config: input.config, probeRegion: input.probeRegion, slot, deadlineAt: shard.deadlineAt, targets: shard.targets, clockOffsetMs: shard.clockOffsetMs, ...(watcher ? { watch: watcher.watch } : {}) },
    deps,
  );
  const round: RoundData = shard.shards > 1 ? { ...data, shard: shard.shard, shards: shard.shards } : data;
  let written = false;
  try {
    await input.store.writeRound(round);
    written = true;
  } catch (error: unknown) {
    logger.error('writing a round failed', { event: 'round-write-failed', ...where, error: error instanceof Error ? error.message : String(error) });
  }
  try {
    await input.onRound?.(round, written);
  } catch (error: unknown) {
    logger.error('round hook failed', { ...where, error: error instanceof Error ? error.message : String(error) });
  }
  await watcher?.drain();
  return written;
}

/**
 * Estimates the local clock's offset from the scheduler's across invocations of a warm Lambda: deliveries are
 * never early, so the smallest recent offset is the clock skew and anything above it is lateness.
 */
export class ClockOffsetEstimator {
  private readonly recent: number[] = [];

  constructor(private readonly window = 10) {}

  /** Records this invocation's offset (local now minus scheduled time) and returns the estimate to use for it. */
  observe(offsetMs: number): number {
    this.recent.push(offsetMs);
    if (this.recent.length > this.window) this.recent.shift();
    return Math.min(...this.recent);
  }

  /** The estimate without a new observation (a confirmation has no scheduled time); 0 before the first. */
  current(): number {
    return this.recent.length === 0 ? 0 : Math.min(...this.recent);
  }
}
