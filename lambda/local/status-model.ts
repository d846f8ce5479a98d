// Pure builders for the status page's parts that come straight from data: who-sees-what and the uptime bars.
import { verdictSecondsWithin } from '../core/timeline';
import type { Verdict } from '../core/notification';
import { isOwnRefusal } from '../core/refusals';
import type { ProbeResult, RoundRecord } from '../core/results';
import type { HistoryBar, IncidentView, MatrixCell, ProbeRegionStatus, RegionHistory } from './status-page';

/** What a set of results of one platform region says, seen from one probe region. */
export function cellOf(all: readonly ProbeResult[]): MatrixCell {
  if (all.length === 0) return { status: 'none', failing: [] };
  // Our own refusals say nothing about the platform (core/refusals.ts): the cell judges what was probed and names them.
  const results = all.filter((r) => !isOwnRefusal(r));
  const refused = all.filter(isOwnRefusal);
  if (results.length === 0) return { status: 'unknown', failing: [], detail: `not probed: ${refused.map((r) => r.target).join(', ')} · blocked-address · ${refused[0]?.detail ?? ''}` };
  const failing = results.filter((r) => r.status !== 'up');
  const reads = results.filter((r) => r.role === 'read');
  const readsDown = reads.some((r) => r.status === 'down');
  const writesDown = results.some((r) => r.role === 'write-probe' && r.status === 'down');
  let status: MatrixCell['status'] = 'up';
  if (readsDown || (writesDown && reads.length === 0)) status = 'down';
  else if (writesDown) status = 'read-only';
  else if (failing.length > 0) status = 'degraded';
  const first = failing[0] ?? refused[0];
  const detail = first
    ? [first.target, first.statusCode !== undefined ? String(first.statusCode) : undefined, first.errorClass, first.detail].filter((p) => p !== undefined).join(' · ')
    : undefined;
  return { status, failing: failing.map((r) => r.target), ...(detail ? { detail } : {}) };
}

/**
 * Each probe region's latest round (fresh when no older than two intervals, as the aggregator counts
 * it) turned into one cell per platform region.
 */
export function buildMatrix(
  rounds: readonly RoundRecord[],
  probeRegions: readonly string[],
  platformRegions: readonly string[],
  nowMs: number,
  intervalSeconds: number,
): { probeRegions: ProbeRegionStatus[]; matrix: Record<string, Record<string, MatrixCell>> } {
  const statuses: ProbeRegionStatus[] = [];
  const matrix: Record<string, Record<string, MatrixCell>> = {};
  for (const probeRegion of probeRegions) {
    const own = rounds.filter((r) => r.probeRegion === probeRegion);
    const latestSlot = own.reduce((max, r) => Math.max(max, r.slot), Number.NEGATIVE_INFINITY);
    const latest = own.filter((r) => r.slot === latestSlot);
    const fresh = latest.length > 0 && nowMs - latestSlot * 1000 <= 2 * intervalSeconds * 1000 + 1000;
    const lastFinished = latest.reduce((max, r) => Math.max(max, r.finishedAt), 0);
    statuses.push({ probeRegion, lastRound: latest.length > 0 ? new Date(lastFinished || latestSlot * 1000).toISOString() : null, fresh });
    const results = latest.flatMap((r) => r.results);
    const row: Record<string, MatrixCell> = {};
    for (const region of platformRegions) {
      row[region] = fresh ? cellOf(results.filter((r) => r.region === region)) : { status: 'stale', failing: [] };
    }
    matrix[probeRegion] = row;
  }
  return { probeRegions: statuses, matrix };
}

const SEVERITY: Record<Verdict | 'no-data', number> = { 'no-data': -1, up: 0, unknown: 1, maintenance: 2, degraded: 3, 'read-only': 4, down: 5 };

/**
 * Uptime bars for each platform region over [fromMs, toMs): each bar takes the worst verdict of any
 * incident segment overlapping it. A summary segment (folded old segments) keeps seconds per verdict, not their
 * times: they are spread evenly over its span, as the report counts them. Only time inside `observed` (the spans local mode watched) counts: a bar
 * outside them has no data, and uptime is the share of watched time not down.
 */
export function buildHistory(
  incidents: readonly IncidentView[],
  platformRegions: readonly string[],
  window: { fromMs: number; toMs: number; bars: number; observed: readonly { fromMs: number; toMs: number }[]; nowMs: number },
): { from: string; to: string; bucketMinutes: number; regions: RegionHistory[] } {
  const bars = Math.max(1, Math.floor(window.bars));
  const bucketMs = Math.max(60_000, Math.ceil((window.toMs - window.fromMs) / bars / 60_000) * 60_000);
  const fromMs = window.toMs - bucketMs * bars;
  const regions: RegionHistory[] = platformRegions.map((region) => {
    const segments = incidents
      .filter((i) => i.region === region)
      .flatMap((i) =>
        i.timeline.map((s) => ({ verdict: s.verdict, folded: s.folded, from: Date.parse(s.from), to: s.to === null ? window.nowMs : Date.parse(s.to) })),
      )
      .filter((s) => Number.isFinite(s.from) && Number.isFinite(s.to) && s.to > s.from);
    let downMs = 0;
    let observedMs = 0;
    const out: HistoryBar[] = [];
    for (let b = 0; b < bars; b++) {
      const start = fromMs + b * bucketMs;
      const end = start + bucketMs;
      const cap = Math.min(end, window.nowMs);
      const watched = window.observed.reduce((sum, o) => sum + Math.max(0, Math.min(cap, o.toMs) - Math.max(start, o.fromMs)), 0);
      let worst: Verdict | 'no-data' = watched > 0 ? 'up' : 'no-data';
      let down = 0;
      let degraded = 0;
      for (const s of watched > 0 ? segments : []) {
        if (Math.min(end, s.to) - Math.max(start, s.from) <= 0) continue;
        // In seconds, as segments count them; a summary segment's verdicts each get their share of the overlap.
        for (const [verdict, seconds] of verdictSecondsWithin({ ...s, from: s.from / 1000, to: s.to / 1000 }, start / 1000, end / 1000)) {
          if (seconds <= 0) continue;
          if (SEVERITY[verdict] > SEVERITY[worst]) worst = verdict;
          if (verdict === 'down') down += seconds * 1000;
          if (verdict === 'degraded' || verdict === 'read-only') degraded += seconds * 1000;
        }
      }
      downMs += down;
      observedMs += watched;
      out.push({ from: new Date(start).toISOString(), to: new Date(end).toISOString(), worst, downMinutes: down / 60_000, degradedMinutes: degraded / 60_000 });
    }
    return { region, bars: out, uptime: observedMs > 0 ? Math.max(0, 1 - downMs / observedMs) : null };
  });
  return { from: new Date(fromMs).toISOString(), to: new Date(window.toMs).toISOString(), bucketMinutes: bucketMs / 60_000, regions };
}
