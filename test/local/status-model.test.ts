import { describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../lambda/core/results';
import { buildHistory, cellOf } from '../../lambda/local/status-model';
import type { IncidentView } from '../../lambda/local/status-page';

const result = (target: string, role: 'read' | 'write-probe', status: ProbeResult['status'], extra: Partial<ProbeResult> = {}): ProbeResult => ({
  region: 'us',
  target,
  role,
  status,
  latencyMs: 3,
  ...extra,
});

describe('who sees what: one cell', () => {
  it('says read-only when only the write probe is refused, down when a read fails', () => {
    expect(cellOf([result('api', 'read', 'up'), result('write-path', 'write-probe', 'down', { statusCode: 503, errorClass: 'status' })])).toEqual({
      status: 'read-only',
      failing: ['write-path'],
      detail: 'write-path · 503 · status',
    });
    expect(cellOf([result('api', 'read', 'down', { errorClass: 'reset' }), result('write-path', 'write-probe', 'down')]).status).toBe('down');
    expect(cellOf([result('api', 'read', 'degraded'), result('write-path', 'write-probe', 'up')]).status).toBe('degraded');
    expect(cellOf([]).status).toBe('none');
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
