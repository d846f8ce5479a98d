// Status page benchmarks: one render of every file from a large snapshot (90 days of bars, 50 incidents of 300
// timeline segments, three platform regions), beside serialising the same snapshot as JSON in the same run; and the
// size of the rendered page.
import { performance } from 'node:perf_hooks';
import { renderStatusFiles } from '../lambda/status-page/files';
import type { IncidentView, StatusSnapshot } from '../lambda/status-page/model';
import type { Bench } from './types';

const RUNS = 40;
const DAY = 24 * 3600_000;

function bigSnapshot(): StatusSnapshot {
  const now = Date.parse('2026-04-15T12:00:00Z');
  const regions = ['us', 'eu', 'apac'];
  const incident = (n: number): IncidentView => {
    const start = now - (n + 1) * DAY;
    return {
      incidentId: `${regions[n % 3] ?? 'us'}-${String(n + 1).padStart(5, '0')}`,
      region: regions[n % 3] ?? 'us',
      status: n === 0 ? 'open' : 'resolved',
      severity: 'down',
      openedAt: new Date(start).toISOString(),
      resolvedAt: n === 0 ? null : new Date(start + 5 * 3600_000).toISOString(),
      downMinutes: 120,
      degradedMinutes: 60,
      readOnlyMinutes: 30,
      timeline: Array.from({ length: 300 }, (_, k) => ({
        verdict: k % 2 === 0 ? ('down' as const) : ('up' as const),
        from: new Date(start + k * 60_000).toISOString(),
        to: new Date(start + (k + 1) * 60_000).toISOString(),
        summary: 'api, write-path: status, timeout from 3 probe regions',
      })),
      notifications: Array.from({ length: 8 }, (_, k) => ({ at: new Date(start + k * 600_000).toISOString(), event: 'reminder', subject: '[REMINDER] [DOWN] us for 1h: api failing from 3/3 probe regions' })),
    };
  };
  const incidents = Array.from({ length: 50 }, (_, n) => incident(n));
  return {
    platform: 'acme',
    title: 'acme status',
    now: new Date(now).toISOString(),
    checkedAt: new Date(now - 10_000).toISOString(),
    stale: false,
    watchedSince: new Date(now - 90 * DAY).toISOString(),
    regions: regions.map((region) => ({
      region,
      verdict: 'up' as const,
      since: new Date(now - DAY).toISOString(),
      summary: `${region} is up`,
      probeViews: Object.fromEntries(['us-east-1', 'eu-west-1', 'ap-southeast-1'].map((p) => [p, { status: 'up' as const, failing: [] }])),
    })),
    probeRegions: ['us-east-1', 'eu-west-1', 'ap-southeast-1'].map((probeRegion) => ({ probeRegion, state: 'ok' as const, counted: true })),
    openIncidents: incidents.slice(0, 1),
    recentIncidents: incidents.slice(1, 11),
    maintenance: { current: [], upcoming: [{ region: 'eu', start: '2026-04-20T02:00:00Z', end: '2026-04-20T03:00:00Z', reason: 'database upgrade' }] },
    history: {
      from: new Date(now - 90 * DAY).toISOString(),
      to: new Date(now).toISOString(),
      bucketMinutes: 1440,
      regions: regions.map((region) => ({
        region,
        uptime: 0.999,
        bars: Array.from({ length: 90 }, (_, d) => ({ from: new Date(now - (90 - d) * DAY).toISOString(), to: new Date(now - (89 - d) * DAY).toISOString(), worst: d % 7 === 0 ? ('down' as const) : ('up' as const), downMinutes: d % 7 === 0 ? 12 : 0, degradedMinutes: 0 })),
      })),
    },
  };
}

function median(f: () => void): number {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    f();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? Number.NaN;
}

export const bench: Bench = async () => {
  const snapshot = bigSnapshot();
  for (let i = 0; i < 5; i++) renderStatusFiles(snapshot);
  const renderMs = median(() => renderStatusFiles(snapshot, { variant: 'hosted', baseUrl: 'https://status.acme.example/' }));
  const jsonMs = median(() => JSON.stringify(snapshot));
  const files = renderStatusFiles(snapshot);
  const total = files.reduce((n, f) => n + Buffer.byteLength(f.body), 0);
  const index = Buffer.byteLength(files.find((f) => f.path === 'index.html')?.body ?? '');
  return [
    {
      area: 'status page',
      figure: `render every file (${files.length}) of a large snapshot: 3 regions × 90 days of bars, 11 incidents shown of 300 segments each (median of ${RUNS})`,
      value: Number(renderMs.toFixed(2)),
      unit: 'ms',
      goal: '<= 50 ms',
      ok: renderMs <= 50,
      baseline: { label: 'JSON.stringify of the same snapshot', value: Number(jsonMs.toFixed(2)) },
    },
    {
      area: 'status page',
      figure: 'rendered size of that page: index.html, and every file together',
      value: Math.round(index / 1024),
      unit: 'KB',
      goal: '<= 150 KB',
      ok: index <= 150 * 1024,
      note: `all files ${Math.round(total / 1024)} KB before compression`,
    },
  ];
};
