// An incident's timeline: verdict segments re-derived from the window (merge), bounded by folding old segments into
// summaries (FAULTS row 4), and the figures read from it (seconds per verdict, flaps, trailing runs).
import type { TargetEvidence, Verdict } from './notification';
import { type BadVerdict, type RegionWindow, type WindowEvaluation, errorClassesOf, isBad, SEVERITY_RANK, worse } from './evaluate';
import { MAX_EVIDENCE_TARGETS, MAX_SEGMENTS_WITH_EVIDENCE, type FoldedSegments, type IncidentRecord, type SegmentTarget, type TimelineSegment } from './incident-record';

/** Seconds per verdict from the segments (degraded includes read-only, as DESIGN says). */
export function secondsOf(timeline: readonly TimelineSegment[]): Pick<
  IncidentRecord,
  'downSeconds' | 'degradedSeconds' | 'readOnlySeconds' | 'maintenanceSeconds' | 'unknownSeconds'
> {
  let down = 0;
  let degraded = 0;
  let readOnly = 0;
  let maintenance = 0;
  let unknown = 0;
  for (const s of timeline) {
    for (const [verdict, length] of verdictSeconds(s)) {
      if (verdict === 'down') down += length;
      else if (verdict === 'read-only') readOnly += length;
      else if (verdict === 'degraded') degraded += length;
      else if (verdict === 'maintenance') maintenance += length;
      else if (verdict === 'unknown') unknown += length;
    }
  }
  return { downSeconds: down, degradedSeconds: degraded + readOnly, readOnlySeconds: readOnly, maintenanceSeconds: maintenance, unknownSeconds: unknown };
}

/** What counting a segment's seconds per verdict reads of it (a stored segment, or the status page's view of one). */
export interface CountedSegment {
  from: number;
  to: number;
  verdict: Verdict;
  folded?: Pick<FoldedSegments, 'seconds'> | undefined;
}

/** A segment's seconds per verdict: its length under its verdict, or a summary segment's folded seconds. */
export function verdictSeconds(segment: CountedSegment): [Verdict, number][] {
  if (!segment.folded) return [[segment.verdict, segment.to - segment.from]];
  return Object.entries(segment.folded.seconds).filter((e): e is [Verdict, number] => e[1] !== undefined);
}

/**
 * A segment's seconds per verdict inside [fromS, toS). A summary segment keeps seconds per verdict, not their times:
 * exact when the span holds it whole, spread evenly over it when the span cuts it (the report and the status page's
 * uptime bars both count this way).
 */
export function verdictSecondsWithin(segment: CountedSegment, fromS: number, toS: number): [Verdict, number][] {
  const length = segment.to - segment.from;
  const inside = Math.max(0, Math.min(segment.to, toS) - Math.max(segment.from, fromS));
  const share = length > 0 ? inside / length : 0;
  return verdictSeconds(segment).map(([verdict, seconds]) => [verdict, seconds * share]);
}

/** Times the verdict went from up back to bad inside the timeline. */
export function flapsOf(timeline: readonly TimelineSegment[]): number {
  let flaps = 0;
  for (let n = 0; n < timeline.length; n++) {
    const prev = timeline[n - 1];
    const cur = timeline[n];
    if (!cur) continue;
    flaps += cur.folded?.flaps ?? 0;
    if (prev && (prev.folded?.last ?? prev.verdict) === 'up' && isBad(cur.folded?.first ?? cur.verdict)) flaps++;
  }
  return flaps;
}

/** Summary segments per fold at most: a quarter of the segments kept (the rest stay one by one). */
const foldedShare = 4;

/** Segments (or summaries) folded into one summary segment. */
function foldSegments(group: readonly TimelineSegment[]): TimelineSegment {
  const seconds: Partial<Record<Verdict, number>> = {};
  let verdict: Verdict = 'unknown';
  let segments = 0;
  for (const s of group) {
    for (const [v, length] of verdictSeconds(s)) {
      seconds[v] = (seconds[v] ?? 0) + length;
      verdict = worse(verdict, v);
    }
    segments += s.folded?.segments ?? 1;
  }
  const first = group[0];
  const last = group[group.length - 1];
  const tail: Partial<Record<BadVerdict, number>> = {};
  for (const severity of ['degraded', 'read-only', 'down'] as const) {
    const t = trailingSecondsBelow(group, severity);
    if (t > 0) tail[severity] = t;
  }
  return {
    from: first?.from ?? 0,
    to: last?.to ?? 0,
    verdict,
    targets: [],
    folded: {
      segments,
      seconds,
      flaps: flapsOf(group),
      first: first?.folded?.first ?? first?.verdict ?? verdict,
      last: last?.folded?.last ?? last?.verdict ?? verdict,
      ...(Object.keys(tail).length > 0 ? { tail } : {}),
    },
  };
}

