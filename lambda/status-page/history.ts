// The status page's uptime bars: per platform region, the worst verdict of each stretch of time and the uptime.
import { verdictSecondsWithin } from '../core/timeline';
import type { Verdict } from '../core/notification';
import type { HistoryBar, IncidentView, RegionHistory } from './model';

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
