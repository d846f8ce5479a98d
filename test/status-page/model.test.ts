import { describe, expect, it } from 'vitest';
import type { IncidentRecord } from '../../lambda/core/lifecycle';
import { buildReport } from '../../lambda/core/report';
import type { ProbeResult } from '../../lambda/core/results';
import { formatIncident } from '../../lambda/local/format';
import { probeViewOf } from '../../lambda/core/evaluate';
import { buildHistory } from '../../lambda/status-page/history';
import { foldedSummary, renderStatusFragment } from '../../lambda/status-page/html';
import type { IncidentView } from '../../lambda/status-page/model';
import { incidentView } from '../../lambda/status-page/views';

const result = (target: string, role: 'read' | 'write-probe', status: ProbeResult['status'], extra: Partial<ProbeResult> = {}): ProbeResult => ({
  region: 'us',
  target,
  role,
  status,
  latencyMs: 3,
  ...extra,
});

describe("who sees what: one probe region's view of one platform region", () => {
  it('says read-only when only the write probe is refused, down when a read fails', () => {
    expect(probeViewOf([result('api', 'read', 'up'), result('write-path', 'write-probe', 'down', { statusCode: 503, errorClass: 'status' })])).toEqual({
      status: 'read-only',
      failing: ['write-path'],
      detail: 'write-path · 503 · status',
    });
    expect(probeViewOf([result('api', 'read', 'down', { errorClass: 'reset' }), result('write-path', 'write-probe', 'down')]).status).toBe('down');
    expect(probeViewOf([result('api', 'read', 'degraded'), result('write-path', 'write-probe', 'up')]).status).toBe('degraded');
    expect(probeViewOf([]).status).toBe('none');
    const many = Array.from({ length: 13 }, (_, n) => result(`t${n}`, 'read', 'down'));
    expect(probeViewOf(many)).toMatchObject({ status: 'down', moreFailing: 3 });
    expect(probeViewOf(many).failing).toHaveLength(10);
  });

  it('does not count our own refusals as failing: the view judges what was probed and names the refused target', () => {
    const refused = result('internal', 'read', 'down', { errorClass: 'blocked-address', detail: 'refused to connect to a loopback address: set probing.allowPrivateAddresses to true to probe it' });
    expect(probeViewOf([result('api', 'read', 'up'), refused])).toEqual({
      status: 'up',
      failing: [],
      detail: 'not probed: internal · blocked-address · refused to connect to a loopback address: set probing.allowPrivateAddresses to true to probe it',
    });
    // A failure of what was probed comes first; the refused one is still not counted.
    expect(probeViewOf([result('api', 'read', 'down', { statusCode: 503, errorClass: 'status' }), refused])).toEqual({ status: 'down', failing: ['api'], detail: 'api · 503 · status' });
    expect(probeViewOf([refused])).toEqual({
      status: 'unknown',
      failing: [],
      detail: 'not probed: internal · blocked-address · refused to connect to a loopback address: set probing.allowPrivateAddresses to true to probe it',
    });
  });
});

describe('history bars', () => {
  const H = 3600_000;
  const t0 = Date.parse('2026-04-14T00:00:00Z');
  const incident: IncidentView = {
    incidentId: 'us-00001',
    region: 'us',
    status: 'resolved',
    severity: 'down',
    openedAt: new Date(t0 + 2 * H).toISOString(),
    resolvedAt: new Date(t0 + 3 * H).toISOString(),
    downMinutes: 30,
    degradedMinutes: 30,
    readOnlyMinutes: 30,
    timeline: [
      { verdict: 'down', from: new Date(t0 + 2 * H).toISOString(), to: new Date(t0 + 2.5 * H).toISOString() },
      { verdict: 'read-only', from: new Date(t0 + 2.5 * H).toISOString(), to: new Date(t0 + 3 * H).toISOString() },
    ],
    notifications: [],
  };

  it('colour each bar by its worst verdict, leave unwatched time without data, and count uptime over watched time', () => {
    const history = buildHistory([incident], ['us', 'eu'], {
      fromMs: t0,
      toMs: t0 + 6 * H,
      bars: 6,
      nowMs: t0 + 6 * H,
      observed: [{ fromMs: t0 + H, toMs: t0 + 4 * H }],
    });
    expect(history.bucketMinutes).toBe(60);
    expect(history.regions[0]?.bars.map((b) => b.worst)).toEqual(['no-data', 'up', 'down', 'up', 'no-data', 'no-data']);
    expect(history.regions[0]?.bars[2]).toMatchObject({ downMinutes: 30, degradedMinutes: 30 });
    expect(history.regions[0]?.uptime).toBeCloseTo(1 - 0.5 / 3, 6);
    expect(history.regions[1]?.bars.map((b) => b.worst)).toEqual(['no-data', 'up', 'up', 'up', 'no-data', 'no-data']);
    expect(history.regions[1]?.uptime).toBe(1);
  });
});

