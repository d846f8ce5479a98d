// How a minute's sub-minute rounds are paid for (pure): which slots the scheduled invocation runs itself, which go on the rounds queue.
import { ROUND_WRITE_MARGIN_MS } from './round';

/**
 * `wait-in-minute`: the scheduled invocation runs every slot of its minute, waiting in between (billed while it waits).
 * `invocation-per-round`: it runs the first slot with time left and queues the others, each delivered at its slot's
 * start as its own short invocation; only the rounds are billed.
 */
export type ProberScheduling = 'wait-in-minute' | 'invocation-per-round';

/** A slot with less time than this left is skipped rather than run half-blind. */
export const MIN_ROUND_MS = 500;
/** SQS's cap on DelaySeconds. A minute's slots are never more than 55 s away. */
export const MAX_DELAY_SECONDS = 900;

/** What the rounds queue carries: one slot (one shard of it, when rounds fan out) of one probe region, on the clock of the invocation that planned it. */
export interface RoundMessage {
  /** Slot start, epoch seconds. */
  slot: number;
  probeRegion: string;
  /**
   * Which shard of the slot's round to run (lambda/config/capacity.ts shardPlan), when the round fans out over more
   * than one invocation. Absent on an unsharded round: the whole round, as before shards.
   */
  shard?: number;
  /**
   * The start of the 60 s the planning invocation served, epoch seconds: its scheduled event's time (a rate rule
   * fires at some second of each minute, not on the minute). Messages queued before that change carry the minute.
   */
  minute: number;
  /**
   * The planning invocation's estimate of its local clock minus the scheduler's, in ms. The round invocation keeps
   * time on the same scheduler clock, so a skewed clock labels and times the slot as the minute's invocation would.
   */
  clockOffsetMs: number;
}

/** A round handed to the queue: the message and the delay that makes it arrive at its slot's start. */
export interface QueuedRound {
  message: RoundMessage;
  delaySeconds: number;
}

export interface MinutePlan {
  /** Slots this invocation runs itself (shard 0 of each, when the round fans out), in order. */
  run: number[];
  /** Slots handed to the rounds queue (invocation-per-round only), in order. */
  enqueue: QueuedRound[];
  /** Slots whose time has passed when the invocation starts. */
  skipped: number[];
}

export interface MinutePlanInput {
  scheduling: ProberScheduling;
  probeRegion: string;
  /** The start of the 60 s this invocation serves (its scheduled event's time), epoch seconds. */
  minute: number;
  intervalSeconds: number;
  /**
   * Invocations each round fans out over (invocation-per-round only; default 1). This invocation runs shard 0 of the
   * slot it runs and queues that slot's other shards, delayed to the same start; every later slot is queued shard by shard.
   */
  shards?: number;
  /** Where this probe region's rounds start inside their slots, ms (lambda/core/stagger.ts; 0 without staggering). */
  offsetMs?: number;
  /** Now on the scheduler's clock, epoch ms. */
  nowMs: number;
  /** When this invocation must be done with its own rounds, epoch ms on the scheduler's clock. */
  endMs: number;
  clockOffsetMs: number;
}

/** The slots of the minute starting at `minute` (epoch seconds). */
export function slotsOfMinute(minute: number, intervalSeconds: number): number[] {
  return Array.from({ length: Math.floor(60 / intervalSeconds) }, (_, k) => minute + k * intervalSeconds);
}

/**
 * The slots whose rounds start (slot start plus this probe region's stagger offset) in the 60 s from `startSeconds`:
 * what one scheduled invocation serves. EventBridge fires a rate rule at some second of each minute and sends that
 * second as the event's time, so consecutive events' windows tile time whatever the second: an event at :37 serves the
 * rounds of :40 and :50 and of the next minute's :00 to :30 (planning the calendar minute would drop :00 to :30).
 */
export function slotsOfWindow(startSeconds: number, intervalSeconds: number, offsetMs = 0): number[] {
  const firstStartMs = Math.ceil((startSeconds * 1000 - offsetMs) / (intervalSeconds * 1000)) * intervalSeconds * 1000 + offsetMs;
  const slots: number[] = [];
  for (let startMs = firstStartMs; startMs < (startSeconds + 60) * 1000; startMs += intervalSeconds * 1000) slots.push(Math.round((startMs - offsetMs) / 1000));
  return slots;
}

/**
 * A round starting at most this far ahead is run by the invocation that plans it, after a short (billed) wait; a later
 * one, such as a staggered probe region's first round of the minute, is queued like the others.
 */
export const RUN_AHEAD_MS = 2000;

/**
 * Whether a round of `slot` can still start now and get MIN_ROUND_MS of probing before its deadline: its staggered
 * window, [slot start + offset, + interval), less the write margin, cut at `endMs`.
 */
export function slotHasTime(slot: number, intervalSeconds: number, nowMs: number, endMs: number, offsetMs = 0): boolean {
  const startMs = slot * 1000 + offsetMs;
  const roundEndMs = Math.min(startMs + intervalSeconds * 1000, endMs) - ROUND_WRITE_MARGIN_MS;
  return roundEndMs - Math.max(nowMs, startMs) >= MIN_ROUND_MS;
}

