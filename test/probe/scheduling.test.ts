// How a minute's rounds are split between the scheduled invocation and the rounds queue (pure), and the queue's message format.
import { describe, expect, it } from 'vitest';
import { ALLOWED_INTERVALS } from '../../lambda/config/schema';
import { MAX_DELAY_SECONDS, RoundMessageError, parseRoundMessage, planMinute, slotsOfMinute, type MinutePlanInput } from '../../lambda/probe/scheduling';
import { inBatches } from '../../lambda/probe/sqs-rounds';

/** 2026-04-11T12:00:00Z in epoch seconds. */
const MINUTE = Date.UTC(2026, 3, 11, 12, 0, 0) / 1000;

function plan(overrides: Partial<MinutePlanInput> = {}) {
  return planMinute({
    scheduling: 'invocation-per-round',
    probeRegion: 'eu-west-1',
    minute: MINUTE,
    intervalSeconds: 10,
    nowMs: MINUTE * 1000 + 300,
    endMs: MINUTE * 1000 + 58_000,
    clockOffsetMs: 0,
    ...overrides,
  });
}

describe('planMinute', () => {
  it('invocation-per-round: runs the first slot itself and queues the other five, each delayed to its start', () => {
    const p = plan();
    expect(p.run).toEqual([MINUTE]);
    expect(p.skipped).toEqual([]);
    expect(p.enqueue.map((q) => [q.message.slot - MINUTE, q.delaySeconds])).toEqual([
      [10, 10],
      [20, 20],
      [30, 30],
      [40, 40],
      [50, 50],
    ]);
    expect(p.enqueue[0]?.message).toEqual({ slot: MINUTE + 10, probeRegion: 'eu-west-1', minute: MINUTE, clockOffsetMs: 0 });
  });

  it('delays are measured from now, rounded to the nearest second, so a message arrives within half a second of its slot', () => {
    expect(plan({ nowMs: MINUTE * 1000 + 700 }).enqueue.map((q) => q.delaySeconds)).toEqual([9, 19, 29, 39, 49]);
    expect(plan({ nowMs: MINUTE * 1000 + 1400 }).enqueue.map((q) => q.delaySeconds)).toEqual([9, 19, 29, 39, 49]);
    expect(plan({ nowMs: MINUTE * 1000 + 1600 }).enqueue.map((q) => q.delaySeconds)).toEqual([8, 18, 28, 38, 48]);
  });

  it('a late start skips the slots whose time has passed, runs the current one and queues the rest', () => {
    const p = plan({ nowMs: MINUTE * 1000 + 25_000 });
    expect(p.skipped).toEqual([MINUTE, MINUTE + 10]);
    expect(p.run).toEqual([MINUTE + 20]);
    expect(p.enqueue.map((q) => q.message.slot)).toEqual([MINUTE + 30, MINUTE + 40, MINUTE + 50]);
    // Slot 20 has only 0.4 s left at 28.6 s: skipped, and slot 30 is this invocation's (after a short wait), not the queue's.
    const later = plan({ nowMs: MINUTE * 1000 + 28_600 });
    expect(later.skipped).toEqual([MINUTE, MINUTE + 10, MINUTE + 20]);
    expect(later.run).toEqual([MINUTE + 30]);
  });

  it('keeps the clock offset in every message: round invocations keep time on the same scheduler clock', () => {
    expect(plan({ clockOffsetMs: -119_876.4 }).enqueue.every((q) => q.message.clockOffsetMs === -119_876)).toBe(true);
  });

  it('slots beyond a short budget are queued, not lost', () => {
    const p = plan({ endMs: MINUTE * 1000 + 1_500 });
    expect(p.run).toEqual([]);
    expect(p.skipped).toEqual([MINUTE]);
    expect(p.enqueue).toHaveLength(5);
  });

  it('wait-in-minute: every slot with time left is this invocation\'s, nothing is queued', () => {
    expect(plan({ scheduling: 'wait-in-minute' })).toEqual({ run: slotsOfMinute(MINUTE, 10), enqueue: [], skipped: [] });
    expect(plan({ scheduling: 'wait-in-minute', nowMs: MINUTE * 1000 + 25_000 })).toEqual({ run: [MINUTE + 20, MINUTE + 30, MINUTE + 40, MINUTE + 50], enqueue: [], skipped: [MINUTE, MINUTE + 10] });
  });

  it.each(ALLOWED_INTERVALS.map((i) => [i]))('at %i s every slot of the minute is run, queued or skipped exactly once, in at most two batches', (interval) => {
    const p = plan({ intervalSeconds: interval });
    const all = [...p.skipped, ...p.run, ...p.enqueue.map((q) => q.message.slot)].sort((a, b) => a - b);
    expect(all).toEqual(slotsOfMinute(MINUTE, interval));
    expect(p.run).toEqual([MINUTE]);
    expect(p.enqueue.every((q) => q.delaySeconds === q.message.slot - MINUTE && q.delaySeconds <= MAX_DELAY_SECONDS)).toBe(true);
    const batches = inBatches(p.enqueue);
    expect(batches.length).toBe(interval <= 5 ? 2 : p.enqueue.length === 0 ? 0 : 1);
    expect(batches.every((b) => b.length <= 10)).toBe(true);
  });
});

