// A round fanned out over shards keeps the per-host caps of the whole round: the plan never splits a host, so the
// shards running at once never put more than perHostConcurrency requests in flight on one host (FAULTS row 18).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardPlan, shardTargets } from '../../lambda/config/capacity';
import { hostOf } from '../../lambda/probe/checks/index';
import { runInvocation, type RoundEnqueuer, type SlotClaim } from '../../lambda/probe/invocation';
import { runQueuedRound } from '../../lambda/probe/queued-round';
import { runRound, type RoundData } from '../../lambda/probe/round';
import type { QueuedRound, RoundMessage } from '../../lambda/probe/scheduling';
import { startFaultyServer, type FaultyServer } from '../helpers/servers';
import { realClock, tableLookup, testConfig, warpClock } from './fixtures';

const HOSTS = 4;
const PER_HOST = 12;
let servers: FaultyServer[] = [];
beforeAll(async () => {
  servers = await Promise.all(Array.from({ length: HOSTS }, () => startFaultyServer()));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('a round in shards', () => {
  it('puts each host in one shard, so all shards at once keep perHostConcurrency per host and one request per target', async () => {
    // One server per host, so a server's most in flight is its host's. 8 lanes a shard holding 3 checks each at
    // 2 s expected (the 6 s a 10 s slot counts on): 24 checks a shard; 48 targets, two hosts of 12 to a shard.
    const targets = servers.flatMap((server, h) =>
      Array.from({ length: PER_HOST }, (_, i) => ({ name: `h${h}-t${i}`, type: 'http' as const, url: `http://host${h}.acme.test:${server.port}/slow/100?t=${h}-${i}` })),
    );
    const config = testConfig({ us: targets }, { probing: { concurrency: 8, perHostConcurrency: 4, expectedLatencyMs: 2000 } });
    const plan = shardPlan(config);
    expect(plan.shards).toBe(2);
    const shards = Array.from({ length: plan.shards }, (_, s) => shardTargets(config, s));
    // Every target in exactly one shard, every host in exactly one shard.
    expect(shards.flat().map((t) => t.name).sort()).toEqual(targets.map((t) => t.name).sort());
    const hostShards = new Map<string, Set<number>>();
    shards.forEach((list, s) => list.forEach((t) => hostShards.set(hostOf(t), (hostShards.get(hostOf(t)) ?? new Set()).add(s))));
    expect([...hostShards.values()].map((s) => s.size)).toEqual([1, 1, 1, 1]);

    const lookup = tableLookup(Object.fromEntries(servers.map((_, h) => [`host${h}.acme.test`, ['127.0.0.1']])));
    const deadlineAt = Date.now() + 5000;
    const rounds = await Promise.all(shards.map((list) => runRound({ config, probeRegion: 'us-east-1', slot: 1_764_400_000, deadlineAt, targets: list }, { ...realClock, lookup })));
    expect(rounds.flatMap((r) => r.results).filter((r) => r.status !== 'up')).toEqual([]);
    for (const server of servers) {
      expect(server.requests).toHaveLength(PER_HOST);
      expect(new Set(server.requests.map((r) => r.path)).size).toBe(PER_HOST);
      expect(server.maxInFlight()).toBeLessThanOrEqual(4);
    }
  });
});

describe('the scheduled invocation with rounds in shards', () => {
  // Three hosts (loopback addresses), two targets each; 2 lanes of 3 s expected checks in the 6 s a 10 s slot counts on
  // hold 4 checks a shard: shard 0 us and apac, shard 1 eu.
  const hosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
  let platform: FaultyServer[] = [];
  beforeAll(async () => {
    platform = await Promise.all(hosts.map((host) => startFaultyServer(host)));
  });
  afterAll(async () => {
    await Promise.all(platform.map((s) => s.close()));
  });
  const MINUTE = Date.UTC(2026, 3, 11, 12, 0, 0) / 1000;
  const config = () => {
    const region = (s: FaultyServer | undefined) => [`api`, `web`].map((name) => ({ name, type: 'http' as const, url: `${s?.origin ?? ''}/ok?t=${name}` }));
    return testConfig({ us: region(platform[0]), eu: region(platform[1]), apac: region(platform[2]) }, { probing: { concurrency: 2, expectedLatencyMs: 3000, detection: 'rounds' } });
  };
  const memory = () => {
    const claims = new Set<string>();
    const rounds: RoundData[] = [];
    const claimSlot: SlotClaim = async (p, slot, shard) => !claims.has(`${p}/${slot}/${shard ?? '-'}`) && Boolean(claims.add(`${p}/${slot}/${shard ?? '-'}`));
    return { claims, rounds, claimSlot, store: { writeRound: async (round: RoundData) => void rounds.push(round) } };
  };

  it('runs the shards the queue refused side by side, each behind its claim and writing its own part; a refused shard whose message got through is probed once', async () => {
    const c = config();
    expect(shardPlan(c).shards).toBe(2);
    const { rounds, claimSlot, store } = memory();
    // The queue refuses shard 1 of the first slot and both shards of the second; shard 0 of the second got through
    // after all, and its round invocation claimed it first.
    const refused = (m: RoundMessage) => (m.slot === MINUTE && m.shard === 1) || m.slot === MINUTE + 10;
    const sent: QueuedRound[] = [];
    const enqueue: RoundEnqueuer = async (batch) => {
      sent.push(...batch);
      return { failed: batch.map((q) => q.message).filter(refused) };
    };
    expect(await claimSlot('eu-west-1', MINUTE + 10, 0)).toBe(true);
    const before = platform.map((s) => s.requests.length);
    const summary = await runInvocation(
      { config: c, probeRegion: 'eu-west-1', scheduledAt: MINUTE * 1000, budgetMs: 15_000, store, scheduling: { mode: 'invocation-per-round', enqueue, claimSlot } },
      warpClock(MINUTE * 1000 + 200, 40),
    );
    expect(summary).toMatchObject({ outcome: 'ran', shards: 2, written: [MINUTE, MINUTE + 10], fallback: [MINUTE, MINUTE + 10] });
    // 11 messages: shard 1 of the first slot, both shards of the five later ones.
    expect(sent).toHaveLength(11);
    expect(rounds.map((r) => [r.slot - MINUTE, r.shard, r.shards, [...new Set(r.results.map((x) => x.region))]]).sort()).toEqual([
      [0, 0, 2, ['us', 'apac']],
      [0, 1, 2, ['eu']],
      [10, 1, 2, ['eu']],
    ]);
    // us and apac once (slot 0, shard 0), eu twice (slot 0 and slot 10, shard 1): each host's targets once per slot probed.
    expect(platform.map((s, h) => s.requests.length - (before[h] ?? 0))).toEqual([2, 4, 2]);
  });

  it('drops a shard message too late for its slot, and one the plan no longer has, without probing', async () => {
    const { claimSlot, store } = memory();
    const before = platform.map((s) => s.requests.length);
    const message = (shard: number): RoundMessage => ({ slot: MINUTE + 20, probeRegion: 'eu-west-1', minute: MINUTE, clockOffsetMs: 0, shard });
    // 7.8 s in: the deadline (9 s) less the 1.5 s timeout has passed.
    expect((await runQueuedRound({ config: config(), probeRegion: 'eu-west-1', message: message(1), store, claimSlot }, warpClock((MINUTE + 20) * 1000 + 7_800, 40))).outcome).toBe('late');
    expect((await runQueuedRound({ config: config(), probeRegion: 'eu-west-1', message: message(2), store, claimSlot }, warpClock((MINUTE + 20) * 1000 + 100, 40))).outcome).toBe('stale');
    expect(platform.map((s, h) => s.requests.length - (before[h] ?? 0))).toEqual([0, 0, 0]);
  });
});
