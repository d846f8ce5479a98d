// The incident lifecycle of one platform region: open, escalate, de-escalate, remind, resolve (and reopen when it
// flaps), decided from a window evaluation and the region's newest incident. Pure: the caller stores and publishes.
//
// Every decision is a function of (stored incident, window of results, now), never of counters kept between batches:
// running it twice on the same input gives the same incident and owes no new notification.
import type { Notification, NotificationEvent, NotificationEvidence, TargetEvidence, Verdict } from './notification';
import type { ErrorClass } from './results';
import {
  type BadVerdict,
  type EvaluationSettings,
  type ProbeRegionsAt,
  type RegionWindow,
  type WindowEvaluation,
  errorClassesOf,
  isBad,
  SEVERITY_RANK,
  worse,
} from './evaluate';

/** Most targets kept per timeline segment and per notification; the rest are counted. */
export const MAX_EVIDENCE_TARGETS = 10;
/** Timeline segments that keep their evidence; older ones keep verdict and times only (the item stays small). */
export const MAX_SEGMENTS_WITH_EVIDENCE = 200;
/** Sent notifications remembered on an incident. */
export const MAX_SENT_LOG = 100;

/** A target's part in a timeline segment: the union of what was seen over the segment's slots. */
export interface SegmentTarget {
  target: string;
  verdict: Verdict;
  failingFrom: string[];
  errorClasses: ErrorClass[];
  /** Slowest latency seen from a failing probe region. */
  maxLatencyMs?: number;
}

/** One stretch of an incident with one region verdict. Times are epoch seconds; [from, to). */
export interface TimelineSegment {
  from: number;
  to: number;
  verdict: Verdict;
  targets: SegmentTarget[];
  /** Failing targets beyond MAX_EVIDENCE_TARGETS. */
  moreTargets?: number;
  /** Probe regions at the segment's last slot. */
  probeRegions?: ProbeRegionsAt;
  /** Set on a summary segment: older segments folded into one (`verdict` is the worst of them). */
  folded?: FoldedSegments;
}

/** What a summary segment keeps of the segments folded into it: exact seconds and flaps, not their times. */
export interface FoldedSegments {
  /** How many segments were folded. */
  segments: number;
  /** Seconds per verdict; they add up to the summary segment's length. */
  seconds: Partial<Record<Verdict, number>>;
  /** Times the verdict went from up back to bad inside the folded span. */
  flaps: number;
  /** Verdicts of the first and the last folded segment (flaps across the summary's edges). */
  first: Verdict;
  last: Verdict;
  /**
   * Seconds at the summary's end whose verdicts are all below a severity (up, or a bad verdict less severe), per
   * severity; none: 0. A recovery or a de-escalation counts them when its run reaches back into the summary.
   */
  tail?: Partial<Record<BadVerdict, number>>;
}

/** A notification the item owes: written with the transition, removed once published. */
export interface OutboxEntry {
  notification: Notification;
  /** Failed publish runs so far. */
  attempts: number;
  lastError?: string;
  /** The run publishing it now, and until when (epoch ms) that claim holds: racing aggregators publish it once. */
  claimedBy?: string;
  claimedUntil?: number;
}

/** What was sent, when (DESIGN's `notifications` field of an incident). */
export interface SentNotification {
  event: NotificationEvent;
  severity: Verdict;
  dedupKey: string;
  subject: string;
  /** ISO time of the transition. */
  at: string;
  /** ISO time the publish succeeded. */
  publishedAt: string;
}