/**
 * Bounds a timeline (FAULTS 4: a region flapping for days keeps one incident open, and its item must stay under
 * DynamoDB's 400 KB). Over `maxSegments`, the oldest segments that end by `foldBefore` (the first slot the window
 * re-derives, so a summary is never cut by a later merge) are folded into summary segments, keeping three quarters
 * of `maxSegments` one by one. Summaries group whole buckets of time (an hour, then 4 h, 16 h … as needed) so there
 * are at most a quarter of `maxSegments` of them. Seconds per verdict and flaps are kept exactly, so the incident's
 * figures and the report's minutes do not change; the segments still cover the incident without gaps.
 */
export function foldTimeline(timeline: readonly TimelineSegment[], maxSegments: number, foldBefore: number): TimelineSegment[] {
  if (timeline.length <= maxSegments) return [...timeline];
  const keep = Math.max(1, Math.floor((maxSegments * (foldedShare - 1)) / foldedShare));
  let cut = timeline.length - keep;
  while (cut > 0 && (timeline[cut - 1]?.to ?? Infinity) > foldBefore) cut--;
  if (cut <= 1) return [...timeline];
  const old = timeline.slice(0, cut);
  const budget = Math.max(1, Math.floor(maxSegments / foldedShare));
  const span = (old[old.length - 1]?.to ?? 0) - (old[0]?.from ?? 0);
  let bucket = 3600;
  const groupsOf = (size: number) => {
    const groups: TimelineSegment[][] = [];
    let key: number | null = null;
    for (const s of old) {
      const k = Math.floor(s.from / size);
      if (k !== key) groups.push([]);
      key = k;
      groups[groups.length - 1]?.push(s);
    }
    return groups;
  };
  let groups = groupsOf(bucket);
  // Bounded: once the bucket is longer than the folded span there is one group.
  while (groups.length > budget && bucket <= span) {
    bucket *= 4;
    groups = groupsOf(bucket);
  }
  if (groups.length > budget) groups = [old];
  return [...groups.map((g) => (g.length === 1 && g[0]?.folded ? g[0] : foldSegments(g))), ...timeline.slice(cut)];
}

function mergeSegmentTargets(a: SegmentTarget[], b: readonly SegmentTarget[]): SegmentTarget[] {
  const byName = new Map(a.map((t) => [t.target, { ...t, failingFrom: [...t.failingFrom], errorClasses: [...t.errorClasses] }]));
  for (const t of b) {
    const have = byName.get(t.target);
    if (!have) {
      byName.set(t.target, { ...t, failingFrom: [...t.failingFrom], errorClasses: [...t.errorClasses] });
      continue;
    }
    have.verdict = worse(have.verdict, t.verdict);
    for (const p of t.failingFrom) if (!have.failingFrom.includes(p)) have.failingFrom.push(p);
    for (const e of t.errorClasses) if (!have.errorClasses.includes(e)) have.errorClasses.push(e);
    if (t.maxLatencyMs !== undefined) have.maxLatencyMs = Math.max(have.maxLatencyMs ?? 0, t.maxLatencyMs);
  }
  return [...byName.values()];
}

function segmentTargetsOf(evidence: readonly TargetEvidence[]): SegmentTarget[] {
  return evidence
    .filter((e) => e.verdict !== 'up' && e.verdict !== 'unknown')
    .map((e) => {
      const failing = e.seenBy.filter((s) => s.status !== 'up' && s.latencyMs !== undefined).map((s) => s.latencyMs ?? 0);
      const t: SegmentTarget = { target: e.target, verdict: e.verdict, failingFrom: [...e.failingFrom], errorClasses: errorClassesOf(e) };
      if (failing.length > 0) t.maxLatencyMs = Math.max(...failing);
      return t;
    });
}

