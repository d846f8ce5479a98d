// One invocation per round (FAULTS 16, 18): queued slots run once each, late and duplicate deliveries probe nothing, and a
// broken queue falls back to rounds inside the scheduled invocation. Real loopback targets, DynamoDB Local, a fast clock.
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResultsTable } from '../../lambda/store/create-tables';
import { ResultsStore } from '../../lambda/store/results-store';
import { RESULTS_TABLE } from '../../lambda/store/tables';
import { CLAIM_PARTITION, dynamoMinuteClaim, dynamoSlotClaim, slotClaimSortKey } from '../../lambda/probe/dynamo-claims';
import { runInvocation, slotsOfMinute, type RoundEnqueuer } from '../../lambda/probe/invocation';
import { RoundWriteError, runQueuedRound } from '../../lambda/probe/queued-round';
import type { RoundData, RoundDeps } from '../../lambda/probe/round';
import type { QueuedRound, RoundMessage } from '../../lambda/probe/scheduling';
import { startFaultyServer, type FaultyServer } from '../helpers/servers';
import { useTestStore } from '../helpers/store';
import { memoryLogger, testConfig, warpClock as fixtureWarpClock } from './fixtures';

const store = useTestStore();
let server: FaultyServer;
beforeAll(async () => {
  server = await startFaultyServer();
});
afterAll(async () => {
  await server.close();
});

/** 2026-04-11T12:00:00Z in epoch seconds. */
const MINUTE = Date.UTC(2026, 3, 11, 12, 0, 0) / 1000;
const SLOTS = slotsOfMinute(MINUTE, 10);
const SPEED = 40;

const warpClock = (startAt: number): Pick<RoundDeps, 'now' | 'sleep'> => fixtureWarpClock(startAt, SPEED);

