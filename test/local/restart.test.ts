import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { day1, harness, readNotifications, tempDir, type Harness } from './harness';

describe('local mode restarted in the middle of an open incident', () => {
  let h: Harness;
  const data = tempDir('regionwatch-restart-');
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(async () => {
    await h.close();
    data.remove();
  });

  it('continues the same incident: nothing lost, no duplicate page', async () => {
    // First run: 13:57 to 14:06, US down since 14:00, so the incident is open and paged when it stops.
    const first = await h.start(data.path, day1(h.script, -3));
    await first.run({ fromMs: day1(h.script, -3), untilMs: day1(h.script, 6), catchUp: 'replay' });
    const before = await first.engines.reader.openIncidentRecords();
    await first.close();
    expect(before.map((i) => [i.region, i.currentSeverity])).toEqual([['us', 'down']]);
    const opened = readNotifications(data.path);
    expect(opened.map((n) => [n.region, n.event, n.severity])).toEqual([['us', 'opened', 'down']]);

    // Restart over the same directory, the clock going on from where it stopped, through the failover to read-only.
    const second = await h.start(data.path, day1(h.script, 6));
    await second.run({ fromMs: day1(h.script, 6), untilMs: day1(h.script, 25), catchUp: 'replay' });
    const after = await second.engines.reader.openIncidentRecords();
    const history = await second.engines.reader.incidentRecordsBetween(day1(h.script, -60), day1(h.script, 60));
    await second.close();

    expect(after).toHaveLength(1);
    const incident = after[0];
    expect(incident?.incidentId).toBe(before[0]?.incidentId);
    expect(incident?.currentSeverity).toBe('read-only');
    // The timeline still starts at the outage and covers the restart without a gap: 20 minutes down so far.
    expect(incident?.timeline[0]?.from).toBe(day1(h.script, 0) / 1000);
    expect(incident?.downSeconds).toBe(20 * 60);
    expect(history.map((i) => i.incidentId)).toEqual([incident?.incidentId]);

    const all = readNotifications(data.path);
    expect(all.map((n) => [n.region, n.event, n.severity])).toEqual([
      ['us', 'opened', 'down'],
      ['us', 'deescalated', 'read-only'],
    ]);
    expect(new Set(all.map((n) => n.dedupKey)).size).toBe(all.length);
    expect(h.lines.filter((l) => l.includes(' opened'))).toHaveLength(1);
  });

  it('has had every probe region send its own x-regionwatch-probe-region header, once per target per slot', () => {
    const counts = h.platform.requestCounts();
    const perProbeRegion = ['us-east-1', 'eu-west-1', 'ap-southeast-1'].map((p) => counts.get(`eu /health ${p}`) ?? 0);
    // 13:57 to 14:25 is 168 slots of 10 s.
    expect(perProbeRegion).toEqual([168, 168, 168]);
    expect(counts.get('eu /health -')).toBeUndefined();
  });
});
