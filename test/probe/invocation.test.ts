// FAULTS row 16: clock skew of ±2 min, late and doubled invocations. One result per target, probe region and slot, in the right slot (DynamoDB Local).
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResultsTable } from '../../lambda/store/create-tables';
import { ResultsStore } from '../../lambda/store/results-store';
import { RESULTS_TABLE } from '../../lambda/store/tables';
import { dynamoMinuteClaim } from '../../lambda/probe/dynamo-claims';
import { ClockOffsetEstimator, runInvocation, slotsOfMinute, type InvocationInput } from '../../lambda/probe/invocation';
import type { RoundDeps } from '../../lambda/probe/round';
import { startFaultyServer, type FaultyServer } from '../helpers/servers';
import { useTestStore } from '../helpers/store';
import { testConfig, warpClock as fixtureWarpClock } from './fixtures';

const store = useTestStore();
let server: FaultyServer;
beforeAll(async () => {
  server = await startFaultyServer();
});
afterAll(async () => {
  await server.close();
});

/** 2026-04-11T12:00:00Z, in epoch seconds: the scheduled minute of every test below. */
const MINUTE = Date.UTC(2026, 3, 11, 12, 0, 0) / 1000;
const SLOTS = slotsOfMinute(MINUTE, 10);
/** Virtual time runs this many times faster than real time: a minute takes 1.5 s. */
const SPEED = 40;

const warpClock = (startAt: number): Pick<RoundDeps, 'now' | 'sleep'> => fixtureWarpClock(startAt, SPEED);