let tables = 0;
async function freshStore() {
  const tableName = `results-queued-${++tables}`;
  await createResultsTable(store.current.client, tableName);
  const results = new ResultsStore({ client: store.current.documentClient, tableName, retentionHours: 48 });
  const items = async (pk: string) =>
    (
      await store.current.documentClient.send(
        new QueryCommand({ TableName: tableName, KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': RESULTS_TABLE.partitionKey }, ExpressionAttributeValues: { ':pk': pk } }),
      )
    ).Items ?? [];
  const claimSlot = dynamoSlotClaim({ client: store.current.documentClient, tableName });
  const claimMinute = dynamoMinuteClaim({ client: store.current.documentClient, tableName });
  return { results, tableName, claimSlot, claimMinute, roundItems: () => items(RESULTS_TABLE.roundsPartition), claimItems: () => items(CLAIM_PARTITION) };
}

/**
 * Three loopback targets with a 1 s timeout (the server starts before the tests, so the config is built per test), on
 * aligned rounds: these tests are about the slot; staggering has its own below.
 */
function liveConfig() {
  return testConfig(
    {
      us: [
        { name: 'api', type: 'http', url: `${server.origin}/ok?q=api` },
        { name: 'web', type: 'http', url: `${server.origin}/ok?q=web` },
      ],
      eu: [{ name: 'api', type: 'http', url: `${server.origin}/ok?q=eu-api` }],
    },
    { defaults: { timeoutMs: 1000 }, probing: { detection: 'rounds' } },
  );
}

const message = (slot: number, clockOffsetMs = 0): RoundMessage => ({ slot, probeRegion: 'eu-west-1', minute: MINUTE, clockOffsetMs });
const requestsSince = (before: number) => server.requests.length - before;

describe('a queued round', () => {
  it('runs its slot once, inside the slot, and writes one item', async () => {
    const { results, claimSlot, roundItems, claimItems } = await freshStore();
    const before = server.requests.length;
    const rounds: RoundData[] = [];
    const summary = await runQueuedRound(
      { config: liveConfig(), probeRegion: 'eu-west-1', message: message(MINUTE + 20), store: results, claimSlot, onRound: (r) => void rounds.push(r) },
      warpClock((MINUTE + 20) * 1000 + 150),
    );
    expect(summary).toMatchObject({ outcome: 'ran', slot: MINUTE + 20, minute: MINUTE });
    expect(summary.latenessMs).toBeGreaterThanOrEqual(150);
    expect(summary.latenessMs).toBeLessThan(1_000);
    expect(requestsSince(before)).toBe(3);
    expect(await roundItems()).toHaveLength(1);
    const [round] = await results.readRounds(MINUTE + 20, MINUTE + 20);
    expect(round?.results.map((r) => `${r.region}/${r.target}:${r.status}`)).toEqual(['us/api:up', 'us/web:up', 'eu/api:up']);
    expect(rounds).toHaveLength(1);
    expect(await claimItems()).toEqual([expect.objectContaining({ sk: slotClaimSortKey(MINUTE + 20, 'eu-west-1'), kind: 'claim', slot: MINUTE + 20, expiresAt: MINUTE + 20 + 900 })]);
  });

  it('an early arrival (DelaySeconds rounds to whole seconds) waits for its slot before probing', async () => {
    const { results, claimSlot } = await freshStore();
    await runQueuedRound({ config: liveConfig(), probeRegion: 'eu-west-1', message: message(MINUTE + 30), store: results, claimSlot }, warpClock((MINUTE + 30) * 1000 - 480));
    const [round] = await results.readRounds(MINUTE + 30, MINUTE + 30);
    expect(round?.startedAt).toBeGreaterThanOrEqual((MINUTE + 30) * 1000);
  });

  it('a duplicated delivery probes nothing: one request per target for the slot (FAULTS 16, 18)', async () => {
    const { results, claimSlot, roundItems } = await freshStore();
    const before = server.requests.length;
    const input = { config: liveConfig(), probeRegion: 'eu-west-1', message: message(MINUTE + 10), store: results, claimSlot };
    const outcomes = await Promise.all([runQueuedRound(input, warpClock((MINUTE + 10) * 1000 + 100)), runQueuedRound(input, warpClock((MINUTE + 10) * 1000 + 120))]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['duplicate', 'ran']);
    // And once more, later in the slot: still nothing.
    expect((await runQueuedRound(input, warpClock((MINUTE + 10) * 1000 + 3_000))).outcome).toBe('duplicate');
    expect(requestsSince(before)).toBe(3);
    expect(await roundItems()).toHaveLength(1);
  });

  it('a message too late to finish inside its slot is dropped: no request, no item, no claim', async () => {
    const { results, claimSlot, roundItems, claimItems } = await freshStore();
    const before = server.requests.length;
    const logger = memoryLogger();
    // Slot end 10 s, minus the 1 s write margin, minus the 1 s timeout: 8 s is the last moment to start. On time at 7 s:
    // the clock runs 40x, so 7.9 s left the handler 2.5 real ms before its check, too few on a loaded machine.
    const onTime = await runQueuedRound({ config: liveConfig(), probeRegion: 'eu-west-1', message: message(MINUTE + 40), store: results, claimSlot }, warpClock((MINUTE + 40) * 1000 + 7_000));
    expect(onTime.outcome).toBe('ran');
    const late = await runQueuedRound({ config: liveConfig(), probeRegion: 'eu-west-1', message: message(MINUTE + 50), store: results, claimSlot }, { ...warpClock((MINUTE + 50) * 1000 + 8_100), logger });
    expect(late).toMatchObject({ outcome: 'late', slot: MINUTE + 50 });
    expect(late.latenessMs).toBeGreaterThanOrEqual(8_100);
    // A redelivery a visibility timeout later is late too.
    expect((await runQueuedRound({ config: liveConfig(), probeRegion: 'eu-west-1', message: message(MINUTE + 50), store: results, claimSlot }, warpClock((MINUTE + 50) * 1000 + 120_000))).outcome).toBe('late');
    expect(requestsSince(before)).toBe(3);
    expect(await roundItems()).toHaveLength(1);
    expect((await claimItems()).map((c) => c.slot)).toEqual([MINUTE + 40]);
    expect(logger.lines).toContainEqual(expect.objectContaining({ level: 'warn', attributes: expect.objectContaining({ event: 'round-late', slot: MINUTE + 50 }) }));
  });

  it('keeps time on the planning invocation\'s clock: a local clock 2 minutes fast still runs the slot on time', async () => {
    const { results, claimSlot } = await freshStore();
    const summary = await runQueuedRound({ config: liveConfig(), probeRegion: 'eu-west-1', message: message(MINUTE + 20, 120_000), store: results, claimSlot }, warpClock((MINUTE + 20) * 1000 + 120_200));
    expect(summary.outcome).toBe('ran');
    expect(summary.latenessMs).toBeGreaterThanOrEqual(200);
    expect(summary.latenessMs).toBeLessThan(1_000);
    expect((await results.readRounds(MINUTE + 20, MINUTE + 20)).map((r) => r.slot)).toEqual([MINUTE + 20]);
  });

  it('drops a slot that is not one of the current interval (config changed under it) and a message an interval early', async () => {
    const { results, claimSlot } = await freshStore();
    const before = server.requests.length;
    expect((await runQueuedRound({ config: liveConfig(), probeRegion: 'eu-west-1', message: message(MINUTE + 15), store: results, claimSlot }, warpClock((MINUTE + 15) * 1000))).outcome).toBe('stale');
    expect((await runQueuedRound({ config: liveConfig(), probeRegion: 'eu-west-1', message: message(MINUTE + 30), store: results, claimSlot }, warpClock((MINUTE + 19) * 1000))).outcome).toBe('early');
    expect(requestsSince(before)).toBe(0);
  });

  it('throws when the round cannot be written (the message is retried, then parked), after reporting the round', async () => {
    const { claimSlot } = await freshStore();
    const seen: boolean[] = [];
    const failing = { writeRound: () => Promise.reject(new Error('ProvisionedThroughputExceededException')) };
    await expect(
      runQueuedRound({ config: liveConfig(), probeRegion: 'eu-west-1', message: message(MINUTE + 20), store: failing, claimSlot, onRound: (_r, written) => void seen.push(written) }, warpClock((MINUTE + 20) * 1000)),
    ).rejects.toThrow(RoundWriteError);
    expect(seen).toEqual([false]);
  });
});

describe('staggered rounds (probing.detection confirm)', () => {
  const staggered = () => ({ ...liveConfig(), probing: { ...liveConfig().probing, detection: 'confirm' as const } });

  it('runs the slot at its probe region\'s offset (eu-west-1, second of three: 3.333 s in), with every check inside the slot', async () => {
    const { results } = await freshStore();
    const rounds: RoundData[] = [];
    const summary = await runQueuedRound(
      { config: staggered(), probeRegion: 'eu-west-1', message: message(MINUTE + 20), store: results, onRound: (r) => void rounds.push(r) },
      warpClock((MINUTE + 20) * 1000 + 2_900),
    );
    expect(summary.outcome).toBe('ran');
    expect(rounds[0]?.startedAt).toBeGreaterThanOrEqual((MINUTE + 20) * 1000 + 3_333);
    for (const r of rounds[0]?.results ?? []) {
      expect(r.at).toBeGreaterThanOrEqual((MINUTE + 20) * 1000 + 3_333);
      expect(r.at).toBeLessThan((MINUTE + 30) * 1000);
    }
  });

  it('judges lateness from the staggered window: 8 s into the slot is on time for eu-west-1, whose window ends 3.3 s later', async () => {
    const { results } = await freshStore();
    const onTime = await runQueuedRound({ config: staggered(), probeRegion: 'eu-west-1', message: message(MINUTE + 40), store: results }, warpClock((MINUTE + 40) * 1000 + 8_000));
    expect(onTime.outcome).toBe('ran');
    const late = await runQueuedRound({ config: staggered(), probeRegion: 'eu-west-1', message: message(MINUTE + 50), store: results }, warpClock((MINUTE + 50) * 1000 + 11_400));
    expect(late.outcome).toBe('late');
  });
});

describe('the scheduled invocation, one invocation per round', () => {
  function recordingQueue(refuse: (slot: number) => boolean = () => false): { enqueue: RoundEnqueuer; sent: QueuedRound[] } {
    const sent: QueuedRound[] = [];
    return {
      sent,
      enqueue: async (rounds) => {
        sent.push(...rounds);
        return { failed: rounds.map((r) => r.message).filter((m) => refuse(m.slot)) };
      },
    };
  }

  it('runs the first slot and queues the other five with their delays; nothing else is probed', async () => {
    const { results, claimMinute, claimSlot, roundItems } = await freshStore();
    const queue = recordingQueue();
    const clock = warpClock(MINUTE * 1000 + 200);
    // When the messages leave, on the same warped clock: the claim before them takes real time, 40x here, so on a
    // loaded machine the delays are counted from later than the invocation's start.
    let sentAtMs = Number.NaN;
    const enqueue: RoundEnqueuer = (rounds) => {
      sentAtMs = clock.now();
      return queue.enqueue(rounds);
    };
    const before = server.requests.length;
    const summary = await runInvocation(
      { config: liveConfig(), probeRegion: 'eu-west-1', scheduledAt: MINUTE * 1000, store: results, claimMinute, scheduling: { mode: 'invocation-per-round', enqueue, claimSlot } },
      clock,
    );
    expect(summary).toMatchObject({ outcome: 'ran', written: [MINUTE], queued: SLOTS.slice(1), fallback: [], skipped: [] });
    expect(queue.sent.map((q) => q.message.slot)).toEqual(SLOTS.slice(1));
    // Each delay brings its message to its own slot: all are counted from one moment (the plan's), so they are the
    // slots' distances from it, an interval apart, and that moment is between the invocation's start and the send (whole
    // seconds, so within half a second; a loaded machine stretches the real time between them 40x on this clock).
    const delays = queue.sent.map((q) => q.delaySeconds);
    for (const q of queue.sent) expect(q.delaySeconds - (delays[0] ?? 0)).toBe(q.message.slot - (queue.sent[0]?.message.slot ?? 0));
    const plannedAtMs = (queue.sent[0]?.message.slot ?? 0) * 1000 - (delays[0] ?? 0) * 1000;
    expect(plannedAtMs).toBeGreaterThanOrEqual(MINUTE * 1000 + 200 - 500);
    expect(plannedAtMs).toBeLessThanOrEqual(sentAtMs + 500);
    expect(requestsSince(before)).toBe(3);
    expect(await roundItems()).toHaveLength(1);
  });

  it('a doubled scheduled delivery queues nothing the second time', async () => {
    const { results, claimMinute, claimSlot } = await freshStore();
    const queue = recordingQueue();
    const input = { config: liveConfig(), probeRegion: 'eu-west-1', scheduledAt: MINUTE * 1000, store: results, claimMinute, scheduling: { mode: 'invocation-per-round' as const, enqueue: queue.enqueue, claimSlot } };
    const outcomes = await Promise.all([runInvocation(input, warpClock(MINUTE * 1000 + 200)), runInvocation(input, warpClock(MINUTE * 1000 + 400))]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['duplicate', 'ran']);
    expect(queue.sent).toHaveLength(5);
  });

  it('when the queue fails, runs the rest of the minute itself, waiting in between: a broken queue costs money, not coverage', async () => {
    const { results, claimSlot, roundItems } = await freshStore();
    const logger = memoryLogger();
    const before = server.requests.length;
    const summary = await runInvocation(
      {
        config: liveConfig(),
        probeRegion: 'eu-west-1',
        scheduledAt: MINUTE * 1000,
        store: results,
        scheduling: { mode: 'invocation-per-round', enqueue: () => Promise.reject(new Error('AWS.SimpleQueueService.NonExistentQueue')), claimSlot },
      },
      { ...warpClock(MINUTE * 1000 + 200), logger },
    );
    expect(summary).toMatchObject({ outcome: 'ran', written: SLOTS, queued: [], fallback: SLOTS.slice(1), skipped: [] });
    expect(requestsSince(before)).toBe(3 * 6);
    expect(await roundItems()).toHaveLength(6);
    const rounds = await results.readRounds(MINUTE, MINUTE + 50);
    for (const round of rounds) expect(round.startedAt).toBeGreaterThanOrEqual(round.slot * 1000);
    expect(logger.lines.map((l) => l.attributes?.event)).toEqual(expect.arrayContaining(['enqueue-failed', 'enqueue-fallback']));
  });

  it('serves the 60 s from its event\'s time, not the event\'s calendar minute: a rule firing at :37 still covers every round', async () => {
    // EventBridge fires a rate rule at some second of each minute and sends that second. Planning the calendar minute
    // of :37 left :00 to :30 past (skipped), and the next event, at the next minute's :37, planned from its :40: four
    // rounds of six lost every minute.
    const { results, claimSlot } = await freshStore();
    const queue = recordingQueue();
    const at = (MINUTE + 37) * 1000;
    const summary = await runInvocation(
      { config: liveConfig(), probeRegion: 'eu-west-1', scheduledAt: at, store: results, scheduling: { mode: 'invocation-per-round', enqueue: queue.enqueue, claimSlot } },
      warpClock(at + 200),
    );
    const window = [40, 50, 60, 70, 80, 90].map((k) => MINUTE + k);
    expect(summary).toMatchObject({ outcome: 'ran', minute: MINUTE + 37, skipped: [], written: [] });
    expect(queue.sent.map((q) => [q.message.slot, q.delaySeconds])).toEqual(window.map((slot) => [slot, slot - MINUTE - 37]));
    expect(queue.sent.every((q) => q.message.minute === MINUTE + 37)).toBe(true);
  });

  it('two events whose 60 s overlap probe each slot once: the scheduled invocation claims the slot it runs as a queued round does', async () => {
    const { results, claimSlot, roundItems } = await freshStore();
    const queue = recordingQueue();
    const first = (MINUTE + 37) * 1000;
    await runInvocation({ config: liveConfig(), probeRegion: 'eu-west-1', scheduledAt: first, store: results, scheduling: { mode: 'invocation-per-round', enqueue: queue.enqueue, claimSlot } }, warpClock(first + 200));
    const queued60 = queue.sent.find((q) => q.message.slot === MINUTE + 60);
    if (!queued60) throw new Error('slot 60 was not queued');
    const before = server.requests.length;
    // The first event's message for :60 is served at its slot; a second event at :60 (a manual or early one) plans :60 too.
    expect((await runQueuedRound({ config: liveConfig(), probeRegion: 'eu-west-1', message: queued60.message, store: results, claimSlot }, warpClock((MINUTE + 60) * 1000 + 100))).outcome).toBe('ran');
    const second = await runInvocation(
      { config: liveConfig(), probeRegion: 'eu-west-1', scheduledAt: (MINUTE + 60) * 1000, store: results, scheduling: { mode: 'invocation-per-round', enqueue: queue.enqueue, claimSlot } },
      warpClock((MINUTE + 60) * 1000 + 300),
    );
    expect(second).toMatchObject({ outcome: 'ran', written: [], skipped: [MINUTE + 60] });
    expect(requestsSince(before)).toBe(3);
    expect((await roundItems()).map((item) => item.slot)).toEqual([MINUTE + 60]);
  });

  it('runs only the slots the queue refused; a refused slot whose message got through after all is probed once', async () => {
    const { results, claimSlot } = await freshStore();
    const queue = recordingQueue((slot) => slot === MINUTE + 20 || slot === MINUTE + 40);
    // The message for slot 40 was delivered despite the refusal and its round invocation claimed the slot first.
    expect(await claimSlot('eu-west-1', MINUTE + 40)).toBe(true);
    const summary = await runInvocation(
      { config: liveConfig(), probeRegion: 'eu-west-1', scheduledAt: MINUTE * 1000, store: results, scheduling: { mode: 'invocation-per-round', enqueue: queue.enqueue, claimSlot } },
      warpClock(MINUTE * 1000 + 200),
    );
    expect(summary).toMatchObject({ written: [MINUTE, MINUTE + 20], queued: [MINUTE + 10, MINUTE + 30, MINUTE + 50], fallback: [MINUTE + 20], skipped: [MINUTE + 40] });
  });
});
