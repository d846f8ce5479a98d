// The aggregator at scale on DynamoDB Local: 10,000 targets × 3 probe regions, all of them failing at once. Sizes and
// call counts are asserted, never times (those are in npm run bench).
import { describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { parseConfig } from '../../lambda/config/load';
import type { RegionwatchConfig } from '../../lambda/config/schema';
import { AggregatorEngine } from '../../lambda/aggregator/engine';
import type { ProbeResult, RoundRecord } from '../../lambda/core/results';
import { dynamoItemBytes } from '../../lambda/cost/model';
import { createIncidentsTable, createResultsTable } from '../../lambda/store/create-tables';
import { DynamoIncidentStore, ITEM_KEYS } from '../../lambda/store/incident-store';
import { ResultsStore } from '../../lambda/store/results-store';
import { useTestStore } from '../helpers/store';
import { RecordingPublisher, VirtualClock } from './rig';
import { T0 } from '../core/harness';

const store = useTestStore();
const PROBES = ['us-east-1', 'eu-west-1', 'ap-southeast-1'];
const N = 10_000;
/** DynamoDB's item limit: 400 KB, names and values. */
const ITEM_LIMIT = 400 * 1024;

/** 10,000 https targets in three platform regions, ten to a host. */
function bigConfig(): RegionwatchConfig {
  const regions: Record<string, { targets: unknown[] }> = { us: { targets: [] }, eu: { targets: [] }, apac: { targets: [] } };
  for (let n = 0; n < N; n++) {
    const region = ['us', 'eu', 'apac'][n % 3] ?? 'us';
    regions[region]?.targets.push({ name: `t${n}`, type: 'https', url: `https://h${Math.floor(n / 10)}.${region}.example/t${n}` });
  }
  return parseConfig({ platform: 'big', probeRegions: PROBES, homeRegion: 'us-east-1', regions, probing: { expectedLatencyMs: 300 } });
}

/** One shard of a probe region's round: every target of the shard up, or down with a long detail from `fromSlot` on. */
function shardRound(config: RegionwatchConfig, probeRegion: string, slot: number, shard: number, shards: number, down: boolean): RoundRecord {
  const results: ProbeResult[] = [];
  let n = 0;
  for (const [region, { targets }] of Object.entries(config.regions)) {
    for (const t of targets) {
      if (n++ % shards !== shard) continue;
      results.push(
        down
          ? { region, target: t.name, role: 'read', status: 'down', errorClass: 'status', statusCode: 503, detail: `status 503 from https://${region}.example/${t.name}: service unavailable, retry later`, latencyMs: 40 + (n % 300) }
          : { region, target: t.name, role: 'read', status: 'up', statusCode: 200, latencyMs: 40 + (n % 300) },
      );
    }
  }
  return { probeRegion, slot, intervalSeconds: 10, startedAt: slot * 1000 + shard, finishedAt: slot * 1000 + 6000, part: 0, parts: 1, shard, shards, results };
}

describe('aggregator at 10,000 targets × 3 probe regions on DynamoDB Local', () => {
  it('opens one incident per region with every target down, every item under 400 KB, a bounded number of calls', { timeout: 120_000 }, async () => {
    const config = bigConfig();
    await createResultsTable(store.current.client, 'results-scale');
    await createIncidentsTable(store.current.client, 'incidents-scale');
    let calls = 0;
    const commands = new Map<string, number>();
    store.current.documentClient.middlewareStack.add(
      (next, context) => async (args) => {
        calls++;
        commands.set(context.commandName ?? '?', (commands.get(context.commandName ?? '?') ?? 0) + 1);
        return next(args);
      },
      { step: 'initialize', name: 'countScaleCalls' },
    );
    const results = new ResultsStore({ client: store.current.documentClient, tableName: 'results-scale', retentionHours: 48 });
    const incidents = new DynamoIncidentStore({ client: store.current.documentClient, tableName: 'incidents-scale' });
    const clock = new VirtualClock(T0 * 1000);
    const publisher = new RecordingPublisher();
    const engine = new AggregatorEngine({ config, probeRegion: 'us-east-1', rounds: results, incidents, publisher, clock, sleep: async () => {} });
    const SHARDS = 4;
    const slots = 6;
    const perRun: number[] = [];
    for (let k = 0; k < slots; k++) {
      const slot = T0 + k * 10;
      // Everything down from the fourth slot on (failure threshold 2): opened at the fifth.
      for (const p of PROBES) for (let s = 0; s < SHARDS; s++) await results.writeRound(shardRound(config, p, slot, s, SHARDS, k >= 3));
      clock.ms = (slot + 8) * 1000;
      calls = 0;
      await engine.run();
      perRun.push(calls);
    }
    // Every run: the lease, the window (a page per 1 MB), per region its read and what changed, the checker.
    const queryPages = commands.get('QueryCommand') ?? 0;
    expect(Math.max(...perRun)).toBeLessThanOrEqual(7 + 5 * 3 + Math.ceil(queryPages / slots) + 3);
    // Every run reads the whole window again, but each item is unpacked once: only the new slot's items are new.
    expect(results.unpackedItems).toBe(slots * PROBES.length * SHARDS);

    expect(publisher.sent.map((n) => `${n.event}:${n.region}:${n.severity}`).sort()).toEqual(['opened:apac:down', 'opened:eu:down', 'opened:us:down']);
    const us = publisher.sent.find((n) => n.region === 'us');
    // The page names the worst four and counts the rest (3,334 us targets all down from 3/3).
    expect(us?.subject).toMatch(/^\[DOWN\] us is down: t\d+, t\d+, t\d+, t\d+ and 3330 more failing from 3\/3 probe regions$/);
    expect(us?.evidence.targets).toHaveLength(20);
    expect(us?.evidence.moreTargets).toBe(3314);

    const state = await incidents.readRegion('us');
    expect(state.status?.summary).toContain('and 3330 more failing from 3/3 probe regions');
    expect(state.status?.targets).toHaveLength(10);
    expect(state.status?.moreTargets).toBe(3324);
    // The items as DynamoDB holds them, sized as DynamoDB counts them.
    const incident = state.incidents[0];
    expect(incident?.status).toBe('open');
    const stored = await store.current.documentClient.send(new GetCommand({ TableName: 'incidents-scale', Key: { pk: ITEM_KEYS.regionPartition('us'), sk: ITEM_KEYS.incidentSort(incident?.seq ?? 0) } }));
    const statusItem = await store.current.documentClient.send(new GetCommand({ TableName: 'incidents-scale', Key: { pk: ITEM_KEYS.regionPartition('us'), sk: ITEM_KEYS.statusSort } }));
    for (const item of [stored.Item, statusItem.Item]) {
      expect(item).toBeDefined();
      expect(dynamoItemBytes(item ?? {})).toBeLessThan(ITEM_LIMIT / 10);
    }
  });
});