function capTargets(segment: TimelineSegment): TimelineSegment {
  if (segment.targets.length <= MAX_EVIDENCE_TARGETS) return segment;
  const more = segment.targets.length - MAX_EVIDENCE_TARGETS + (segment.moreTargets ?? 0);
  return { ...segment, targets: segment.targets.slice(0, MAX_EVIDENCE_TARGETS), moreTargets: more };
}

/**
 * The incident's timeline with the slots from `fromSlot` to the decision slot re-derived from the window.
 * Segments before `fromSlot` are kept (cut at it); a gap between them and the window (the aggregator was away
 * longer than the window) becomes `unknown`. Same window in, same timeline out.
 */
export function mergeTimeline(
  timeline: readonly TimelineSegment[],
  window: RegionWindow,
  evaluation: WindowEvaluation,
  fromSlot: number,
): TimelineSegment[] {
  const i = evaluation.intervalSeconds;
  const first = evaluation.slots[0] ?? fromSlot;
  let start = Math.max(fromSlot, first);
  // A summary segment is never cut (its seconds are not spread over its times): re-derive from its end instead.
  for (const s of timeline) if (s.folded && s.from < start && s.to > start) start = s.to;
  const out: TimelineSegment[] = [];
  for (const s of timeline) {
    if (s.from >= start) continue;
    out.push(s.to > start ? { ...s, to: start } : s);
  }
  const last = out[out.length - 1];
  const append = (seg: TimelineSegment) => {
    const prev = out[out.length - 1];
    if (prev && !prev.folded && prev.verdict === seg.verdict && prev.to === seg.from) {
      const merged: TimelineSegment = { ...prev, to: seg.to, targets: mergeSegmentTargets(prev.targets, seg.targets) };
      if (seg.probeRegions) merged.probeRegions = seg.probeRegions;
      out[out.length - 1] = capTargets(merged);
    } else out.push(capTargets(seg));
  };
  if (last && last.to < start) append({ from: last.to, to: start, verdict: 'unknown', targets: [] });
  else if (!last && fromSlot < start) append({ from: fromSlot, to: start, verdict: 'unknown', targets: [] });
  for (let d = 0; d <= evaluation.latest; d++) {
    const slot = evaluation.slots[d];
    if (slot === undefined || slot < start) continue;
    const verdict = window.verdicts[d] ?? 'unknown';
    const targets = isBad(verdict) ? segmentTargetsOf(window.evidenceAt(d)) : [];
    const seg: TimelineSegment = { from: slot, to: slot + i, verdict, targets };
    const probe = evaluation.probeRegions[d];
    if (probe) seg.probeRegions = probe;
    append(seg);
  }
  const keepFrom = out.length - MAX_SEGMENTS_WITH_EVIDENCE;
  return out.map((s, n) => (n < keepFrom && s.targets.length > 0 ? { from: s.from, to: s.to, verdict: s.verdict, targets: [] } : s));
}

/** Up, or a bad verdict less severe than `severity` (below `degraded`: up only; unknown and maintenance never). */
function isBelow(verdict: Verdict, severity: BadVerdict): boolean {
  return SEVERITY_RANK[verdict] >= 0 && SEVERITY_RANK[verdict] < SEVERITY_RANK[severity];
}

/**
 * Seconds at the end of the timeline whose verdicts are all below `severity`. A summary segment counts whole when
 * all its verdicts are, else its `tail` ends the run (its times are gone, its tail is not), so folding changes no run.
 */
function trailingSecondsBelow(timeline: readonly TimelineSegment[], severity: BadVerdict): number {
  let seconds = 0;
  for (let n = timeline.length - 1; n >= 0; n--) {
    const s = timeline[n];
    if (!s) break;
    if (s.folded) {
      if (!verdictSeconds(s).every(([v, length]) => length === 0 || isBelow(v, severity))) return seconds + (s.folded.tail?.[severity] ?? 0);
    } else if (!isBelow(s.verdict, severity)) break;
    seconds += s.to - s.from;
  }
  return seconds;
}

/** Consecutive slots at the end of the timeline below `severity` (below `degraded`: up slots, a recovery). */
export function trailingSlots(timeline: readonly TimelineSegment[], intervalSeconds: number, severity: BadVerdict): number {
  return Math.floor(trailingSecondsBelow(timeline, severity) / intervalSeconds);
}
