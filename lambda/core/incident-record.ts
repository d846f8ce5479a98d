// What the incident table stores of an incident and a region's status: the records, their ids and dedupKeys. The
// lifecycle (lifecycle.ts) decides them, the store (lambda/store) writes them, dashboards and the status page read them.
import type { Notification, NotificationEvent, TargetEvidence, Verdict } from './notification';
import type { ErrorClass } from './results';
import type { BadVerdict, ProbeRegionsAt, ProbeView } from './evaluate';
import type { TargetRefusal } from './refusals';

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

/** An open incident whose region is up again, not yet for as long as its resolve needs (flap damping). */
export interface RecoveringState {
  /** ISO time of the first slot of the trailing up run. */
  since: string;
  /** Seconds of up in a row that resolve the incident. */
  resolvesAfterSeconds: number;
  /** Whether the longer flap recovery applies (the incident was bad again after being up). */
  flapping: boolean;
}

/**
 * The current-status record of a platform region (one item per region). `verdict` is what regionwatch sees now, by
 * the config's thresholds; whether an incident is still open is separate (`openIncidentId`, `incidentSeverity`): a
 * region up again inside an open incident is `up` with `recovering` set until the incident resolves.
 */
export interface RegionStatusRecord {
  region: string;
  verdict: Verdict;
  /** ISO time the region entered this verdict (as far as this record knows). */
  since: string;
  /** The slot (epoch seconds) this status was derived at: the status is rewritten when it changes, not every slot. */
  evaluatedSlot: number;
  openIncidentId: string | null;
  /** The open incident's severity now (its de-escalation and resolve are damped, so it may differ from `verdict`); null without one. Absent on items written before it existed. */
  incidentSeverity?: BadVerdict | null;
  /** Set while the region is up but its incident still open; null otherwise. Absent on items written before it existed. */
  recovering?: RecoveringState | null;
  summary: string;
  /** Targets not up at the evaluated slot, worst first (at most MAX_EVIDENCE_TARGETS). */
  targets: TargetEvidence[];
  /** Targets not up beyond those listed; absent when all are listed. */
  moreTargets?: number;
  probeRegions: ProbeRegionsAt;
  /**
   * Targets regionwatch refuses to probe (its SSRF guard), with the guard's reason and fix (at most MAX_EVIDENCE_TARGETS);
   * present only while there are some. They count in no verdict; the checker alerts about each.
   */
  refusedTargets?: TargetRefusal[];
  /** What each probe region's latest fresh results say of this platform region (impaired ones included): "who sees what". Absent on items written before it existed. */
  probeViews?: Record<string, ProbeView>;
  version: number;
  updatedAt: string;
}

/** Incident id: region and zero-padded sequence, e.g. `us-00042`. */
export function incidentIdOf(region: string, seq: number): string {
  return `${region}-${String(seq).padStart(5, '0')}`;
}

/** `dedupKey` of a transition: identical wherever and however often it is published. */
export function dedupKeyOf(region: string, incidentId: string, event: NotificationEvent, marker: number | string): string {
  return `${region}/${incidentId}/${event}/${marker}`;
}

/** The sequence number in an incident id (`us-00042` → 42), or null when the id is not one of the region's. */
export function seqOfIncidentId(region: string, incidentId: string): number | null {
  if (!incidentId.startsWith(`${region}-`)) return null;
  const digits = incidentId.slice(region.length + 1);
  return /^\d{1,9}$/.test(digits) ? Number(digits) : null;
}
