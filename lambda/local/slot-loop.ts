// Local mode's scheduler: each probe region's round of each slot at its stagger offset, the rounds written, and the
// aggregator run once they are (the local stand-in for the prober's schedule and the results table's stream);
// confirmation requests run as tasks of their own when they arrive, each followed by an aggregator run.
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

export type HoldableClock = Clock & { holdAt?(epochMs: number): void };

/**
 * The demo's clock runs many times faster than real time and can be held: it never passes the smallest limit of the
 * work in progress, so on a busy machine the demo takes longer instead of rounds missing their time or probers seeing
 * the wrong minute of the script. Each piece of work (a round, a confirmation, a run of the aggregator) holds the clock
 * at the latest time it may take; a clock without holdAt (the wall clock) ignores them.
 */
export class ClockHolds {
  private readonly holds = new Map<symbol, number>();

  constructor(private readonly clock: HoldableClock) {}

  set(key: symbol, epochMs: number): void {
    this.holds.set(key, epochMs);
    this.apply();
  }

  release(key: symbol): void {
    this.holds.delete(key);
    this.apply();
  }

  private apply(): void {
    if (!this.clock.holdAt || this.holds.size === 0) return;
    this.clock.holdAt(Math.min(...this.holds.values()));
  }
}

/**
 * Runs `work` one at a time however often it is asked for: a request during a run makes one more run after it (the
 * stream's batches of one shard never overlap, and several arrivals during a run are one batch).
 */
export class CoalescingRunner {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(private readonly work: () => Promise<void>) {}

  /** Resolves once a run that started after this request has finished. */
  request(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.work();
        } while (this.again);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }
}

export interface SlotLoopOptions {
  clock: HoldableClock;
  intervalSeconds: number;
  probeRegions: readonly string[];
  /** Where each probe region's round starts inside its slot, ms (lambda/core/stagger.ts). */
  offsetMs(probeRegion: string): number;
  /** Runs one probe region's round for a slot (epoch seconds) with its deadline (epoch ms). */
  probe(probeRegion: string, slot: number, deadlineAt: number): Promise<Round>;
  /** Writes a round to the results table. */
  write(round: Round): Promise<void>;
  /** The stream stand-in: runs the aggregator; called after the slot's rounds are written, runs coalesced. */
  aggregate(now: number): Promise<void>;
  /** Shared with the confirmation tasks (local-mode.ts): the clock's holds. */
  holds?: ClockHolds;
  /** Clock time a round may take before the clock waits for it: its spread of request starts and a little more. */
  roundHoldMs?: number;
  /** Shared with the confirmation tasks: the coalesced aggregator. */
  aggregator?: CoalescingRunner;
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

/** Clock time a piece of work may take before the clock waits for it (a tenth of the interval, at most a second). */
export function workAllowanceMs(intervalSeconds: number): number {
  return Math.min(1000, (intervalSeconds * 1000) / 10);
}

/** Runs slots until the signal aborts or `untilMs` is reached; returns the number of slots run. */
export async function runSlots(options: SlotLoopOptions): Promise<number> {
  const intervalMs = options.intervalSeconds * 1000;
  const { clock, signal } = options;
  const holds = options.holds ?? new ClockHolds(clock);
  const aggregator = options.aggregator ?? new CoalescingRunner(() => options.aggregate(clock.now()));
  const allowance = workAllowanceMs(options.intervalSeconds);
  const loop = Symbol('slot loop');
  let slotMs = options.fromMs ?? slotOf(clock.now(), options.intervalSeconds) * 1000;
  let count = 0;
  try {
    for (;;) {
      if (signal?.aborted) break;
      if (options.untilMs !== undefined && slotMs >= options.untilMs) {
        // The run is bounded by time, not by slots: stay until the end (the status page keeps serving).
        holds.set(loop, options.untilMs);
        await clock.sleepUntil(options.untilMs, signal);
        break;
      }
      holds.set(loop, slotMs + allowance);
      await clock.sleepUntil(slotMs, signal);
      if (signal?.aborted) break;
      // Inside the slot the rounds hold the clock themselves; the loop only keeps it from passing the next slot.
      holds.set(loop, slotMs + intervalMs + allowance);
      const slot = Math.floor(slotMs / 1000);
      const failures: string[] = [];
      // Each probe region at its offset; each holds the clock until its round is written.
      const rounds = await Promise.all(
        options.probeRegions.map(async (probeRegion) => {
          const key = Symbol(probeRegion);
          const startMs = slotMs + options.offsetMs(probeRegion);
          holds.set(key, startMs + (options.roundHoldMs ?? allowance));
          try {
            await clock.sleepUntil(startMs, signal);
            if (signal?.aborted) return undefined;
            const round = await options.probe(probeRegion, slot, startMs + intervalMs - 1000);
            await options.write(round);
            return round;
          } catch (error: unknown) {
            failures.push(`prober ${probeRegion}: ${describe(error)}`);
            return undefined;
          } finally {
            holds.release(key);
          }
        }),
      );
      const written = rounds.filter((r): r is Round => r !== undefined);
      // One aggregator run for the slot's rounds, once the last of them is in (a confirmation runs it at once, see
      // local-mode.ts): on AWS each round is its own stream batch, but locally that would triple the work of every
      // slot for no earlier verdict, since confirmations carry the fast path.
      if (written.length > 0) {
        const key = Symbol('aggregator');
        holds.set(key, clock.now() + allowance);
        await aggregator.request().catch((error: unknown) => void failures.push(`aggregator: ${describe(error)}`));
        holds.release(key);
      }
      count++;
      await options.onSlot?.({ slotMs, written: written.map((r) => r.probeRegion), failures });
      slotMs += intervalMs;
      if (options.catchUp === 'skip') {
        const current = slotOf(clock.now(), options.intervalSeconds) * 1000;
        if (current > slotMs) slotMs = current;
      }
    }
  } finally {
    holds.release(loop);
  }
  return count;
}