/** An incident as stored (the item adds keys; see lambda/store/incident-store.ts). */
export interface IncidentRecord {
  incidentId: string;
  region: string;
  /** 1, 2, 3 … per platform region: the sort key, so the newest incident is one Query away. */
  seq: number;
  status: 'open' | 'resolved';
  /** Worst severity so far (DESIGN). */
  severity: BadVerdict;
  /** Severity now. */
  currentSeverity: BadVerdict;
  /** ISO time the incident was opened (the decision, not the first failing result). */
  openedAt: string;
  resolvedAt: string | null;
  /** Epoch seconds: start of the first failing slot (the timeline's start). */
  startedAt: number;
  /** Epoch seconds: start of the first up slot of the recovery (the timeline's end); null while open. */
  endedAt: number | null;
  /** Epoch seconds the decision slot of the last transition; a replay never decides before it. */
  lastTransitionSlot: number;
  /**
   * Epoch seconds: the first slot of the bad run that last reopened the incident (absent if it never reopened).
   * The timeline before it (the resolved stretch and the `up` gap after it) stays as decided; only the slots from
   * it on are re-derived, so deciding again at the same slot keeps the gap `up` instead of re-reading its slots.
   */
  reopenedFrom?: number;
  downSeconds: number;
  /** Includes readOnlySeconds (DESIGN). */
  degradedSeconds: number;
  readOnlySeconds: number;
  maintenanceSeconds: number;
  unknownSeconds: number;
  /** Times a region failed again after being up inside this incident (flap damping). */
  flaps: number;
  timeline: TimelineSegment[];
  outbox: OutboxEntry[];
  notifications: SentNotification[];
  /** ISO time of the last page (opened, escalated, reminder): reminders count from it. */
  lastPageAt: string;
  remindersSent: number;
  /** Optimistic-concurrency version: every write is conditional on the version read. */
  version: number;
  updatedAt: string;
}

/** The current-status record of a platform region (one item per region). */
export interface RegionStatusRecord {
  region: string;
  verdict: Verdict;
  /** ISO time the region entered this verdict (as far as this record knows). */
  since: string;
  /** The slot (epoch seconds) this status was derived at: the status is rewritten when it changes, not every slot. */
  evaluatedSlot: number;
  openIncidentId: string | null;
  summary: string;
  /** Targets not up at the evaluated slot (at most MAX_EVIDENCE_TARGETS). */
  targets: TargetEvidence[];
  probeRegions: ProbeRegionsAt;
  version: number;
  updatedAt: string;
}

export interface RegionDecisionInput {
  settings: EvaluationSettings;
  evaluation: WindowEvaluation;
  region: string;
  nowMs: number;
  /** The region's newest incident, open or resolved; null if it never had one. */
  latest: IncidentRecord | null;
  status: RegionStatusRecord | null;
}

export interface RegionDecision {
  /** The incident to write (conditional on `latest.version`, or on absence for a new one); null if unchanged. */
  incident: IncidentRecord | null;
  /** True when `incident` is a new item (a new seq). */
  created: boolean;
  /** Transitions decided now; each put exactly one notification in the incident's outbox. */
  transitions: NotificationEvent[];
  /** The status record to write; null if unchanged. */
  status: RegionStatusRecord | null;
}

const iso = (epochMs: number) => new Date(epochMs).toISOString();

/** Incident id: region and zero-padded sequence, e.g. `us-00042`. */
export function incidentIdOf(region: string, seq: number): string {
  return `${region}-${String(seq).padStart(5, '0')}`;
}

/** `dedupKey` of a transition: identical wherever and however often it is published. */
export function dedupKeyOf(region: string, incidentId: string, event: NotificationEvent, marker: number | string): string {
  return `${region}/${incidentId}/${event}/${marker}`;
}

/** Up slots needed to resolve: the recovery threshold, or the flap recovery time once the incident has flapped. */
export function requiredUpSlots(settings: EvaluationSettings, window: Pick<RegionWindow, 'recoveryThreshold'>, flaps: number): number {
  if (flaps === 0) return window.recoveryThreshold;
  return Math.max(window.recoveryThreshold, Math.ceil(settings.tuning.flapRecoverySeconds / settings.intervalSeconds));
}

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

/**
 * A resolved incident whose resolve is still inside the window: late results may change its last slots
 * (replication lag), so its timeline and end are re-derived up to the resolve. No notification: figures only.
 */
