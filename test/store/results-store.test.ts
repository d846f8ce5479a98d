import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createResultsTable } from '../../lambda/store/create-tables';
import { ResultsStore, toRoundItems } from '../../lambda/store/results-store';
import type { ProbeResult } from '../../lambda/core/results';
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
    expect(items[0]?.expiresAt).toBe(round.slot + 3600);
    expect(await results.writeRound(round)).toBe(items.length);
    const read = await results.readRounds(round.slot, round.slot);
    expect(read.flatMap((r) => r.results).map((r) => r.target)).toEqual(big.map((r) => r.target));
  });
});
