// The clock local mode runs on: the wall clock for `regionwatch local`, a faster one for the demo.
// Probers, the aggregator, the demo platform and the status page all read the same clock, so
// thresholds, freshness and reports stay consistent in the scenario's minutes whatever the speed.

export interface Clock {
  /** Epoch milliseconds on this clock. */
  now(): number;
  /** Waits `ms` of this clock's time; resolves early (without throwing) when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Waits until this clock reads `epochMs` (at once if it already does); resolves early when the signal aborts. */
  sleepUntil(epochMs: number, signal?: AbortSignal): Promise<void>;
}

/** Waits real milliseconds; an abort ends the wait at once. */
export function realSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: realSleep,
  sleepUntil: (epochMs, signal) => realSleep(epochMs - Date.now(), signal),
};

/**
 * A clock that runs `speed` times faster than real time from a chosen start. It can jump forward over
 * quiet time, and it can be held: it never passes the limit the pipeline last allowed, so a slow
 * machine makes the demo take longer instead of making probers see the wrong minute of the script.
 * It never runs backwards.
 */
export class ScaledClock implements Clock {
  private baseMs: number;
  private realBase = performance.now();
  private limitMs = Number.POSITIVE_INFINITY;
  /** Sleepers to wake when the hold moves or the clock jumps. */
  private readonly sleepers = new Set<() => void>();

  constructor(
    startMs: number,
    readonly speed: number,
  ) {
    if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`speed must be a positive number, got ${speed}`);
    this.baseMs = startMs;
  }

  now(): number {
    return Math.floor(Math.min(this.raw(), this.limitMs));
  }

  /**
   * Waits until this clock has advanced `ms`. While the clock is held the wait goes on, so a deadline
   * on this clock (a round's) cannot pass while the pipeline that holds it is still working.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.sleepUntil(this.now() + ms, signal);
  }

  /**
   * Waits until the clock reads `epochMs`. A held clock wakes its sleepers the moment the hold moves
   * (holdAt, jumpTo): the demo holds the clock at every slot, and looking again on a 10 ms timer lost up
   * to that period per sleep (a CPU profile of the demo at ×2000: 21.8 s of 52.9 idle before, 12.6 after).
   */
  async sleepUntil(epochMs: number, signal?: AbortSignal): Promise<void> {
    // Bounded: each pass waits for real time to pass or for the hold to move.
    for (let pass = 0; pass < 10_000_000 && !signal?.aborted; pass++) {
      const now = this.now();
      if (now >= epochMs) return;
      const held = now >= this.limitMs;
      // Held: the next holdAt or jumpTo wakes the sleeper; the second is only a safety net.
      await this.untilMovedOr(held ? 1000 : Math.max(1, (Math.min(epochMs, this.limitMs) - now) / this.speed), signal);
    }
  }

  /** Moves the clock forward to `epochMs` at once (no-op if it is already past it). */
  jumpTo(epochMs: number): void {
    if (epochMs <= this.now()) return;
    this.rebase(epochMs);
    if (this.limitMs < epochMs) this.limitMs = epochMs;
    this.wakeSleepers();
  }

  /** Lets the clock run up to `epochMs` and no further; a clock that was stalled at the old limit resumes from there. */
  holdAt(epochMs: number): void {
    const current = this.now();
    if (this.raw() > current) this.rebase(current);
    this.limitMs = Math.max(epochMs, current);
    this.wakeSleepers();
  }

  /** Resolves after `ms` real milliseconds, when the hold moves or the clock jumps, or on abort. */
  private untilMovedOr(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private wakeSleepers(): void {
    for (const wake of [...this.sleepers]) wake();
  }

  private raw(): number {
    return this.baseMs + (performance.now() - this.realBase) * this.speed;
  }

  private rebase(epochMs: number): void {
    this.baseMs = epochMs;
    this.realBase = performance.now();
  }
}
