import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createResultsTable } from '../../lambda/store/create-tables';
import { ResultsStore, fromRoundItem, packResults, toRoundItems, unpackResults } from '../../lambda/store/results-store';
import { parseConfig } from '../../lambda/config/load';
import { resolveTargets } from '../../lambda/config/resolve';
import { dynamoItemBytes, syntheticResult, withTargetCount } from '../../lambda/cost/model';
import type { ProbeResult } from '../../lambda/core/results';
import { RING_TTL_MARGIN_SECONDS, legacyRoundSortKeyRange } from '../../lambda/store/tables';
import { useTestStore } from '../helpers/store';

const store = useTestStore();

function result(target: string, status: ProbeResult['status'] = 'up'): ProbeResult {
  return { region: 'us', target, role: 'read', status, latencyMs: 42, statusCode: status === 'up' ? 200 : 503 };
}

describe('ResultsStore against DynamoDB Local', () => {
  it('writes one item per probe region and slot, and a rewrite of the same round leaves one copy', async () => {
    await createResultsTable(store.current.client, 'results-a');
    const results = new ResultsStore({ client: store.current.documentClient, tableName: 'results-a', retentionHours: 48 });
    const round = { probeRegion: 'eu-west-1', slot: 1_764_400_000, intervalSeconds: 10, startedAt: 1_764_400_000_100, finishedAt: 1_764_400_000_900, results: [result('api'), result('db', 'down')] };
    expect(await results.writeRound(round)).toBe(1);
    expect(await results.writeRound(round)).toBe(1);
    await results.writeRound({ ...round, probeRegion: 'us-east-1' });
    await results.writeRound({ ...round, slot: round.slot + 10 });

    const read = await results.readRounds(round.slot, round.slot);
    expect(read.map((r) => r.probeRegion).sort()).toEqual(['eu-west-1', 'us-east-1']);
    expect(read[0]?.results).toEqual(round.results);
    expect(await results.readRounds(round.slot, round.slot + 10)).toHaveLength(3);
  });

  it('splits a round that would pass the item size limit, and reads it back whole', async () => {
    await createResultsTable(store.current.client, 'results-b');
    const results = new ResultsStore({ client: store.current.documentClient, tableName: 'results-b', retentionHours: 1 });
    // Incompressible evidence makes the packed round larger than one item may be.
    const big = Array.from({ length: 600 }, (_, i) => ({ ...result(`t${i}`), detail: randomBytes(700).toString('base64') }));
    const round = { probeRegion: 'ap-southeast-1', slot: 1_764_400_020, intervalSeconds: 10, startedAt: 1, finishedAt: 2, results: big };
    const items = toRoundItems(round, 1);
    expect(items.length).toBeGreaterThan(1);
    expect(items.every((i) => i.results.byteLength < 350 * 1024)).toBe(true);
    // The retention, and a margin in which the round of the same ring position an hour later overwrites it first.
    expect(items[0]?.expiresAt).toBe(round.slot + 3600 + RING_TTL_MARGIN_SECONDS);
    expect(await results.writeRound(round)).toBe(items.length);
    const read = await results.readRounds(round.slot, round.slot);
    expect(read.flatMap((r) => r.results).map((r) => r.target)).toEqual(big.map((r) => r.target));
  });
});

