// A round fanned out over shards keeps the per-host caps of the whole round: the plan never splits a host, so the
// shards running at once never put more than perHostConcurrency requests in flight on one host (FAULTS row 18).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardPlan, shardTargets } from '../../lambda/config/capacity';
import { hostOf } from '../../lambda/probe/checks/index';
import { runRound } from '../../lambda/probe/round';
import { startFaultyServer, type FaultyServer } from '../helpers/servers';
import { realClock, tableLookup, testConfig } from './fixtures';

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
    // One server per host, so a server's most in flight is its host's. 8 lanes a shard holding 4 checks each at
    // 2 s expected: 32 checks a shard; 48 targets, two hosts of 12 to a shard.
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