describe('a summary segment (older segments folded) on the status page and in the text views', () => {
  const H = 3600;
  const t10 = Date.parse('2026-04-14T10:00:00Z') / 1000;
  // 10:00 → 14:00 folded: 37 flaps, 1h 02m down and 2h 58m up; then down 14:00 → 14:30, still open.
  const record: IncidentRecord = {
    incidentId: 'us-00007',
    region: 'us',
    seq: 7,
    status: 'open',
    severity: 'down',
    currentSeverity: 'down',
    openedAt: '2026-04-14T10:00:00Z',
    resolvedAt: null,
    startedAt: t10,
    endedAt: null,
    lastTransitionSlot: t10 + 4.5 * H,
    downSeconds: 3720 + 1800,
    degradedSeconds: 0,
    readOnlySeconds: 0,
    maintenanceSeconds: 0,
    unknownSeconds: 0,
    flaps: 38,
    timeline: [
      { from: t10, to: t10 + 4 * H, verdict: 'down', targets: [], folded: { segments: 75, seconds: { down: 3720, up: 10680 }, flaps: 37, first: 'down', last: 'up' } },
      { from: t10 + 4 * H, to: t10 + 4.5 * H, verdict: 'down', targets: [] },
    ],
    outbox: [],
    notifications: [],
    lastPageAt: '2026-04-14T10:01:00Z',
    remindersSent: 0,
    version: 1,
    updatedAt: '2026-04-14T14:30:00Z',
  };
  const nowMs = (t10 + 4.5 * H) * 1000;
  const view = incidentView(record);

  it('spreads its seconds per verdict over its span in the uptime bars, as the report does', () => {
    const history = buildHistory([view], ['us'], {
      fromMs: t10 * 1000,
      toMs: (t10 + 5 * H) * 1000,
      bars: 5,
      nowMs,
      observed: [{ fromMs: t10 * 1000, toMs: nowMs }],
    });
    const bars = history.regions[0]?.bars ?? [];
    expect(bars.map((b) => b.worst)).toEqual(['down', 'down', 'down', 'down', 'down']);
    // 62 min down over the four folded hours: 15.5 min an hour, not 60.
    for (const bar of bars.slice(0, 4)) expect(bar.downMinutes).toBeCloseTo(15.5, 6);
    expect(bars[4]?.downMinutes).toBeCloseTo(30, 6);
    expect(history.regions[0]?.uptime).toBeCloseTo(1 - (3720 + 1800) / (4.5 * H), 6);
    // The same rule as the report: the down minutes of the bars add up to the incident's.
    const report = buildReport({ from: '2026-04-14T10:00:00Z', to: '2026-04-14T15:00:00Z', regions: ['us'], incidents: [record], maintenance: [] });
    expect(bars.reduce((sum, b) => sum + b.downMinutes, 0)).toBeCloseTo(report.regions.us?.downMinutes ?? 0, 1);
  });

  it('counts a bar that cuts the summary by its share of the span', () => {
    const history = buildHistory([view], ['us'], {
      fromMs: (t10 + 0.5 * H) * 1000,
      toMs: (t10 + 1.5 * H) * 1000,
      bars: 1,
      nowMs,
      observed: [{ fromMs: t10 * 1000, toMs: nowMs }],
    });
    expect(history.regions[0]?.bars[0]?.downMinutes).toBeCloseTo(15.5, 6);
  });

  it('shows it as one line with its flaps and time per verdict, in the incident text and on the page', () => {
    expect(view.timeline[0]?.folded).toMatchObject({ segments: 75, flaps: 37, seconds: { down: 3720, up: 10680 } });
    expect(foldedSummary({ segments: 75, flaps: 37, seconds: { down: 3720, up: 10680 } })).toBe('37 flaps folded: 1h 02m down, 2h 58m up');
    expect(foldedSummary({ segments: 3, flaps: 0, seconds: { degraded: 600, unknown: 60 } })).toBe('3 segments folded: 10m degraded, 1m unknown');
    const lines = formatIncident(view);
    expect(lines[1]).toBe('    Apr 14 10:00 – 14:00  · 37 flaps folded: 1h 02m down, 2h 58m up');
    expect(lines[2]).toBe('    Apr 14 14:00 – now    down');
    const html = renderStatusFragment({
      platform: 'p',
      title: 'p status',
      now: new Date(nowMs).toISOString(),
      checkedAt: new Date(nowMs).toISOString(),
      stale: false,
      watchedSince: null,
      regions: [{ region: 'us', verdict: 'down' }],
      probeRegions: [],
      openIncidents: [view],
      recentIncidents: [],
      maintenance: { current: [], upcoming: [] },
      history: { from: '2026-04-14T10:00:00Z', to: '2026-04-14T15:00:00Z', bucketMinutes: 60, regions: [] },
    });
    expect(html).toContain('Apr 14 10:00 → 14:00 · 37 flaps folded: 1h 02m down, 2h 58m up');
    expect(html).not.toMatch(/Down<\/span> Apr 14 10:00 → 14:00/);
    // The incident's own bar draws the summary as its verdicts' shares (62 of 270 minutes down), not 4 h of down.
    expect(html).toMatch(/class="seg v-down folded" style="width:22\.96%"/);
    expect(html).toMatch(/class="seg v-up folded" style="width:65\.93%"/);
  });
});

