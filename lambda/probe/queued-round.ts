// One queued round: a rounds-queue message becomes exactly one round (or one shard of a round) of its slot, or nothing if
// it is late or a duplicate.
import { shardPlan, shardTargets } from '../config/capacity';
import { resolveTargets } from '../config/resolve';
import { staggerOffsetMs } from '../core/stagger';
import type { RegionwatchConfig } from '../config/schema';
import { silentLogger } from './context';
import type { RoundWatchFactory, RoundWriter, SlotClaim } from './invocation';
import { ROUND_WRITE_MARGIN_MS, isDue, runRound, type RoundData, type RoundDeps } from './round';
import type { RoundMessage } from './scheduling';

/**
 * `late`: too late to finish inside its slot; `early`: more than an interval early (a clock problem); `stale`: not a
 * slot of the current interval, or a shard the current plan does not have (the config changed under it).
 */
export type QueuedRoundOutcome = 'ran' | 'late' | 'early' | 'stale' | 'duplicate';

export interface QueuedRoundInput {
  config: RegionwatchConfig;
  probeRegion: string;
  message: RoundMessage;
  store: RoundWriter;
  /** Guards against a duplicated delivery (or the planning invocation's fallback) probing the slot twice. */
  claimSlot?: SlotClaim;
  /** Called after the round is written, or its write failed (metrics, logs). Its errors are logged, not thrown. */
  onRound?: (round: RoundData, written: boolean) => void | Promise<void>;
  /** Confirm on failure: the watch of the round's checks (lambda/probe/confirmations.ts). */
  watchRound?: RoundWatchFactory;
}

export interface QueuedRoundSummary {
  outcome: QueuedRoundOutcome;
  slot: number;
  /** The shard of the slot's round served; absent on an unsharded round. */
  shard?: number;
  minute: number;
  /** How far past its slot's start the message was served, on the scheduler's clock, ms (negative: early). */
  latenessMs: number;
}

/** The round's write failed: the message must be retried or parked, not deleted. */
export class RoundWriteError extends Error {
  override readonly name = 'RoundWriteError';
}

/**
 * Serves one queued slot. Time is the planning invocation's scheduler clock (local clock minus the message's
 * `clockOffsetMs`). A message that arrives after the slot's end minus the write margin minus the round's
 * timeout cannot finish inside its slot: it is dropped (`late`), never probed late into the wrong slot. An early
 * arrival (SQS rounds DelaySeconds to whole seconds) waits for the slot's start. The slot is claimed before
 * probing, so a duplicated delivery probes nothing. Throws RoundWriteError when the round cannot be written.
 */
export async function runQueuedRound(input: QueuedRoundInput, deps: RoundDeps): Promise<QueuedRoundSummary> {
  const logger = deps.logger ?? silentLogger;
  const { message, config } = input;
  // A message with a shard runs that shard of the plan (lambda/config/capacity.ts); one without, or a plan of one shard,
  // the whole round (a message queued before a deploy that changed the plan covers what its planner meant). Planned
  // before the clock is read: the plan is cached per config, but its first computation takes a moment.
  const { shards } = shardPlan(config);
  const interval = config.defaults.intervalSeconds;
  const scheduleNow = () => deps.now() - message.clockOffsetMs;
  // A staggered probe region's round of the slot starts its offset into it (lambda/core/stagger.ts).
  const slotStartMs = message.slot * 1000 + staggerOffsetMs(config, input.probeRegion);
  const shard = message.shard !== undefined && shards > 1 ? message.shard : undefined;
  const summary: QueuedRoundSummary = { outcome: 'ran', slot: message.slot, ...(shard === undefined ? {} : { shard }), minute: message.minute, latenessMs: Math.round(scheduleNow() - slotStartMs) };
  const log = { probeRegion: input.probeRegion, slot: message.slot, ...(message.shard === undefined ? {} : { shard: message.shard }), minute: message.minute, latenessMs: summary.latenessMs };

  if (message.slot % interval !== 0) {
    logger.warn('queued round is not a slot of the current interval; dropped', { event: 'round-stale', ...log, intervalSeconds: interval });
    return { ...summary, outcome: 'stale' };
  }
  if ((message.shard ?? 0) >= shards) {
    // Its targets are in the new plan's shards, which their own messages run.
    logger.warn('queued round names a shard the current plan does not have; dropped', { event: 'round-stale', ...log, shards });
    return { ...summary, outcome: 'stale' };
  }
  const targets = (shard === undefined ? resolveTargets(config) : shardTargets(config, shard)).filter((t) => isDue(t, message.slot));
  const roundTimeoutMs = Math.max(config.defaults.timeoutMs, ...targets.map((t) => t.timeoutMs));
  const deadlineMs = slotStartMs + interval * 1000 - ROUND_WRITE_MARGIN_MS;
  if (scheduleNow() > deadlineMs - roundTimeoutMs) {
    logger.warn('queued round arrived too late to finish inside its slot; dropped', { event: 'round-late', ...log });
    return { ...summary, outcome: 'late' };
  }
  if (slotStartMs - scheduleNow() > interval * 1000) {
    logger.error('queued round arrived more than an interval early; dropped', { event: 'round-early', ...log });
    return { ...summary, outcome: 'early' };
  }
  if (input.claimSlot && !(await input.claimSlot(input.probeRegion, message.slot, shard))) {
    logger.warn('slot already served; duplicate delivery dropped', { event: 'round-duplicate', ...log });
    return { ...summary, outcome: 'duplicate' };
  }
  // Timers may fire a hair early; a few more short waits make "never before the slot's start" exact.
  for (let tries = 0; tries < 3 && scheduleNow() < slotStartMs; tries++) await deps.sleep(slotStartMs - scheduleNow());

  const watcher = input.watchRound?.(message.slot);
  const data = await runRound(
    { config, probeRegion: input.probeRegion, slot: message.slot, deadlineAt: deadlineMs + message.clockOffsetMs, targets, clockOffsetMs: message.clockOffsetMs, ...(watcher ? { watch: watcher.watch } : {}) },
    deps,
  );
  // Each shard is written as its own part of the round: a retried shard replaces only itself.
  const round: RoundData = shard === undefined ? data : { ...data, shard, shards };
  let writeError: unknown;
  try {
    await input.store.writeRound(round);
  } catch (error: unknown) {
    writeError = error;
    logger.error('writing a round failed', { event: 'round-write-failed', ...log, error: error instanceof Error ? error.message : String(error) });
  }
  try {
    await input.onRound?.(round, writeError === undefined);
  } catch (error: unknown) {
    logger.error('round hook failed', { ...log, error: error instanceof Error ? error.message : String(error) });
  }
  await watcher?.drain();
  if (writeError !== undefined) throw new RoundWriteError(`round of slot ${message.slot}${shard === undefined ? '' : ` (shard ${shard} of ${shards})`} could not be written`);
  return summary;
}
