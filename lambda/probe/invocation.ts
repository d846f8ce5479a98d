// The prober's invocation loop: once a minute, run the minute's slots back to back and write each round once.
import type { RegionwatchConfig } from '../config/schema';
import { resolveTargets } from '../config/resolve';
import { staggerOffsetMs } from '../core/stagger';
import { silentLogger } from './context';
import { ROUND_WRITE_MARGIN_MS, runRound, type CheckWatch, type RoundData, type RoundDeps } from './round';
import { MIN_ROUND_MS, planMinute, slotsOfMinute, type QueuedRound } from './scheduling';

export { slotsOfMinute } from './scheduling';

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

/** Claims (probe region, slot) once across invocations and queue deliveries; false when another one already has it. */
export type SlotClaim = (probeRegion: string, slot: number) => Promise<boolean>;

/**
 * Hands rounds to the rounds queue. Resolves with the slots that could not be queued (they are run in this
 * invocation instead); a rejection means none was queued.
 */
export type RoundEnqueuer = (rounds: readonly QueuedRound[]) => Promise<{ failed: number[] }>;

/**
 * How the minute's later rounds are paid for (see `ProberScheduling`). With `invocation-per-round`, slots the
 * queue refused are run here as `wait-in-minute` would, each behind a slot claim (`claimSlot`) in case the queue
 * took the message after all: a broken queue costs money, not coverage.
 */
export type InvocationScheduling = { mode: 'wait-in-minute' } | { mode: 'invocation-per-round'; enqueue: RoundEnqueuer; claimSlot?: SlotClaim };

export interface InvocationInput {
  config: RegionwatchConfig;
  probeRegion: string;
  /** Epoch ms of the scheduled event (EventBridge `time`); it picks the minute. Default: `now()` at start. */
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
  /** Epoch seconds of the minute served. */
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
  /** Slots run here because the queue refused them (invocation-per-round fallback). */
  fallback: number[];
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
  const startLocal = deps.now();
  const scheduledAt = input.scheduledAt ?? startLocal;
  const minute = Math.floor(scheduledAt / 60_000) * 60;
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
  };
  const log = { probeRegion: input.probeRegion, minute, offsetMs: summary.offsetMs, latenessMs: summary.latenessMs };

  if (Math.abs(clockOffsetMs) > SKEW_TOLERANCE_MS) logger.error('local clock is off by more than the tolerated skew', { event: 'clock-skew', ...log, clockOffsetMs });
  else if (Math.abs(clockOffsetMs) > 5_000) logger.warn('local clock and schedule disagree', { event: 'clock-skew', ...log, clockOffsetMs });
  if (scheduleNow() + MIN_ROUND_MS > endMs) {
    logger.warn('scheduled invocation started after its minute was over', { event: 'invocation-late', ...log });
    return { ...summary, outcome: 'late', skipped: slotsOfMinute(minute, interval) };
  }
  if (input.claimMinute && !(await input.claimMinute(input.probeRegion, minute))) {
    logger.warn('minute already served by another invocation', { event: 'invocation-duplicate', ...log });
    return { ...summary, outcome: 'duplicate' };
  }

  const scheduling = input.scheduling ?? { mode: 'wait-in-minute' };
  const plan = planMinute({ scheduling: scheduling.mode, probeRegion: input.probeRegion, minute, intervalSeconds: interval, offsetMs: staggerMs, nowMs: scheduleNow(), endMs, clockOffsetMs });
  summary.skipped.push(...plan.skipped);
  const fallback = new Set<number>();
  if (scheduling.mode === 'invocation-per-round' && plan.enqueue.length > 0) {
    let failed: number[];
    try {
      ({ failed } = await scheduling.enqueue(plan.enqueue));
    } catch (error: unknown) {
      failed = plan.enqueue.map((q) => q.message.slot);
      logger.error('queueing rounds failed', { event: 'enqueue-failed', ...log, error: error instanceof Error ? error.name : String(error) });
    }
    for (const slot of failed) fallback.add(slot);
    summary.queued = plan.enqueue.map((q) => q.message.slot).filter((slot) => !fallback.has(slot));
    if (fallback.size > 0) logger.warn('running rounds the queue refused in this invocation', { event: 'enqueue-fallback', ...log, slots: [...fallback] });
  }

  const targets = resolveTargets(input.config);
  const toRun = [...plan.run, ...fallback].sort((a, b) => a - b);
  // Each slot comes up once in this loop: one invocation never runs or writes a slot twice.
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
    if (fallback.has(slot)) {
      // The queue may have taken the message after all (a timeout after it accepted): its round invocation and this one race for the slot.
      if (scheduling.mode === 'invocation-per-round' && scheduling.claimSlot && !(await scheduling.claimSlot(input.probeRegion, slot))) {
        logger.warn('slot already served by a queued round', { event: 'slot-duplicate', ...log, slot });
        summary.skipped.push(slot);
        continue;
      }
      summary.fallback.push(slot);
    }
    const watcher = input.watchRound?.(slot);
    const round = await runRound(
      { config: input.config, probeRegion: input.probeRegion, slot, deadlineAt: roundEndMs + clockOffsetMs, targets, clockOffsetMs, ...(watcher ? { watch: watcher.watch } : {}) },
      deps,
    );
    let written = false;
    try {
      await input.store.writeRound(round);
      written = true;
      summary.written.push(slot);
    } catch (error: unknown) {
      summary.failedWrites.push(slot);
      logger.error('writing a round failed', { event: 'round-write-failed', ...log, slot, error: error instanceof Error ? error.message : String(error) });
    }
    try {
      await input.onRound?.(round, written);
    } catch (error: unknown) {
      logger.error('round hook failed', { ...log, slot, error: error instanceof Error ? error.message : String(error) });
    }
    await watcher?.drain();
  }
  summary.skipped.sort((a, b) => a - b);
  return summary;
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
