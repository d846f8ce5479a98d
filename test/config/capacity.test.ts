// Capacity from the config: shards a round needs, per-host feasibility, and the warnings validate and synth print.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capacityWarnings, capacityWindow, shardPlan, shardTargets, targetKey } from '../../lambda/config/capacity';
import { parseConfig } from '../../lambda/config/load';
import { resolveTargets } from '../../lambda/config/resolve';
import { hostOf } from '../../lambda/probe/checks/index';

const ROOT = join(import.meta.dirname, '..', '..');
const example = () => parseConfig(JSON.parse(readFileSync(join(ROOT, 'regionwatch.config.json'), 'utf8')), 'regionwatch.config.json');

/** `n` https targets spread over the three platform regions, `perHost` to a host. */
function platform(n: number, perHost: number, probing: Record<string, unknown> = {}) {
  const regions: Record<string, { targets: unknown[] }> = { us: { targets: [] }, eu: { targets: [] }, apac: { targets: [] } };
  for (let i = 0; i < n; i++) {
    const region = ['us', 'eu', 'apac'][i % 3] ?? 'us';
    regions[region]?.targets.push({ name: `t${i}`, type: 'https', url: `https://h${Math.floor(i / perHost)}.example.com/t${i}` });
  }
  return parseConfig({ platform: 'big', probeRegions: ['us-east-1', 'eu-west-1', 'ap-southeast-1'], homeRegion: 'us-east-1', regions, probing });
}

describe('capacityWindow', () => {
  it('counts the slot less the write margin, the delivery slack and a fifth of the slot as headroom, or the jitter window if longer', () => {
    // 10 s − 1 s − 1 s − 2 s = 6 s; 6000 / 300 = 20 checks a lane; 64 lanes. The default jitter window (500 ms) is
    // inside the headroom.
    expect(capacityWindow(platform(3, 1, { expectedLatencyMs: 300 }))).toEqual({ windowMs: 6000, checksPerLane: 20, checksPerShard: 1280 });
    expect(capacityWindow(platform(3, 1, { expectedLatencyMs: 300, jitterMs: 0 }))).toEqual({ windowMs: 6000, checksPerLane: 20, checksPerShard: 1280 });
    // Starts spread over 3 s: 5 s left.
    expect(capacityWindow(platform(3, 1, { expectedLatencyMs: 300, jitterMs: 3000 }))).toEqual({ windowMs: 5000, checksPerLane: 16, checksPerShard: 1024 });
    // A 5 s slot: 5 s − 1 s − 1 s − 1 s = 2 s.
    expect(capacityWindow(parseConfig({ ...platform(3, 1, { expectedLatencyMs: 500 }), defaults: { ...platform(3, 1).defaults, intervalSeconds: 5 } }))).toEqual({ windowMs: 2000, checksPerLane: 4, checksPerShard: 256 });
  });
});