let tables = 0;
async function freshStore(): Promise<{ results: ResultsStore; tableName: string; rawItems: () => Promise<Record<string, unknown>[]> }> {
  const tableName = `results-inv-${++tables}`;
  await createResultsTable(store.current.client, tableName);
  const results = new ResultsStore({ client: store.current.documentClient, tableName, retentionHours: 48 });
  const rawItems = async () => {
    const page = await store.current.documentClient.send(
      new QueryCommand({ TableName: tableName, KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': RESULTS_TABLE.partitionKey }, ExpressionAttributeValues: { ':pk': RESULTS_TABLE.roundsPartition } }),
    );
    return page.Items ?? [];
  };
  return { results, tableName, rawItems };
}

/** Aligned rounds (every probe region at the slot's start): these tests are about the minute and its slots; staggering has its own below. */
function config() {
  return testConfig({
    us: [
      { name: 'api', type: 'http', url: `${server.origin}/ok?inv=api` },
      { name: 'web', type: 'http', url: `${server.origin}/ok?inv=web` },
    ],
    eu: [{ name: 'api', type: 'http', url: `${server.origin}/ok?inv=eu-api` }],
  }, { defaults: { timeoutMs: 1000 }, probing: { detection: 'rounds' } });
}

const requestsSince = (before: number) => server.requests.length - before;

describe('invocations (FAULTS 16)', () => {
  it('writes the six slots of the scheduled minute, each once, with every target', async () => {
    const { results, rawItems } = await freshStore();
    const summary = await runInvocation({ config: config(), probeRegion: 'eu-west-1', scheduledAt: MINUTE * 1000, store: results }, warpClock(MINUTE * 1000 + 400));
    expect(summary).toMatchObject({ outcome: 'ran', minute: MINUTE, written: SLOTS, skipped: [], failedWrites: [] });
    const rounds = await results.readRounds(MINUTE, MINUTE + 50);
    expect(rounds.map((r) => r.slot)).toEqual(SLOTS);
    for (const round of rounds) {
      expect(round.results.map((r) => `${r.region}/${r.target}:${r.status}`)).toEqual(['us/api:up', 'us/web:up', 'eu/api:up']);
      // Each round ran inside its own slot on the scheduler's clock.
      expect(round.startedAt).toBeGreaterThanOrEqual(round.slot * 1000);
      expect(round.finishedAt).toBeLessThanOrEqual((round.slot + 10) * 1000);
    }
    expect(await rawItems()).toHaveLength(6);
  });

  it('a doubled delivery rewrites the same six items instead of adding results', async () => {
    const { results, rawItems } = await freshStore();
    const input: InvocationInput = { config: config(), probeRegion: 'eu-west-1', scheduledAt: MINUTE * 1000, store: results };
    const [first, second] = await Promise.all([runInvocation(input, warpClock(MINUTE * 1000 + 200)), runInvocation(input, warpClock(MINUTE * 1000 + 900))]);
    expect(first.written).toEqual(SLOTS);
    expect(second.written).toEqual(SLOTS);
    const items = await rawItems();
    expect(items).toHaveLength(6);
    const rounds = await results.readRounds(MINUTE, MINUTE + 50);
    const perKey = new Map<string, number>();
    for (const round of rounds) for (const r of round.results) perKey.set(`${round.slot}/${round.probeRegion}/${r.region}/${r.target}`, (perKey.get(`${round.slot}/${round.probeRegion}/${r.region}/${r.target}`) ?? 0) + 1);
    expect(perKey.size).toBe(6 * 3);
    expect([...perKey.values()].every((n) => n === 1)).toBe(true);
  });

  it('with a minute claim, a doubled delivery does not probe twice: one request per target per slot', async () => {
    const { results, tableName, rawItems } = await freshStore();
    const claimMinute = dynamoMinuteClaim({ client: store.current.documentClient, tableName });
    const input: InvocationInput = { config: config(), probeRegion: 'ap-southeast-1', scheduledAt: MINUTE * 1000, store: results, claimMinute };
    const before = server.requests.length;
    const outcomes = await Promise.all([runInvocation(input, warpClock(MINUTE * 1000 + 200)), runInvocation(input, warpClock(MINUTE * 1000 + 300))]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['duplicate', 'ran']);
    expect(requestsSince(before)).toBe(3 * 6);
    expect(await rawItems()).toHaveLength(6);
    // A later, separate minute is claimed afresh.
    const next = await runInvocation({ ...input, scheduledAt: (MINUTE + 60) * 1000, budgetMs: 1500 }, warpClock((MINUTE + 60) * 1000 + 100));
    expect(next.outcome).toBe('ran');
  });

  it('labels slots by the schedule when the local clock is 2 minutes fast or slow', async () => {
    const { results } = await freshStore();
    const estimator = new ClockOffsetEstimator();
    const base = { config: config(), scheduledAt: MINUTE * 1000, store: results };
    const [fast, slow, coldFast] = await Promise.all([
      // A warm prober whose estimator has seen the +2 min offset before.
      runInvocation({ ...base, probeRegion: 'us-east-1', clockOffsetMs: estimator.observe(120_000) }, warpClock(MINUTE * 1000 + 120_300)),
      runInvocation({ ...base, probeRegion: 'eu-west-1', clockOffsetMs: -120_000 }, warpClock(MINUTE * 1000 - 119_700)),
      // A cold start assumes it is on time: the same labels.
      runInvocation({ ...base, probeRegion: 'ap-southeast-1' }, warpClock(MINUTE * 1000 + 120_300)),
    ]);
    for (const summary of [fast, slow, coldFast]) expect(summary).toMatchObject({ outcome: 'ran', written: SLOTS });
    const rounds = await results.readRounds(MINUTE - 600, MINUTE + 600);
    expect(rounds).toHaveLength(18);
    expect(new Set(rounds.map((r) => r.slot))).toEqual(new Set(SLOTS));
  });

  it('a late start skips the slots already gone, and an invocation after its minute probes nothing', async () => {
    const { results } = await freshStore();
    const before = server.requests.length;
    const lateBy25 = await runInvocation({ config: config(), probeRegion: 'us-east-1', scheduledAt: MINUTE * 1000, clockOffsetMs: 0, store: results }, warpClock(MINUTE * 1000 + 25_000));
    expect(lateBy25.latenessMs).toBeGreaterThanOrEqual(25_000);
    expect(lateBy25.latenessMs).toBeLessThan(26_000);
    expect(lateBy25).toMatchObject({ outcome: 'ran', skipped: [MINUTE, MINUTE + 10], written: [MINUTE + 20, MINUTE + 30, MINUTE + 40, MINUTE + 50] });
    expect(requestsSince(before)).toBe(3 * 4);

    const beforeLate = server.requests.length;
    const lateBy70 = await runInvocation({ config: config(), probeRegion: 'eu-west-1', scheduledAt: MINUTE * 1000, clockOffsetMs: 0, store: results }, warpClock(MINUTE * 1000 + 70_000));
    expect(lateBy70).toMatchObject({ outcome: 'late', written: [], skipped: SLOTS });
    expect(requestsSince(beforeLate)).toBe(0);
    expect((await results.readRounds(MINUTE, MINUTE + 50)).filter((r) => r.probeRegion === 'eu-west-1')).toHaveLength(0);
  });

  it('estimates clock skew as the smallest recent offset, so lateness is what is above it', () => {
    const estimator = new ClockOffsetEstimator(3);
    expect(estimator.observe(120_400)).toBe(120_400);
    expect(estimator.observe(145_000)).toBe(120_400);
    expect(estimator.observe(120_100)).toBe(120_100);
    expect(estimator.observe(121_000)).toBe(120_100);
    expect(estimator.observe(122_000)).toBe(120_100);
    expect(estimator.observe(123_000)).toBe(121_000);
  });
});