describe('planMinute with staggered rounds', () => {
  it('a probe region whose rounds start seconds into their slots queues its first round too, instead of waiting for it in a billed invocation', () => {
    // The third of three probe regions at 10 s: each round starts 6.667 s into its slot.
    const p = plan({ offsetMs: 6667 });
    expect(p.run).toEqual([]);
    expect(p.skipped).toEqual([]);
    expect(p.enqueue.map((q) => [q.message.slot - MINUTE, q.delaySeconds])).toEqual([
      [0, 6],
      [10, 16],
      [20, 26],
      [30, 36],
      [40, 46],
      [50, 56],
    ]);
  });

  it('a start within two seconds is waited for; slots whose staggered window has passed are skipped', () => {
    expect(plan({ offsetMs: 1667 }).run).toEqual([MINUTE]);
    const late = plan({ offsetMs: 3333, nowMs: MINUTE * 1000 + 12_900 });
    // Slot 0's window [3.3 s, 13.3 s) less the write margin has no 0.5 s left at 12.9 s; slot 10's starts at 13.3 s.
    expect(late.skipped).toEqual([MINUTE]);
    expect(late.run).toEqual([MINUTE + 10]);
  });

  it('wait-in-minute runs every slot, each at its staggered start', () => {
    expect(plan({ scheduling: 'wait-in-minute', offsetMs: 6667 })).toEqual({ run: slotsOfMinute(MINUTE, 10), enqueue: [], skipped: [] });
  });
});

describe('parseRoundMessage', () => {
  const good = { slot: MINUTE + 20, probeRegion: 'eu-west-1', minute: MINUTE, clockOffsetMs: 12 };

  it('reads what planMinute queues', () => {
    expect(parseRoundMessage(JSON.stringify(good), 'eu-west-1')).toEqual(good);
    expect(parseRoundMessage(JSON.stringify({ ...good, clockOffsetMs: undefined }), 'eu-west-1')).toEqual({ ...good, clockOffsetMs: 0 });
  });

  it('names every problem of a message it cannot act on', () => {
    expect(() => parseRoundMessage('not json', 'eu-west-1')).toThrow(RoundMessageError);
    expect(() => parseRoundMessage('null', 'eu-west-1')).toThrow('not an object');
    expect(() => parseRoundMessage(JSON.stringify({ slot: '1', minute: 61.5, shard: -1 }), 'eu-west-1')).toThrow(
      'bad round message: slot must be an integer (epoch seconds); minute must be an integer (epoch seconds); probeRegion must be a string; shard must be a whole number from 0',
    );
    expect(() => parseRoundMessage(JSON.stringify(good), 'us-east-1')).toThrow('probeRegion eu-west-1 is not this prober\'s (us-east-1)');
    expect(() => parseRoundMessage(JSON.stringify({ ...good, slot: MINUTE + 60 }), 'eu-west-1')).toThrow(`slot ${MINUTE + 60} is not in the minute from ${MINUTE}`);
  });
});