describe('confirmation items', () => {
  it('sit beside the rounds of their slot: one Query reads both, a redelivered request rewrites its own item, each request its own', async () => {
    await createResultsTable(store.current.client, 'results-c');
    const results = new ResultsStore({ client: store.current.documentClient, tableName: 'results-c', retentionHours: 48 });
    const slot = 1_764_400_030;
    const round = { probeRegion: 'eu-west-1', slot, intervalSeconds: 10, startedAt: slot * 1000 + 3333, finishedAt: slot * 1000 + 3900, results: [result('api'), result('db', 'down')] };
    const confirmation = { probeRegion: 'eu-west-1', slot, intervalSeconds: 10, startedAt: slot * 1000 + 7100, finishedAt: slot * 1000 + 7200, results: [{ ...result('db', 'down'), at: slot * 1000 + 7100 }], kind: 'confirmation' as const, batch: `us-east-1/${slot}/0` };
    await results.writeRound(round);
    await results.writeRound(confirmation);
    await results.writeRound(confirmation);
    await results.writeRound({ ...confirmation, batch: `ap-southeast-1/${slot}/0`, startedAt: confirmation.startedAt + 500 });
    const read = await results.readRounds(slot, slot);
    expect(read.map((r) => [r.kind ?? 'round', r.batch ?? '-'])).toEqual([
      ['round', '-'],
      ['confirmation', `ap-southeast-1/${slot}/0`],
      ['confirmation', `us-east-1/${slot}/0`],
    ]);
    expect(read.find((r) => r.batch === `us-east-1/${slot}/0`)?.results).toEqual(confirmation.results);
    const item = toRoundItems(confirmation, 48)[0];
    expect(item).toMatchObject({ kind: 'confirmation', batch: `us-east-1/${slot}/0`, sk: `ring#${String(slot % (48 * 3600)).padStart(7, '0')}#eu-west-1#confirm:us-east-1/${slot}/0#000` });
  });

  it('newestChecks gives a probe region its own newest check of each target over the slots asked for: rounds and confirmations, newest first', async () => {
    await createResultsTable(store.current.client, 'results-d');
    const results = new ResultsStore({ client: store.current.documentClient, tableName: 'results-d', retentionHours: 48 });
    const slot = 1_764_400_040;
    await results.writeRound({ probeRegion: 'eu-west-1', slot: slot - 10, intervalSeconds: 10, startedAt: (slot - 10) * 1000, finishedAt: 0, results: [result('api'), result('db')] });
    await results.writeRound({ probeRegion: 'eu-west-1', slot, intervalSeconds: 10, startedAt: slot * 1000 + 900, finishedAt: 0, results: [{ ...result('db', 'down'), at: slot * 1000 + 900 }], kind: 'confirmation', batch: 'us-east-1/x/0' });
    // Another probe region's checks are not this one's.
    await results.writeRound({ probeRegion: 'us-east-1', slot, intervalSeconds: 10, startedAt: slot * 1000, finishedAt: 0, results: [result('api', 'down')] });
    expect(Object.fromEntries(await results.newestChecks('eu-west-1', [slot - 10, slot]))).toEqual({ 'us/api': 'up', 'us/db': 'down' });
    expect(Object.fromEntries(await results.newestChecks('eu-west-1', [slot - 30]))).toEqual({});
    // Only checks that started before the asking round's first check: its own round, written first, is not its past.
    await results.writeRound({ probeRegion: 'eu-west-1', slot, intervalSeconds: 10, startedAt: slot * 1000 + 3000, finishedAt: 0, results: [{ ...result('api', 'down'), at: slot * 1000 + 3000 }] });
    expect(Object.fromEntries(await results.newestChecks('eu-west-1', [slot - 10, slot], slot * 1000 + 3000))).toEqual({ 'us/api': 'up', 'us/db': 'down' });
    expect(Object.fromEntries(await results.newestChecks('eu-west-1', [slot - 10, slot], slot * 1000 + 900))).toEqual({ 'us/api': 'up', 'us/db': 'up' });
  });

  it('newestChecks reads only the slots asked for on the ring: not what a retention ago left at the same position, and also the layout before the ring', async () => {
    await createResultsTable(store.current.client, 'results-e');
    // A 1-hour retention: a ring of 3,600 positions.
    const results = new ResultsStore({ client: store.current.documentClient, tableName: 'results-e', retentionHours: 1 });
    const slot = 1_764_396_000 + 40;
    await results.writeRound({ probeRegion: 'eu-west-1', slot: slot - 3600, intervalSeconds: 10, startedAt: (slot - 3600) * 1000, finishedAt: 0, results: [result('api', 'down')], kind: 'confirmation', batch: 'us-east-1/old/0' });
    await results.writeRound({ probeRegion: 'eu-west-1', slot, intervalSeconds: 10, startedAt: slot * 1000, finishedAt: 0, results: [result('db')] });
    expect(Object.fromEntries(await results.newestChecks('eu-west-1', [slot]))).toEqual({ 'us/db': 'up' });
    const [item] = toRoundItems({ probeRegion: 'eu-west-1', slot: slot - 10, intervalSeconds: 10, startedAt: (slot - 10) * 1000, finishedAt: 0, results: [result('api')] }, 1);
    const [low] = legacyRoundSortKeyRange(slot - 10, slot - 10);
    await store.current.documentClient.send(new PutCommand({ TableName: 'results-e', Item: { ...item, sk: `${low}eu-west-1#000` } }));
    expect(Object.fromEntries(await results.newestChecks('eu-west-1', [slot - 10, slot]))).toEqual({ 'us/api': 'up', 'us/db': 'up' });
  });
});