describe('shardPlan', () => {
  it('keeps the example config in one shard, with the reserved concurrency of one', () => {
    const plan = shardPlan(example());
    // The rounds mapping's 2 for rounds and 2 for confirmations (confirm on failure), and the scheduled run: as before shards.
    expect(plan).toMatchObject({ shards: 1, shardsNeeded: 1, reservedConcurrency: 5, roundsMaxConcurrency: 4 });
    expect(capacityWarnings(example())).toEqual([]);
  });

  it('splits 10,000 targets at 300 ms into the shards they need, whole hosts, evenly, the same every time', () => {
    const config = platform(10_000, 10, { expectedLatencyMs: 300 });
    const plan = shardPlan(config);
    expect(plan.shards).toBe(8); // ceil(10,000 / 1,280)
    // 8 shards and one still writing, and 2 confirmations, on the rounds queue's mapping; the scheduled run beside it.
    expect(plan.roundsMaxConcurrency).toBe(11);
    expect(plan.reservedConcurrency).toBe(12);
    for (const n of plan.checksPerShard) expect(n).toBeLessThanOrEqual(1280);
    expect(plan.checksPerShard.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(Math.max(...plan.checksPerShard) - Math.min(...plan.checksPerShard)).toBeLessThanOrEqual(10);
    // Every host in exactly one shard: its perHostConcurrency holds across the whole round.
    const shardsOfHost = new Map<string, Set<number>>();
    for (const t of resolveTargets(config)) {
      const set = shardsOfHost.get(hostOf(t)) ?? new Set<number>();
      set.add(plan.shardOf.get(targetKey(t)) ?? -1);
      shardsOfHost.set(hostOf(t), set);
    }
    for (const set of shardsOfHost.values()) expect(set.size).toBe(1);
    // The shards partition the targets: each in exactly one.
    const seen = new Set<string>();
    for (let s = 0; s < plan.shards; s++) for (const t of shardTargets(config, s)) seen.add(targetKey(t));
    expect(seen.size).toBe(10_000);
    expect([...shardPlan(platform(10_000, 10, { expectedLatencyMs: 300 })).shardOf]).toEqual([...plan.shardOf]);
    expect(capacityWarnings(config)).toEqual([]);
  });

  it('never plans more shards than probing.maxShards, and says what that costs', () => {
    const config = platform(10_000, 10, { expectedLatencyMs: 300, maxShards: 5 });
    expect(shardPlan(config)).toMatchObject({ shards: 5, shardsNeeded: 8, reservedConcurrency: 9 });
    const warnings = capacityWarnings(config);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.path).toBe('probing.maxShards');
    expect(warnings[0]?.message).toBe(
      'a round of 10000 checks needs 8 shards of 1280 (probing.concurrency 64 × 20 checks of 300 ms in the 6000 ms of each 10 s slot a round counts on (less the write margin, delivery slack and 2000 ms of headroom for slower answers)), but probing.maxShards 5 caps the round at 5 invocations (the prober\'s reserved concurrency 9): 3600 checks a round would be reported as timeout; raise probing.maxShards to 8, or probing.concurrency to 100',
    );
  });

  it('never plans more shards than hosts (a host is never split)', () => {
    expect(shardPlan(platform(3000, 1000, { expectedLatencyMs: 300 })).shards).toBe(3);
  });
});

describe('capacityWarnings: hosts', () => {
  it('names the hosts whose targets do not fit their per-host lanes at the expected latency, with the fix', () => {
    // 8 lanes × 20 checks = 160 per host; 300 targets on one host leave 140 unstarted.
    const warnings = capacityWarnings(platform(300, 300, { expectedLatencyMs: 300 }));
    expect(warnings.map((w) => w.path)).toEqual(['probing.perHostConcurrency']);
    expect(warnings[0]?.message).toContain('host h0.example.com (300 targets, from regions.us.targets[0]) has more targets than 8 checks at a time of 300 ms');
    expect(warnings[0]?.message).toContain('(160 per host): 140 checks a round would be reported as timeout; raise probing.perHostConcurrency to 15');
  });

  it('warns once, naming three hosts and counting the rest, when hosts would not finish at their timeout', () => {
    // 3000 ms timeouts: 8 lanes × 2 = 16 per host; 20 targets a host fit at 300 ms but not at the timeout.
    const warnings = capacityWarnings(platform(200, 20, { expectedLatencyMs: 300 }));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toMatch(/^host h\d+\.example\.com \(20 targets, from regions\.\w+\.targets\[\d+\]\), host .*, host .* and 7 other hosts: if one answers at its timeout \(3000 ms\), 8 checks at a time finish 16 of its targets/);
    expect(warnings[0]?.message).toContain('raise probing.perHostConcurrency to 10, or lower timeoutMs to 2400');
  });

  it('is quiet when the fix is applied', () => {
    expect(capacityWarnings(platform(200, 20, { expectedLatencyMs: 300, perHostConcurrency: 10 }))).toEqual([]);
  });
});
