// The prober's invocation loop: once a minute, run the minute's slots back to back and write each round once.
import type { RegionwatchConfig } from '../config/schema';
import { resolveTargets } from '../config/resolve';
import { silentLogger } from './context';
import { ROUND_WRITE_MARGIN_MS, runRound, type RoundData, type RoundDeps } from './round';

/** Offsets between the local clock and the schedule up to this are clock skew (or a late start) and are still served. */
export const SKEW_TOLERANCE_MS = 120_000;
/** An invocation ends this long before the next minute's one starts, so two never overlap on time. */
export const DEFAULT_INVOCATION_BUDGET_MS = 58_000;
/** A slot with less time than this left is skipped rather than run half-blind. */
const MIN_ROUND_MS = 500;

/** Where rounds go: `ResultsStore` fits. */
export interface RoundWriter {
  writeRound(round: RoundData): Promise<unknown>;
}

/** Claims (probe region, minute) once across invocations; false when another invocation already has it. */
export type MinuteClaim = (probeRegion: string, minute: number) => Promise<boolean>;

export interface InvocationInput {
  config: RegionwatchConfig;
  probeRegion: string;
  /** Epoch ms of the scheduled event (EventBridge `time`); it picks the minute. Default: `now()` at start. */
  scheduledAt?: number;
  /** How long this invocation may run, in ms on `now`'s clock. Default DEFAULT_INVOCATION_BUDGET_MS. */
  budgetMs?: number;
  store: RoundWriter;
  /** Guards against a doubled scheduled delivery probing the same minute twice. Optional. */
  claimMinute?: MinuteClaim;
  /** Called after each round is written (metrics, logs). Its errors are logged, not thrown. */
  onRound?: (round: RoundData, written: boolean) => void | Promise<void>;
}

export type InvocationOutcome = 'ran' | 'late' | 'duplicate';

export interface InvocationSummary {
  outcome: InvocationOutcome;
  /** Epoch seconds of the minute served. */
  minute: number;
  /** Local clock minus scheduled time at start, in ms. */
  offsetMs: number;
  /** Slots whose round was written. */
  written: number[];
  /** Slots run but whose write failed (logged). */
  failedWrites: number[];
  /** Slots of the minute not run because the budget was used up. */
  skipped: number[];
}

/** The slots of the minute starting at `minute` (epoch seconds). */
export function slotsOfMinute(minute: number, intervalSeconds: number): number[] {
  return Array.from({ length: Math.floor(60 / intervalSeconds) }, (_, k) => minute + k * intervalSeconds);
}

/**
 * Serves one scheduled minute for one probe region.
 *
 * The scheduled event's time, not the local clock, picks the minute and labels its slots, so a prober whose
 * clock is off by up to ±2 minutes still writes the right slots. Slot k of the minute starts k × interval after
 * the invocation starts (an invocation that starts a little late shifts its rounds, never relabels them).
 * Each slot is run and written at most once per invocation; a doubled delivery rewrites the same keys (or, with
 * `claimMinute`, does not probe at all); an invocation more than SKEW_TOLERANCE_MS late is dropped, because the
 * next minute's invocation is already serving the present.
 */
export async function runInvocation(input: InvocationInput, deps: RoundDeps): Promise<InvocationSummary> {
  const logger = deps.logger ?? silentLogger;
  const interval = input.config.defaults.intervalSeconds;
  const startLocal = deps.now();
  const scheduledAt = input.scheduledAt ?? startLocal;
  const minute = Math.floor(scheduledAt / 60_000) * 60;
  const offsetMs = startLocal - scheduledAt;
  const budgetMs = Math.min(input.budgetMs ?? DEFAULT_INVOCATION_BUDGET_MS, DEFAULT_INVOCATION_BUDGET_MS);
  const summary: InvocationSummary = { outcome: 'ran', minute, offsetMs, written: [], failedWrites: [], skipped: [] };
  const log = { probeRegion: input.probeRegion, minute, offsetMs };

  if (offsetMs > SKEW_TOLERANCE_MS) {
    logger.warn('scheduled invocation arrived too late; its minute is over', { event: 'invocation-late', ...log });
    return { ...summary, outcome: 'late', skipped: slotsOfMinute(minute, interval) };
  }
  if (Math.abs(offsetMs) > 5_000) logger.warn('local clock and schedule disagree', { event: 'clock-offset', ...log });
  if (input.claimMinute && !(await input.claimMinute(input.probeRegion, minute))) {
    logger.warn('minute already served by another invocation', { event: 'invocation-duplicate', ...log });
    return { ...summary, outcome: 'duplicate' };
  }

  const targets = resolveTargets(input.config);
  // Each slot of the minute appears once in this loop: one invocation never runs or writes a slot twice.
  for (const [k, slot] of slotsOfMinute(minute, interval).entries()) {
    const startOffset = k * interval * 1000;
    const elapsed = deps.now() - startLocal;
    const begin = Math.max(elapsed, startOffset);
    const end = Math.min(startOffset + interval * 1000, budgetMs) - ROUND_WRITE_MARGIN_MS;
    // A round needs a useful stretch of time; once the budget is gone (or a write overran), the rest are skipped.
    if (end - begin < MIN_ROUND_MS) {
      summary.skipped.push(slot);
      continue;
    }
    if (startOffset > elapsed) await deps.sleep(startOffset - elapsed);
    const round = await runRound({ config: input.config, probeRegion: input.probeRegion, slot, deadlineAt: startLocal + end, targets }, deps);
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
  }
  return summary;
}