describe('the ring: a round overwrites the one of a retention ago, so nothing is left for TTL to delete (and replicate)', () => {
  // A 1-hour retention: a ring of 3,600 positions. 1_764_396_000 is a multiple of 3,600, position 0.
  const base = 1_764_396_000;
  const round = (slot: number, probeRegion = 'eu-west-1', target = 'api') => ({ probeRegion, slot, intervalSeconds: 10, startedAt: slot * 1000 + 5, finishedAt: slot * 1000 + 900, results: [result(target)] });
  const everyItem = async (table: string) => (await store.current.documentClient.send(new ScanCommand({ TableName: table }))).Items ?? [];

  it('writes a round over the same probe region\'s round of one retention ago, and reads only the window\'s slots', async () => {
    await createResultsTable(store.current.client, 'ring-a');
    const results = new ResultsStore({ client: store.current.documentClient, tableName: 'ring-a', retentionHours: 1 });
    await results.writeRound(round(base + 100, 'eu-west-1', 'old'));
    await results.writeRound(round(base + 100, 'us-east-1', 'old'));
    await results.writeRound(round(base + 110, 'eu-west-1', 'missed-next-time'));
    await results.writeRound(round(base + 3600 + 100, 'eu-west-1', 'new'));
    // Overwritten in place: still three items, the eu-west-1 one at position 100 now the new round.
    const items = await everyItem('ring-a');
    expect(items).toHaveLength(3);
    expect(items.map((i) => Number(i.slot)).sort()).toEqual([base + 100, base + 110, base + 3700]);
    // A window of the new hour sees the new round, not the us-east-1 and eu-west-1 rounds of an hour ago still on the ring.
    const read = await results.readRounds(base + 3600 + 100, base + 3600 + 110);
    expect(read.map((r) => [r.slot, r.probeRegion, r.results[0]?.target])).toEqual([[base + 3700, 'eu-west-1', 'new']]);
    expect((await results.readRounds(base + 100, base + 110)).map((r) => [r.slot, r.probeRegion]).sort()).toEqual([
      [base + 100, 'us-east-1'],
      [base + 110, 'eu-west-1'],
    ]);
  });

  it('reads a window that wraps around the ring whole, in two key ranges', async () => {
    await createResultsTable(store.current.client, 'ring-b');
    const results = new ResultsStore({ client: store.current.documentClient, tableName: 'ring-b', retentionHours: 1 });
    for (const slot of [base + 3580, base + 3590, base + 3600, base + 3610]) await results.writeRound(round(slot));
    expect((await results.readRounds(base + 3580, base + 3610)).map((r) => r.slot)).toEqual([base + 3580, base + 3590, base + 3600, base + 3610]);
    // As long as the retention: the whole ring, still only the window's slots.
    expect((await results.readRounds(base + 3590, base + 3590 + 3600)).map((r) => r.slot)).toEqual([base + 3590, base + 3600, base + 3610]);
  });

  it('still reads rounds written before the ring (slot-first keys), so a window spans the upgrade', async () => {
    await createResultsTable(store.current.client, 'ring-c');
    const results = new ResultsStore({ client: store.current.documentClient, tableName: 'ring-c', retentionHours: 48 });
    const [item] = toRoundItems(round(base + 20, 'ap-southeast-1', 'before'), 48);
    const [low] = legacyRoundSortKeyRange(base + 20, base + 20);
    await store.current.documentClient.send(new PutCommand({ TableName: 'ring-c', Item: { ...item, sk: `${low}ap-southeast-1#000` } }));
    await results.writeRound(round(base + 30, 'ap-southeast-1', 'after'));
    expect((await results.readRounds(base + 20, base + 30)).map((r) => r.results[0]?.target).sort()).toEqual(['after', 'before']);
  });
});