describe('a long incident on the page', () => {
  it('draws its bar as at most 60 stretches, each the worst verdict in it, instead of one part per segment', () => {
    const t = Date.parse('2026-04-14T10:00:00Z');
    const view: IncidentView = {
      incidentId: 'us-00009',
      region: 'us',
      status: 'resolved',
      severity: 'down',
      openedAt: new Date(t).toISOString(),
      resolvedAt: new Date(t + 200 * 60_000).toISOString(),
      downMinutes: 100,
      degradedMinutes: 0,
      readOnlyMinutes: 0,
      // 200 one-minute segments: down, up, down, up …
      timeline: Array.from({ length: 200 }, (_, k) => ({ verdict: k % 2 === 0 ? ('down' as const) : ('up' as const), from: new Date(t + k * 60_000).toISOString(), to: new Date(t + (k + 1) * 60_000).toISOString() })),
      notifications: [],
    };
    const html = renderStatusFragment({
      platform: 'p',
      title: 'p status',
      now: new Date(t + 300 * 60_000).toISOString(),
      checkedAt: null,
      stale: false,
      watchedSince: null,
      regions: [{ region: 'us', verdict: 'up' }],
      probeRegions: [],
      openIncidents: [],
      recentIncidents: [view],
      maintenance: { current: [], upcoming: [] },
      history: { from: view.openedAt, to: view.openedAt, bucketMinutes: 60, regions: [] },
    });
    const bar = /<div class="timeline-bar" data-bucketed="true">(.*?)<\/div>/.exec(html)?.[1] ?? '';
    // Every stretch of 200/60 minutes holds a down minute: one red stretch across the bar, merged.
    expect(bar.match(/<span /g)).toHaveLength(1);
    expect(bar).toContain('class="seg v-down" style="width:100.000%"');
  });
});
