import { describe, expect, it } from 'vitest';
import { buildReport } from '../../lambda/core/report';
import { faults, PureRun, T0, testConfig } from './harness';

const MIN = 60;
// The story: day 1 US down 20 min then read-only 62 min; day 2 (a day later) US down 20 min, then an hour of
// fluctuations adding 19 minutes down. EU and APAC healthy.
const DAY2 = 24 * 3600;
const FLUCTUATIONS: [number, number][] = [[3, 3], [10, 4], [19, 2], [27, 4], [37, 2], [45, 2], [52, 2]];
const story = faults({
  us: [
    [0, 20 * MIN, 'down'],
    [20 * MIN, 82 * MIN, 'read-only'],
    [DAY2, DAY2 + 20 * MIN, 'down'],
    ...FLUCTUATIONS.map(([start, length]) => [DAY2 + (20 + start) * MIN, DAY2 + (20 + start + length) * MIN, 'down'] as [number, number, 'down']),
  ],
});

describe('report', () => {
  const run = new PureRun(testConfig(), story).run(-5 * MIN, 100 * MIN).run(DAY2 - 5 * MIN, DAY2 + 110 * MIN);
  const report = buildReport({
    from: new Date((T0 - 3600) * 1000).toISOString(),
    to: new Date((T0 + 2 * DAY2) * 1000).toISOString(),
    regions: run.settings.regions,
    incidents: run.settings.regions.flatMap((r) => run.all(r)),
    maintenance: [],
  });

  it('reproduces the story: 59 minutes down and 62 minutes degraded (read-only) on US, nothing in EU and APAC', () => {
    expect(report.regions.us).toMatchObject({ downMinutes: 59, degradedMinutes: 62, readOnlyMinutes: 62, maintenanceMinutes: 0 });
    expect(report.regions.eu).toMatchObject({ downMinutes: 0, degradedMinutes: 0, incidents: [] });
    expect(report.regions.apac).toMatchObject({ downMinutes: 0, degradedMinutes: 0, incidents: [] });
    expect(report.regions.us?.availability).toBe(Math.round((1 - (59 * 60) / (49 * 3600)) * 10_000) / 10_000);
  });

  it('lists each incident with its minutes, time to detect and time to notify; the fluctuations stay in one incident', () => {
    const incidents = report.regions.us?.incidents ?? [];
    expect(incidents.map((i) => [i.downMinutes, i.degradedMinutes, i.readOnlyMinutes])).toEqual([
      [20, 62, 62],
      [39, 0, 0],
    ]);
    expect(incidents.map((i) => [i.detectSeconds, i.notifySeconds])).toEqual([
      [13, 13],
      [13, 13],
    ]);
    expect(report.notifications).toBe(run.published.filter((n) => n.region !== null).length);
    expect(report.notifications).toBeLessThanOrEqual(12);
  });

  it('clips minutes to the period and counts maintenance without double counting overlaps', () => {
    const clippedReport = buildReport({
      from: new Date((T0 + 10 * MIN) * 1000).toISOString(),
      to: new Date((T0 + 30 * MIN) * 1000).toISOString(),
      regions: ['us'],
      incidents: run.all('us'),
      maintenance: [
        { region: 'us', startMs: (T0 + 25 * MIN) * 1000, endMs: (T0 + 40 * MIN) * 1000 },
        { region: 'us', startMs: (T0 + 28 * MIN) * 1000, endMs: (T0 + 29 * MIN) * 1000 },
        { region: 'eu', startMs: (T0 + 10 * MIN) * 1000, endMs: (T0 + 40 * MIN) * 1000 },
      ],
    });
    expect(clippedReport.regions.us).toMatchObject({ downMinutes: 10, degradedMinutes: 10, readOnlyMinutes: 10, maintenanceMinutes: 5 });
    expect(clippedReport.regions.us?.availability).toBe(Math.round((1 - 600 / (15 * 60)) * 10_000) / 10_000);
  });
});