describe('packing', () => {
  const fifty = () => {
    const example = parseConfig(JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'regionwatch.config.json'), 'utf8')), 'regionwatch.config.json');
    return resolveTargets(withTargetCount(example, 50)).map((t, i) => syntheticResult(t, i * 131 + 1));
  };

  it('keeps a 50-target round item under 1 KB: one write unit, not the two gzip needed', () => {
    const results = fifty();
    const [item] = toRoundItems({ probeRegion: 'ap-southeast-1', slot: 1_775_000_000, intervalSeconds: 10, startedAt: 1_775_000_000_003, finishedAt: 1_775_000_001_234, results }, 48);
    expect(item).toBeDefined();
    const bytes = dynamoItemBytes(item as unknown as Record<string, unknown>);
    expect(bytes).toBeLessThanOrEqual(1024);
    // The same item with gzip'd results, as it was: past 1 KB, two write units.
    expect(bytes - (item?.results.byteLength ?? 0) + gzipSync(JSON.stringify(results)).byteLength).toBeGreaterThan(1024);
    expect(unpackResults(packResults(results))).toEqual(results);
  });

  it('reads round items written gzip-packed before, so a window across the upgrade reads whole', () => {
    const results = fifty().slice(0, 3);
    const [item] = toRoundItems({ probeRegion: 'us-east-1', slot: 1_775_000_010, intervalSeconds: 10, startedAt: 1, finishedAt: 2, results }, 48);
    expect(fromRoundItem({ ...item, results: gzipSync(JSON.stringify(results)) }).results).toEqual(results);
  });
});

describe('a round that fans out over shards', () => {
  it('keeps one item per shard, each read back with its shard, and a retried shard replaces only itself', async () => {
    await createResultsTable(store.current.client, 'results-shards');
    const results = new ResultsStore({ client: store.current.documentClient, tableName: 'results-shards', retentionHours: 1 });
    const slot = 1_764_400_040;
    const shard = (n: number, startedAt: number) => ({ probeRegion: 'eu-west-1', slot, intervalSeconds: 10, startedAt, finishedAt: startedAt + 5, shard: n, shards: 3, results: [result(`t${n}`)] });
    for (let n = 0; n < 3; n++) await results.writeRound(shard(n, slot * 1000 + n));
    // Shard 1 again, started later (a retried invocation): its own item is replaced, the others' runs still count.
    await results.writeRound(shard(1, slot * 1000 + 900));
    // On the ring of the 1 h retention: 1,764,400,040 mod 3,600 = 440.
    expect(toRoundItems(shard(2, 0), 1).map((i) => i.sk)).toEqual(['ring#0000440#eu-west-1#s002#000']);
    const read = await results.readRounds(slot, slot);
    expect(read.map((r) => [r.shard, r.shards, r.startedAt - slot * 1000, r.results[0]?.target])).toEqual([
      [0, 3, 0, 't0'],
      [1, 3, 900, 't1'],
      [2, 3, 2, 't2'],
    ]);
    // An unsharded round keeps the key it always had, and no shard attributes.
    const single = toRoundItems({ ...shard(0, 1), shards: 1 }, 1)[0];
    expect(single?.sk).toBe('ring#0000440#eu-west-1#000');
    expect(single).not.toHaveProperty('shards');
  });
});