/**
 * Splits a scheduled minute. Slots whose time has passed are skipped, never run late under their label. With
 * `wait-in-minute` every other slot is this invocation's (its loop still skips a slot it reaches too late). With
 * `invocation-per-round` this invocation runs the first slot with time left and queues every later one with
 * DelaySeconds = its start minus now, rounded to the nearest second, so it arrives within half a second of its
 * start (the round invocation waits out an early arrival). Queued slots are not bound by this invocation's budget.
 */
export function planMinute(input: MinutePlanInput): MinutePlan {
  const { minute, intervalSeconds, nowMs, endMs } = input;
  const offsetMs = input.offsetMs ?? 0;
  const plan: MinutePlan = { run: [], enqueue: [], skipped: [] };
  for (const slot of slotsOfWindow(minute, intervalSeconds, offsetMs)) {
    const startMs = slot * 1000 + offsetMs;
    if (plan.run.length === 0 && plan.enqueue.length === 0) {
      // A staggered probe region's first round may start seconds after the schedule: queued like the others rather
      // than waited for in a billed invocation.
      const soon = input.scheduling === 'wait-in-minute' || startMs - nowMs <= RUN_AHEAD_MS;
      if (soon && slotHasTime(slot, intervalSeconds, nowMs, endMs, offsetMs)) {
        plan.run.push(slot);
        // Shard 0 is this invocation's; the slot's other shards go to the queue for the same start.
        if (input.scheduling === 'invocation-per-round') plan.enqueue.push(...queued(input, slot, 1));
      } else if (input.scheduling === 'invocation-per-round' && startMs > nowMs) {
        // Past this invocation's budget but not yet begun: the queue can still serve it.
        plan.enqueue.push(...queued(input, slot));
      } else plan.skipped.push(slot);
    } else if (input.scheduling === 'wait-in-minute') plan.run.push(slot);
    else plan.enqueue.push(...queued(input, slot));
  }
  return plan;
}

/** The messages of `slot`'s shards from `fromShard` on; an unsharded round's one message has no shard field, as before shards. */
function queued(input: MinutePlanInput, slot: number, fromShard = 0): QueuedRound[] {
  const shards = Math.max(1, input.shards ?? 1);
  const delaySeconds = Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.round((slot * 1000 + (input.offsetMs ?? 0) - input.nowMs) / 1000)));
  const out: QueuedRound[] = [];
  for (let shard = fromShard; shard < shards; shard++) {
    const message: RoundMessage = { slot, probeRegion: input.probeRegion, minute: input.minute, clockOffsetMs: Math.round(input.clockOffsetMs) };
    if (shards > 1) message.shard = shard;
    out.push({ message, delaySeconds });
  }
  return out;
}

/** A message the prober cannot act on (not JSON, missing fields, another probe region): it belongs in the dead-letter queue. */
export class RoundMessageError extends Error {
  override readonly name = 'RoundMessageError';
}

/** Parses a rounds-queue body; throws RoundMessageError naming what is wrong. */
export function parseRoundMessage(body: string, expectedProbeRegion: string): RoundMessage {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new RoundMessageError('round message is not JSON');
  }
  if (value === null || typeof value !== 'object') throw new RoundMessageError('round message is not an object');
  const { slot, probeRegion, minute, clockOffsetMs, shard } = value as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof slot !== 'number' || !Number.isSafeInteger(slot)) problems.push('slot must be an integer (epoch seconds)');
  if (typeof minute !== 'number' || !Number.isSafeInteger(minute)) problems.push('minute must be an integer (epoch seconds)');
  if (typeof probeRegion !== 'string') problems.push('probeRegion must be a string');
  else if (probeRegion !== expectedProbeRegion) problems.push(`probeRegion ${probeRegion} is not this prober's (${expectedProbeRegion})`);
  if (clockOffsetMs !== undefined && (typeof clockOffsetMs !== 'number' || !Number.isFinite(clockOffsetMs))) problems.push('clockOffsetMs must be a number');
  if (shard !== undefined && (typeof shard !== 'number' || !Number.isSafeInteger(shard) || shard < 0)) problems.push('shard must be a whole number from 0');
  // A staggered round starts up to an interval (at most 60 s) into its slot, so its slot may begin before the window.
  if (problems.length === 0 && typeof slot === 'number' && typeof minute === 'number' && (slot <= minute - 60 || slot >= minute + 60)) problems.push(`slot ${slot} is not in the minute from ${minute}`);
  if (problems.length > 0) throw new RoundMessageError(`bad round message: ${problems.join('; ')}`);
  const message: RoundMessage = { slot: slot as number, probeRegion: probeRegion as string, minute: minute as number, clockOffsetMs: typeof clockOffsetMs === 'number' ? clockOffsetMs : 0 };
  if (typeof shard === 'number') message.shard = shard;
  return message;
}
