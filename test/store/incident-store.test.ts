import { afterAll, describe, expect, it } from 'vitest';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { createIncidentsTable } from '../../lambda/store/create-tables';
import { startEmbeddedStore, type EmbeddedStore } from '../../lambda/store/embedded';
import { DynamoIncidentStore, incidentItem, type IncidentStore } from '../../lambda/store/incident-store';
import { MemoryIncidentStore } from '../../lambda/store/memory-incident-store';
import { INCIDENTS_TABLE } from '../../lambda/store/tables';
import type { IncidentRecord, RegionStatusRecord } from '../../lambda/core/lifecycle';
import { useTestStore } from '../helpers/store';

const store = useTestStore();

function incident(region: string, seq: number, status: 'open' | 'resolved', openedAt: string): IncidentRecord {
  return {
    incidentId: `${region}-${String(seq).padStart(5, '0')}`, region, seq, status, severity: 'down', currentSeverity: 'down', openedAt,
    resolvedAt: status === 'resolved' ? openedAt : null, startedAt: 0, endedAt: status === 'resolved' ? 60 : null, lastTransitionSlot: 0,
    downSeconds: 60, degradedSeconds: 0, readOnlySeconds: 0, maintenanceSeconds: 0, unknownSeconds: 0, flaps: 0,
    timeline: [{ from: 0, to: 60, verdict: 'down', targets: [] }], outbox: [], notifications: [], lastPageAt: openedAt, remindersSent: 0, version: 0, updatedAt: openedAt,
  };
}

const status = (region: string): RegionStatusRecord => ({
  region, verdict: 'up', since: '2026-04-14T00:00:00.000Z', evaluatedSlot: 0, openIncidentId: null, summary: `${region} is up`, targets: [],
  probeRegions: { fresh: [], stale: [], impaired: [] }, version: 0, updatedAt: '2026-04-14T00:00:00.000Z',
});

let n = 0;
async function dynamoStore(on: Pick<EmbeddedStore, 'client' | 'documentClient'>): Promise<IncidentStore> {
  const name = `incident-store-${++n}`;
  await createIncidentsTable(on.client, name);
  await createIncidentsTable(on.client, name); // a restart finds it there
  return new DynamoIncidentStore({ client: on.documentClient, tableName: name });
}
// Local mode keeps the same items in its embedded store (dynalite), so the contract holds there too.
let embedded: EmbeddedStore | undefined;
afterAll(async () => {
  await embedded?.close();
});
const stores: [string, () => Promise<IncidentStore>][] = [
  ['DynamoDB Local', () => dynamoStore(store.current)],
  ["local mode's embedded dynalite", async () => dynamoStore((embedded ??= await startEmbeddedStore()))],
  ['memory', async () => new MemoryIncidentStore()],
];

describe.each(stores)('incident store (%s)', (_name, make) => {
  it('writes conditionally on the version: a create loses to an existing item, a stale version loses', async () => {
    const s = await make();
    const a = incident('us', 1, 'open', '2026-04-14T14:00:10.000Z');
    expect(await s.putIncident(a, null)).toBe(true);
    expect(await s.putIncident(a, null)).toBe(false);
    expect(await s.putIncident({ ...a, downSeconds: 70 }, 1)).toBe(true);
    expect(await s.putIncident({ ...a, downSeconds: 80 }, 1)).toBe(false);
    expect(await s.getIncident('us', 1)).toMatchObject({ version: 2, downSeconds: 70 });
  });

  it('reads a region in one go: its status and its two newest incidents, newest first', async () => {
    const s = await make();
    for (let seq = 1; seq <= 3; seq++) await s.putIncident(incident('us', seq, seq === 3 ? 'open' : 'resolved', `2026-04-1${seq}T00:00:00.000Z`), null);
    await s.putIncident(incident('eu', 1, 'open', '2026-04-12T00:00:00.000Z'), null);
    await s.putStatus(status('us'), null);
    const state = await s.readRegion('us');
    expect(state.status).toMatchObject({ region: 'us', version: 1 });
    expect(state.incidents.map((i) => i.seq)).toEqual([3, 2]);
    expect(state.incidents[0]).not.toHaveProperty('pk');
  });

  it('answers "all open incidents" and "incidents of a region between T1 and T2" from the indexes', async () => {
    const s = await make();
    await s.putIncident(incident('us', 1, 'resolved', '2026-04-11T00:00:00.000Z'), null);
    await s.putIncident(incident('us', 2, 'open', '2026-04-15T00:00:00.000Z'), null);
    await s.putIncident(incident('eu', 1, 'open', '2026-04-16T00:00:00.000Z'), null);
    expect((await s.openIncidents()).map((i) => i.incidentId)).toEqual(['us-00002', 'eu-00001']);
    expect((await s.regionIncidents('us', '2026-04-10T00:00:00Z', '2026-04-14T00:00:00Z')).map((i) => i.incidentId)).toEqual(['us-00001']);
    // Resolving removes it from the open index.
    await s.putIncident(incident('us', 2, 'resolved', '2026-04-15T00:00:00.000Z'), 1);
    expect((await s.openIncidents()).map((i) => i.incidentId)).toEqual(['eu-00001']);
  });

  it('answers "the newest incident of a region opened before T" from the region index, however long before', async () => {
    const s = await make();
    await s.putIncident(incident('us', 1, 'resolved', '2026-03-01T00:00:00.000Z'), null);
    await s.putIncident(incident('us', 2, 'open', '2026-03-20T00:00:00.000Z'), null);
    await s.putIncident(incident('eu', 1, 'resolved', '2026-04-10T00:00:00.000Z'), null);
    expect((await s.regionIncidentBefore('us', '2026-04-11T00:00:00.000Z'))?.incidentId).toBe('us-00002');
    expect((await s.regionIncidentBefore('us', '2026-03-20T00:00:00.000Z'))?.incidentId).toBe('us-00001');
    expect(await s.regionIncidentBefore('us', '2026-03-01T00:00:00.000Z')).toBeNull();
    expect(await s.regionIncidentBefore('apac', '2026-04-11T00:00:00.000Z')).toBeNull();
    expect(await s.regionIncidentBefore('us', '2026-04-11T00:00:00.000Z')).not.toHaveProperty('pk');
  });
});

describe('incident items', () => {
  it('carry the index attributes, openKey only while open', () => {
    const open = incidentItem(incident('us', 7, 'open', '2026-04-14T14:00:10.000Z'), 3);
    expect(open).toMatchObject({ pk: 'region#us', sk: 'incident#00007', kind: 'incident', incidentRegion: 'us', openedAt: '2026-04-14T14:00:10.000Z', openKey: 'open', version: 3 });
    expect(incidentItem(incident('us', 7, 'resolved', '2026-04-14T14:00:10.000Z'), 4)).not.toHaveProperty('openKey');
  });

  it('the embedded table mirrors INCIDENTS_TABLE', async () => {
    await createIncidentsTable(store.current.client, 'incidents-shape');
    const { Table } = await store.current.client.send(new DescribeTableCommand({ TableName: 'incidents-shape' }));
    expect(Table?.KeySchema?.map((k) => k.AttributeName)).toEqual([INCIDENTS_TABLE.partitionKey, INCIDENTS_TABLE.sortKey]);
    expect(Table?.GlobalSecondaryIndexes?.map((g) => [g.IndexName, g.KeySchema?.map((k) => k.AttributeName)]).sort()).toEqual([
      ['open-incidents', ['openKey', 'openedAt']],
      ['region-incidents', ['incidentRegion', 'openedAt']],
    ]);
  });
});
