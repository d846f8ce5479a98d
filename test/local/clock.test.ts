import { afterEach, describe, expect, it, vi } from 'vitest';
import { ScaledClock } from '../../lambda/local/clock';

describe('ScaledClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs speed times faster than real time, jumps forward and never backwards', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const clock = new ScaledClock(1_000_000, 100);
    await vi.advanceTimersByTimeAsync(10);
    expect(clock.now()).toBe(1_001_000);
    clock.jumpTo(2_000_000);
    expect(clock.now()).toBe(2_000_000);
    clock.jumpTo(1_500_000);
    expect(clock.now()).toBe(2_000_000);
  });

  it('stops at its hold, and a sleeper wakes when the hold moves, not on its next look', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const clock = new ScaledClock(0, 1000);
    clock.holdAt(0);
    let woke = false;
    const sleeping = clock.sleepUntil(5_000).then(() => {
      woke = true;
    });
    await vi.advanceTimersByTimeAsync(50);
    expect(clock.now()).toBe(0);
    expect(woke).toBe(false);
    // Let go: the clock resumes from its hold, and 5 s of it at ×1000 is 5 ms of real time. A sleeper that looked at
    // a held clock on a 10 ms timer would still be waiting for that timer here.
    clock.holdAt(10_000);
    await vi.advanceTimersByTimeAsync(5);
    expect(woke).toBe(true);
    expect(clock.now()).toBe(5_000);
    await sleeping;
  });

  it('a sleeper whose signal aborts stops waiting at once, held or not', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const clock = new ScaledClock(0, 10);
    clock.holdAt(0);
    const abort = new AbortController();
    let woke = false;
    const sleeping = clock.sleepUntil(60_000, abort.signal).then(() => {
      woke = true;
    });
    await vi.advanceTimersByTimeAsync(20);
    abort.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(woke).toBe(true);
    await sleeping;
  });
});
