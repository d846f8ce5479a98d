// Local mode's scheduler: one round per probe region per slot, the rounds written, then the aggregator run
// on them: the local stand-in for the prober's schedule and the results table's stream.
import { slotOf, type RoundRecord } from '../core/results';
import type { Clock } from './clock';

/** A round as the probe engine returns it, before the store splits it into parts. */
export type Round = Omit<RoundRecord, 'part' | 'parts'>;

export interface SlotReport {
  /** Slot start, epoch ms. */
  slotMs: number;
  /** Probe regions whose round was written this slot. */
  written: string[];
  /** One line per step that failed this slot (the loop goes on; the next slot re-derives everything). */
  failures: string[];
}

export interface SlotLoopOptions {
  clock: Clock & { holdAt?(epochMs: number): void };
  intervalSeconds: number;
  probeRegions: readonly string[];
  /** Runs one probe region's round for a slot (epoch seconds). */
  probe(probeRegion: string, slot: number): Promise<Round>;
  /** Writes a round to the results table. */
  write(round: Round): Promise<void>;
  /** The stream stand-in: runs the aggregator once the slot's rounds are written. */
  aggregate(written: Round[], now: number): Promise<void>;
  /** First slot to run, epoch ms; the current slot when omitted. */
  fromMs?: number;
  /** Stops before the first slot at or after this time, epoch ms. */
  untilMs?: number;
  signal?: AbortSignal;
  /**
   * What to do after falling behind by more than a slot: `skip` to the current slot (the wall clock
   * jumped, say after a laptop slept), or `replay` every slot (the demo, whose clock waits for it).
   */
  catchUp: 'skip' | 'replay';
  /** Called after each slot; the next slot waits for a returned promise. */
  onSlot?(report: SlotReport): void | Promise<void>;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Runs slots until the signal aborts or `untilMs` is reached; returns the number of slots run. */
export async function runSlots(options: SlotLoopOptions): Promise<number> {
  const intervalMs = options.intervalSeconds * 1000;
  const { clock, signal } = options;
  let slotMs = options.fromMs ?? slotOf(clock.now(), options.intervalSeconds) * 1000;
  let count = 0;
  for (;;) {
    if (signal?.aborted) break;
    if (options.untilMs !== undefined && slotMs >= options.untilMs) {
      // The run is bounded by time, not by slots: stay until the end (the status page keeps serving).
      clock.holdAt?.(options.untilMs);
      await clock.sleepUntil(options.untilMs, signal);
      break;
    }
    // A held clock (the demo's) stays near the slot's start until the slot's work is done: on a busy
    // machine the demo takes longer instead of rounds missing their deadline or probers seeing the wrong minute.
    clock.holdAt?.(slotMs + Math.min(1000, intervalMs / 10));
    await clock.sleepUntil(slotMs, signal);
    if (signal?.aborted) break;
    const slot = Math.floor(slotMs / 1000);
    const failures: string[] = [];
    const rounds = await Promise.all(
      options.probeRegions.map(async (probeRegion) => {
        try {
          const round = await options.probe(probeRegion, slot);
          await options.write(round);
          return round;
        } catch (error: unknown) {
          failures.push(`prober ${probeRegion}: ${describe(error)}`);
          return undefined;
        }
      }),
    );
    const written = rounds.filter((r): r is Round => r !== undefined);
    // The rounds are in: the clock may run on towards the next slot while the aggregator works.
    clock.holdAt?.(slotMs + intervalMs - 1);
    if (written.length > 0) {
      try {
        await options.aggregate(written, clock.now());
      } catch (error: unknown) {
        failures.push(`aggregator: ${describe(error)}`);
      }
    }
    count++;
    await options.onSlot?.({ slotMs, written: written.map((r) => r.probeRegion), failures });
    slotMs += intervalMs;
    if (options.catchUp === 'skip') {
      const current = slotOf(clock.now(), options.intervalSeconds) * 1000;
      if (current > slotMs) slotMs = current;
    }
  }
  return count;
}