function reconcileResolved(incident: IncidentRecord, window: RegionWindow, evaluation: WindowEvaluation): IncidentRecord {
  const i = evaluation.intervalSeconds;
  const cut = incident.lastTransitionSlot + i;
  // The recovery that resolved it was up when decided: keep it unless the window now says otherwise.
  const recovered: TimelineSegment[] = incident.endedAt !== null && incident.endedAt < cut ? [{ from: incident.endedAt, to: cut, verdict: 'up', targets: [] }] : [];
  const merged = mergeTimeline([...incident.timeline, ...recovered], window, evaluation, rederivedFrom(incident))
    .filter((s) => s.from < cut)
    .map((s) => (s.to > cut ? { ...s, to: cut } : s));
  const upRun = trailingSlots(merged, i, 'degraded');
  if (upRun === 0) return incident;
  const endedAt = cut - upRun * i;
  if (endedAt <= incident.startedAt) return incident;
  const timeline = merged.filter((s) => s.from < endedAt).map((s) => (s.to > endedAt ? { ...s, to: endedAt } : s));
  return withFigures({ ...incident, endedAt, timeline });
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
function trailingSlots(timeline: readonly TimelineSegment[], intervalSeconds: number, severity: BadVerdict): number {
  return Math.floor(trailingSecondsBelow(timeline, severity) / intervalSeconds);
}

const LABEL: Record<Verdict, string> = {
  down: 'DOWN',
  'read-only': 'READ-ONLY',
  degraded: 'DEGRADED',
  up: 'UP',
  maintenance: 'MAINTENANCE',
  unknown: 'UNKNOWN',
};

/** "1h 02m", "20m", "45s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : `${m}m`;
}

/** Keeps a subject within SNS's limit (DESIGN: one human line). */
export function fitSubject(subject: string, max = 99): string {
  const line = subject.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 3).trimEnd()}...`;
}

function failingPhrase(targets: readonly TargetEvidence[], probe: ProbeRegionsAt | undefined): string {
  const bad = targets.filter((t) => isBad(t.verdict));
  if (bad.length === 0) return 'no target failing now';
  const names = bad.slice(0, 4).map((t) => t.target);
  const more = bad.length > 4 ? ` +${bad.length - 4}` : '';
  const from = Math.max(...bad.map((t) => t.failingFrom.length));
  const counted = probe ? probe.fresh.length : from;
  const verb = bad.every((t) => t.verdict === 'read-only') ? 'refused' : 'failing';
  return `${names.join(', ')}${more} ${verb} from ${from}/${counted} probe regions`;
}

/**
 * An open incident whose region is up again but not yet for long enough to resolve (flap damping keeps it open and
 * its severity until then): what a status or reminder says instead of "down: no target failing".
 */
export interface Recovery {
  /** Epoch seconds: the first slot of the trailing up run. */
  since: number;
  /** Seconds of up in a row that resolve the incident. */
  requiredSeconds: number;
  /** Whether the longer flap recovery applies (the incident was bad again after up). */
  flapping: boolean;
}

/** The open incident's recovery in progress: its timeline ends with up slots, fewer than a resolve needs. */
export function recoveryOf(incident: IncidentRecord, settings: EvaluationSettings, window: Pick<RegionWindow, 'recoveryThreshold'>): Recovery | undefined {
  let since: number | undefined;
  for (let n = incident.timeline.length - 1; n >= 0; n--) {
    const s = incident.timeline[n];
    if (!s || s.verdict !== 'up') break;
    since = s.from;
  }
  if (since === undefined || incident.status !== 'open') return undefined;
  return {
    since,
    requiredSeconds: requiredUpSlots(settings, window, incident.flaps) * settings.intervalSeconds,
    flapping: incident.flaps > 0,
  };
}

/** `10:41:10 UTC` of an epoch second (a recovery is shorter than a day, so the time of day is enough). */
function utcTime(epochSeconds: number): string {
  return `${iso(epochSeconds * 1000).slice(11, 19)} UTC`;
}

function upSincePhrase(recovery: Recovery): string {
  return `no target failing since ${utcTime(recovery.since)}`;
}

function resolvesPhrase(recovery: Recovery): string {
  return `resolves after ${formatDuration(recovery.requiredSeconds)} up${recovery.flapping ? ' (flapping)' : ''}`;
}

interface NotificationDraft {
  event: NotificationEvent;
  severity: Verdict;
  incident: IncidentRecord;
  nowMs: number;
  marker: number | string;
  evidence: TargetEvidence[];
  probe: ProbeRegionsAt | undefined;
  previous?: BadVerdict;
  reopened?: boolean;
  /** A reminder sent while the region is up but the incident not yet resolved. */
  recovery?: Recovery;
}

/** Subject, summary and evidence of an incident notification. */
export function incidentNotification(draft: NotificationDraft): Notification {
  const { event, severity, incident, nowMs, evidence, probe } = draft;
  const failing = failingPhrase(evidence, probe);
  const figures = `down ${formatDuration(incident.downSeconds)}, degraded ${formatDuration(incident.degradedSeconds)} (read-only ${formatDuration(incident.readOnlySeconds)})`;
  const since = iso(incident.startedAt * 1000);
  let subject: string;
  let summary: string;
  switch (event) {
    case 'opened':
      subject = `[${LABEL[severity]}] ${incident.region}${draft.reopened ? ' again' : ''}: ${failing}`;
      summary = draft.reopened
        ? `${incident.region} is ${severity} again within minutes of recovering: incident ${incident.incidentId} reopened (${failing}). So far: ${figures}.`
        : `${incident.region} is ${severity} since ${since}: ${failing}. Incident ${incident.incidentId} opened.`;
      break;
    case 'escalated':
      subject = `[${LABEL[severity]}] ${incident.region} worse (was ${draft.previous ?? 'degraded'}): ${failing}`;
      summary = `${incident.region} went from ${draft.previous ?? 'degraded'} to ${severity}: ${failing}. Incident ${incident.incidentId}, open since ${incident.openedAt}.`;
      break;
    case 'deescalated':
      subject = `[${LABEL[severity]}] ${incident.region} better (was ${draft.previous ?? 'down'}): ${failing}`;
      summary = `${incident.region} went from ${draft.previous ?? 'down'} to ${severity}: ${failing}. Incident ${incident.incidentId} stays open.`;
      break;
    case 'reminder': {
      const open = `[REMINDER] [${LABEL[severity]}] ${incident.region} for ${formatDuration(nowMs / 1000 - incident.startedAt)}`;
      const { recovery } = draft;
      if (recovery) {
        subject = `${open}, recovering: ${upSincePhrase(recovery)}`;
        summary = `Incident ${incident.incidentId} on ${incident.region} is still open (${severity}) since ${since} and recovering: ${upSincePhrase(recovery)}; it ${resolvesPhrase(recovery)}. So far: ${figures}.`;
      } else {
        subject = `${open}: ${failing}`;
        summary = `Incident ${incident.incidentId} on ${incident.region} is still open (${severity}) since ${since}: ${failing}. So far: ${figures}.`;
      }
      break;
    }
    case 'resolved':
      subject = `[RESOLVED] ${incident.region}: up again after ${formatDuration((incident.endedAt ?? nowMs / 1000) - incident.startedAt)} (down ${formatDuration(incident.downSeconds)})`;
      summary = `${incident.region} is up again. Incident ${incident.incidentId} resolved: ${figures}, from ${since} to ${iso((incident.endedAt ?? nowMs / 1000) * 1000)}.`;
      break;
    default:
      subject = `[${LABEL[severity]}] ${incident.region}`;
      summary = subject;
  }
  const notificationEvidence: NotificationEvidence = {
    targets: evidence.slice(0, MAX_EVIDENCE_TARGETS * 2),
    probeRegions: probe ?? { fresh: [], stale: [], impaired: [] },
    downSeconds: incident.downSeconds,
    degradedSeconds: incident.degradedSeconds,
    readOnlySeconds: incident.readOnlySeconds,
  };
  return {
    event,
    incidentId: incident.incidentId,
    region: incident.region,
    severity,
    at: iso(nowMs),
    summary,
    evidence: notificationEvidence,
    dedupKey: dedupKeyOf(incident.region, incident.incidentId, event, draft.marker),
    subject: fitSubject(subject),
  };
}

/**
 * The first slot an incident's timeline is re-derived from: its start, or the bad run that last reopened it (the
 * gap before a reopen was decided `up` while the incident was resolved, and stays so on every later run).
 */
function rederivedFrom(incident: IncidentRecord): number {
  return Math.max(incident.startedAt, incident.reopenedFrom ?? incident.startedAt);
}

/** Incident figures recomputed from the timeline. */
function withFigures(incident: IncidentRecord): IncidentRecord {
  return { ...incident, ...secondsOf(incident.timeline), flaps: flapsOf(incident.timeline) };
}

function worstConfirmed(window: RegionWindow, d: number): BadVerdict | undefined {
  let worst: BadVerdict | undefined;
  for (const target of window.targets) {
    const c = window.confirmedBad(target, d);
    if (c && (!worst || SEVERITY_RANK[c] > SEVERITY_RANK[worst])) worst = c;
  }
  return worst;
}

/**
 * Whether `a` and `b` hold the same JSON value (`undefined` properties left out), without serialising them: object
 * keys compare as a set, not in order, because DynamoDB returns an item's attributes and a map's entries in no
 * particular order (FAULTS row 21): an item read back unchanged must compare equal to what the lifecycle derives, or
 * every stream batch rewrites it. decideRegion's copy shares every untouched segment and log entry with the stored
 * incident, so most of a long (flapping) incident compares by reference.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return typeof a === 'number' && typeof b === 'number' ? JSON.stringify(a) === JSON.stringify(b) : false;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let n = 0; n < a.length; n++) {
      // JSON writes an undefined element as null.
      if (!sameJson(a[n] === undefined ? null : a[n], b[n] === undefined ? null : b[n])) return false;
    }
    return true;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  let defined = 0;
  for (const k of Object.keys(ra)) {
    const va = ra[k];
    if (va === undefined) continue;
    defined++;
    const vb = rb[k];
    if (vb === undefined || !Object.hasOwn(rb, k) || !sameJson(va, vb)) return false;
  }
  for (const k of Object.keys(rb)) if (rb[k] !== undefined) defined--;
  return defined === 0;
}

/** A copy decideRegion may change: the outbox is the only part it changes in place; the rest is replaced, not edited. */
function editable(incident: IncidentRecord): IncidentRecord {
  return { ...incident, outbox: [...incident.outbox] };
}

/**
 * Decides what changes for one platform region at the window's decision slot.
 *
 * - No open incident: a target bad for its whole failure threshold (with quorum, outside maintenance) opens one,
 *   backdated to the first bad slot of the run; if the newest incident resolved less than `reopenWindowSeconds`
 *   before that, it is reopened instead (one incident for a flapping region).
 * - Open incident: its timeline is re-derived over the window; enough up slots resolve it (the recovery threshold,
 *   or `flapRecoverySeconds` once it has flapped); a worse confirmed severity escalates, a better one held for as
 *   long de-escalates; a reminder is due every `reminderMinutes` after the last page. Nothing pages in maintenance.
 */
export function decideRegion(input: RegionDecisionInput): RegionDecision {
  const { settings, evaluation, region, nowMs, latest, status } = input;
  const window = evaluation.regions[region];
  const d = evaluation.latest;
  const slot = evaluation.slots[d];
  if (!window || d < 0 || slot === undefined) return { incident: null, created: false, transitions: [], status: null };
  const i = evaluation.intervalSeconds;
  const verdictNow = window.verdicts[d] ?? 'unknown';
  const probe = evaluation.probeRegions[d];
  const transitions: NotificationEvent[] = [];
  let incident: IncidentRecord | null = latest ? editable(latest) : null;
  let created = false;
  const stale = latest !== null && slot < latest.lastTransitionSlot;

  const enqueue = (draft: Omit<NotificationDraft, 'incident' | 'nowMs' | 'probe'>, target: IncidentRecord) => {
    const notification = incidentNotification({ ...draft, incident: target, nowMs, probe });
    if (target.outbox.some((o) => o.notification.dedupKey === notification.dedupKey)) return;
    if (target.notifications.some((o) => o.dedupKey === notification.dedupKey)) return;
    // A newer reminder says all an older unsent one would: while SNS is down for hours the outbox keeps
    // one reminder, not one per reminderMinutes (a claimed one may be mid-publish, so it stays).
    if (draft.event === 'reminder') {
      target.outbox = target.outbox.filter((o) => o.notification.event !== 'reminder' || o.claimedBy !== undefined);
    }
    target.outbox.push({ notification, attempts: 0 });
    transitions.push(draft.event);
  };

  const foldBefore = evaluation.slots[0] ?? slot;
  if (!stale && incident && incident.status === 'open') {
    incident.timeline = foldTimeline(mergeTimeline(incident.timeline, window, evaluation, rederivedFrom(incident)), settings.tuning.maxTimelineSegments, foldBefore);
    incident = withFigures(incident);
    if (verdictNow !== 'maintenance') {
      const required = requiredUpSlots(settings, window, incident.flaps);
      const upRun = trailingSlots(incident.timeline, i, 'degraded');
      const confirmed = worstConfirmed(window, d);
      const current = incident.currentSeverity;
      if (upRun >= required) {
        const endedAt = slot + i - upRun * i;
        incident.timeline = incident.timeline.filter((s) => s.from < endedAt).map((s) => (s.to > endedAt ? { ...s, to: endedAt } : s));
        incident = withFigures({ ...incident, status: 'resolved', endedAt, resolvedAt: iso(nowMs), lastTransitionSlot: slot });
        enqueue({ event: 'resolved', severity: 'up', marker: slot, evidence: [] }, incident);
      } else if (confirmed && SEVERITY_RANK[confirmed] > SEVERITY_RANK[current]) {
        incident = { ...incident, currentSeverity: confirmed, severity: worse(incident.severity, confirmed) as BadVerdict, lastTransitionSlot: slot, lastPageAt: iso(nowMs) };
        enqueue({ event: 'escalated', severity: confirmed, marker: slot, evidence: window.evidenceAt(d), previous: current }, incident);
      } else if (
        confirmed &&
        SEVERITY_RANK[confirmed] < SEVERITY_RANK[current] &&
        trailingSlots(incident.timeline, i, current) >= required
      ) {
        incident = { ...incident, currentSeverity: confirmed, lastTransitionSlot: slot };
        enqueue({ event: 'deescalated', severity: confirmed, marker: slot, evidence: window.evidenceAt(d), previous: current }, incident);
      } else if (nowMs >= Date.parse(incident.lastPageAt) + settings.reminderMinutes * 60_000) {
        const n = incident.remindersSent + 1;
        incident = { ...incident, remindersSent: n, lastPageAt: iso(nowMs) };
        const recovery = verdictNow === 'up' ? recoveryOf(incident, settings, window) : undefined;
        enqueue({ event: 'reminder', severity: current, marker: n, evidence: window.evidenceAt(d), ...(recovery ? { recovery } : {}) }, incident);
      }
    }
  } else if (!stale && incident && incident.status === 'resolved' && incident.endedAt !== null && incident.lastTransitionSlot >= (evaluation.slots[0] ?? Infinity)) {
    incident = reconcileResolved(incident, window, evaluation);
  }
  if (!stale && incident?.status !== 'open' && verdictNow !== 'maintenance' && transitions.length === 0) {
    const confirmed = worstConfirmed(window, d);
    if (confirmed) {
      let first = d;
      while (first > 0 && isBad(window.verdicts[first - 1] ?? 'unknown')) first--;
      let startedAt = evaluation.slots[first] ?? slot;
      if (latest) startedAt = Math.max(startedAt, latest.lastTransitionSlot + i);
      const reopen =
        latest !== null && latest.status === 'resolved' && latest.endedAt !== null && startedAt - latest.endedAt <= settings.tuning.reopenWindowSeconds;
      const previous = incident ?? latest;
      if (reopen && previous && previous.endedAt !== null) {
        const gap: TimelineSegment[] = startedAt > previous.endedAt ? [{ from: previous.endedAt, to: startedAt, verdict: 'up', targets: [] }] : [];
        const base: IncidentRecord = {
          ...editable(previous),
          status: 'open',
          resolvedAt: null,
          endedAt: null,
          currentSeverity: confirmed,
          severity: worse(previous.severity, confirmed) as BadVerdict,
          lastTransitionSlot: slot,
          reopenedFrom: startedAt,
          lastPageAt: iso(nowMs),
        };
        base.timeline = foldTimeline(mergeTimeline([...base.timeline, ...gap], window, evaluation, startedAt), settings.tuning.maxTimelineSegments, foldBefore);
        incident = withFigures(base);
        enqueue({ event: 'opened', severity: confirmed, marker: slot, evidence: window.evidenceAt(d), reopened: true }, incident);
      } else {
        const seq = (latest?.seq ?? 0) + 1;
        const fresh: IncidentRecord = {
          incidentId: incidentIdOf(region, seq),
          region,
          seq,
          status: 'open',
          severity: confirmed,
          currentSeverity: confirmed,
          openedAt: iso(nowMs),
          resolvedAt: null,
          startedAt,
          endedAt: null,
          lastTransitionSlot: slot,
          downSeconds: 0,
          degradedSeconds: 0,
          readOnlySeconds: 0,
          maintenanceSeconds: 0,
          unknownSeconds: 0,
          flaps: 0,
          timeline: [],
          outbox: [],
          notifications: [],
          lastPageAt: iso(nowMs),
          remindersSent: 0,
          version: 0,
          updatedAt: iso(nowMs),
        };
        fresh.timeline = mergeTimeline([], window, evaluation, startedAt);
        incident = withFigures(fresh);
        created = true;
        enqueue({ event: 'opened', severity: confirmed, marker: slot, evidence: window.evidenceAt(d) }, incident);
      }
    }
  }

  const changed = incident !== null && (created || !latest || !sameJson({ ...incident, updatedAt: '' }, { ...latest, updatedAt: '' }));
  const outIncident = changed && incident ? { ...incident, updatedAt: iso(nowMs) } : null;
  const current = outIncident ?? latest;
  const open = current && current.status === 'open' ? current : null;

  // Status: what the region is now (after thresholds), for the status page and dashboards.
  const reported: Verdict =
    verdictNow === 'maintenance' || verdictNow === 'unknown' ? verdictNow : open ? open.currentSeverity : 'up';
  const evidence = window.evidenceAt(d).slice(0, MAX_EVIDENCE_TARGETS);
  const nextStatus: RegionStatusRecord = {
    region,
    verdict: reported,
    since: status && status.verdict === reported ? status.since : iso(nowMs),
    evaluatedSlot: slot,
    openIncidentId: open ? open.incidentId : null,
    summary: statusSummary(region, reported, evidence, probe, open, evaluation, settings, open && verdictNow === 'up' ? recoveryOf(open, settings, window) : undefined),
    targets: evidence,
    probeRegions: probe ?? { fresh: [], stale: [], impaired: [] },
    version: status?.version ?? 0,
    updatedAt: iso(nowMs),
  };
  // Written when what it says changes, not every slot: one write per region per change keeps batches cheap.
  const statusChanged =
    !status ||
    !sameJson(
      { ...nextStatus, updatedAt: '', since: '', version: 0, evaluatedSlot: 0 },
      { ...status, updatedAt: '', since: '', version: 0, evaluatedSlot: 0 },
    );
  return {
    incident: outIncident,
    created,
    transitions,
    status: statusChanged && (!status || slot >= status.evaluatedSlot) ? nextStatus : null,
  };
}

function statusSummary(
  region: string,
  verdict: Verdict,
  evidence: TargetEvidence[],
  probe: ProbeRegionsAt | undefined,
  open: IncidentRecord | null,
  evaluation: Pick<WindowEvaluation, 'waitingFor' | 'overdue'>,
  settings: EvaluationSettings,
  recovery: Recovery | undefined,
): string {
  const stays = open ? `; incident ${open.incidentId} stays open` : '';
  // No seconds in it: the status is rewritten when what it says changes, not on every run of a long lag.
  const waiting = evaluation.waitingFor.join(', ');
  if (verdict === 'maintenance') return `${region} is in a maintenance window`;
  if (evaluation.overdue && verdict === 'unknown') {
    return `${region}: no verdict, results from ${waiting || 'every probe region'} are more than ${formatDuration(settings.tuning.maxDataWaitSeconds)} late${stays}`;
  }
  const late = waiting && !evaluation.overdue ? `; waiting for late results from ${waiting}` : '';
  if (verdict === 'unknown') {
    return `${region}: too few fresh probe regions for a verdict (fresh: ${probe?.fresh.join(', ') || 'none'})${late}${stays}`;
  }
  if (verdict === 'up') return `${region} is up${late}`;
  // The verdict stays the incident's severity until it resolves; the words say what is happening now.
  if (open && recovery) return `${region} recovering: ${upSincePhrase(recovery)}; incident ${open.incidentId} ${resolvesPhrase(recovery)}${late}`;
  return `${region} is ${verdict}: ${failingPhrase(evidence, probe)}${late}`;
}

/** The outbox after a successful publish: the entry moves to the sent log. */
export function markPublished<T extends { outbox: OutboxEntry[]; notifications: SentNotification[] }>(record: T, dedupKey: string, publishedAtMs: number): T {
  const entry = record.outbox.find((o) => o.notification.dedupKey === dedupKey);
  if (!entry) return record;
  const n = entry.notification;
  const sent: SentNotification = { event: n.event, severity: n.severity, dedupKey, subject: n.subject, at: n.at, publishedAt: iso(publishedAtMs) };
  const notifications = record.notifications.some((s) => s.dedupKey === dedupKey) ? record.notifications : [...record.notifications, sent].slice(-MAX_SENT_LOG);
  return { ...record, outbox: record.outbox.filter((o) => o.notification.dedupKey !== dedupKey), notifications };
}

/** The outbox after a failed publish: the entry stays, with its attempt counted and the error's name and message. */
export function markFailed<T extends { outbox: OutboxEntry[] }>(record: T, dedupKey: string, error: string): T {
  return {
    ...record,
    outbox: record.outbox.map((o) => {
      if (o.notification.dedupKey !== dedupKey) return o;
      const { claimedBy: _by, claimedUntil: _until, ...rest } = o;
      return { ...rest, attempts: o.attempts + 1, lastError: error.slice(0, 300) };
    }),
  };
}

/** Entries this run may publish: unclaimed, claimed by it, or claimed by a run whose claim ran out (it died). */
export function claimable(outbox: readonly OutboxEntry[], runId: string, nowMs: number): OutboxEntry[] {
  return outbox.filter((o) => o.claimedBy === undefined || o.claimedBy === runId || (o.claimedUntil ?? 0) <= nowMs);
}

/** The record with `keys` claimed by `runId` until `untilMs`. */
export function claim<T extends { outbox: OutboxEntry[] }>(record: T, keys: ReadonlySet<string>, runId: string, untilMs: number): T {
  return { ...record, outbox: record.outbox.map((o) => (keys.has(o.notification.dedupKey) ? { ...o, claimedBy: runId, claimedUntil: untilMs } : o)) };
}
