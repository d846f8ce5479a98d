// The incident reader behind `report`, `incidents` and the status page's history: every incident that overlaps the
// period, however long before it opened, against the real DynamoDB API (DynamoDB Local).
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambda/config/load';
import type { IncidentRecord, TimelineSegment } from '../../lambda/core/lifecycle';
import { IncidentReader } from '../../lambda/local/engines';
import { createIncidentsTable } from '../../lambda/store/create-tables';
import { DynamoIncidentStore } from '../../lambda/store/incident-store';
import { useTestStore } from '../helpers/store';

const store = useTestStore();
const config = parseConfig({
  platform: 'acme', probeRegions: ['us-east-1'], homeRegion: 'us-east-1', defaults: { quorum: 1 },
  regions: { us: { targets: [] }, eu: { targets: [] }, apac: { targets: [] } },
});

const s = (iso: string) => Date.parse(iso) / 1000;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
const DAY = 24 * 3600;
const FROM = s('2026-04-11T00:00:00Z');
const TO = s('2026-04-17T00:00:00Z');

/** An incident whose timeline is `segments`; resolved at the end of the last one plus 30 s unless `open`. */
function incident(region: string, seq: number, openedAt: number, segments: [number, number, TimelineSegment['verdict']][], open = false): IncidentRecord {
  const startedAt = segments[0]?.[0] ?? openedAt;
  const endedAt = segments[segments.length - 1]?.[1] ?? openedAt;
  return {
    incidentId: `${region}-${String(seq).padStart(5, '0')}`, region, seq, status: open ? 'open' : 'resolved', severity: 'down', currentSeverity: 'down',
    openedAt: iso(openedAt), resolvedAt: open ? null : iso(endedAt + 30), startedAt, endedAt: open ? null : endedAt, lastTransitionSlot: endedAt,
    downSeconds: 0, degradedSeconds: 0, readOnlySeconds: 0, maintenanceSeconds: 0, unknownSeconds: 0, flaps: 0,
    timeline: segments.map(([from, to, verdict]) => ({ from, to, verdict, targets: [] })),
    outbox: [], notifications: [], lastPageAt: iso(openedAt), remindersSent: 0, version: 0, updatedAt: iso(endedAt),
  };
}

describe('the incident reader over a period', () => {
  it('counts incidents opened long before the period (open, or resolved inside it) and one opened just after it, clipped; not ones over before it', async () => {
    await createIncidentsTable(store.current.client, 'reader');
    const incidents = new DynamoIncidentStore({ client: store.current.documentClient, tableName: 'reader' });
    const records = [
      // US: an old incident over weeks ago, then one opened 9 days before the period and still open.
      incident('us', 1, s('2026-03-20T00:00:10Z'), [[s('2026-03-20T00:00:00Z'), s('2026-03-20T06:00:00Z'), 'down']]),
      incident('us', 2, FROM - 9 * DAY + 10, [[FROM - 9 * DAY, FROM + 3600, 'down'], [FROM + 3600, TO + DAY, 'degraded']], true),
      // EU: down for 10 days before the period and 90 minutes into it, then resolved.
      incident('eu', 1, FROM - 10 * DAY + 10, [[FROM - 10 * DAY, FROM + 90 * 60, 'down']]),
      // APAC: one over two days before the period, and one that started 2 minutes before its end but was opened after it.
      incident('apac', 1, FROM - 9 * DAY + 10, [[FROM - 9 * DAY, FROM - 2 * DAY, 'down']]),
      incident('apac', 2, TO + 10, [[TO - 120, TO + 300, 'down']], true),
    ];
    for (const r of records) expect(await incidents.putIncident(r, null)).toBe(true);
    const reader = new IncidentReader(incidents, config);

    const listed = await reader.incidentRecordsBetween(FROM * 1000, TO * 1000);
    expect(listed.map((r) => r.incidentId)).toEqual(['eu-00001', 'us-00002', 'apac-00002']);
    expect((await reader.incidentsBetween(FROM * 1000, TO * 1000)).map((i) => i.incidentId)).toEqual(['eu-00001', 'us-00002', 'apac-00002']);

    const report = await reader.report(FROM * 1000, TO * 1000);
    expect(report.regions.us).toMatchObject({ downMinutes: 60, degradedMinutes: 6 * 1440 - 60, availability: 0.9931 });
    expect(report.regions.us?.incidents.map((i) => i.incidentId)).toEqual(['us-00002']);
    expect(report.regions.eu).toMatchObject({ downMinutes: 90, degradedMinutes: 0, availability: 0.9896 });
    expect(report.regions.eu?.incidents).toMatchObject([{ incidentId: 'eu-00001', downMinutes: 90, resolvedAt: iso(FROM + 90 * 60 + 30) }]);
    expect(report.regions.apac).toMatchObject({ downMinutes: 2, incidents: [{ incidentId: 'apac-00002', downMinutes: 2 }] });

    // A period the long incidents do not reach, between US's two: nothing.
    expect(await reader.incidentRecordsBetween(Date.parse('2026-03-25T00:00:00Z'), Date.parse('2026-03-30T00:00:00Z'))).toEqual([]);
    // The status page's recently resolved list: resolved in the last 30 days, though opened more than 30 days ago.
    expect((await reader.recentIncidents((FROM + 25 * DAY) * 1000, 5)).map((i) => i.incidentId)).toEqual(['eu-00001', 'apac-00001']);
  });
});
