// The incident lifecycle of one platform region: open, escalate, de-escalate, remind, resolve (and reopen when it
// flaps), decided from a window evaluation and the region's newest incident. Pure: the caller stores and publishes.
//
// Every decision is a function of (stored incident, window of results, now), never of counters kept between batches:
// running it twice on the same input gives the same incident and owes no new notification.
import type { NotificationEvent, Verdict } from './notification';
import { type BadVerdict, type EvaluationSettings, type RegionWindow, type WindowEvaluation, isBad, SEVERITY_RANK, worse } from './evaluate';
import { incidentIdOf, MAX_EVIDENCE_TARGETS, type IncidentRecord, type RegionStatusRecord, type TimelineSegment } from './incident-record';
import { incidentNotification, statusSummary, type NotificationDraft, type Recovery } from './incident-text';
import { flapsOf, foldTimeline, mergeTimeline, secondsOf, trailingSlots } from './timeline';
import { sameJson } from './same-json';

// The lifecycle's parts, each in a file whose name says it; re-exported so `core/lifecycle` stays the one import
// for code (and tests) that speak of the lifecycle as a whole.
export * from './incident-record';
export * from './incident-text';
export * from './outbox';
export * from './same-json';
export * from './timeline';

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

/** Up slots needed to resolve: the recovery threshold, or the flap recovery time once the incident has flapped. */
export function requiredUpSlots(settings: EvaluationSettings, window: Pick<RegionWindow, 'recoveryThreshold'>, flaps: number): number {
  if (flaps === 0) return window.recoveryThreshold;
  return Math.max(window.recoveryThreshold, Math.ceil(settings.tuning.flapRecoverySeconds / settings.intervalSeconds));
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
    // Nothing is worse than down: the other targets cannot change the answer (a region of 1,000 targets down).
    if (worst === 'down') break;
  }
  return worst;
}

/**
 * What regionwatch sees of a region now, by the config's own thresholds and separately from whether an incident is
 * open: a target's failure counts once it held for its failure threshold, and the region is up again once it was up
 * for the recovery threshold, even while flap damping keeps its incident open (it resolves later). In between (up
 * for fewer slots than that, inside an open incident) the last confirmed verdict holds.
 */
export function currentVerdict(window: RegionWindow, d: number, verdictNow: Verdict, open: IncidentRecord | null): Verdict {
  if (verdictNow === 'maintenance' || verdictNow === 'unknown') return verdictNow;
  const confirmed = worstConfirmed(window, d);
  if (confirmed) return confirmed;
  if (!open) return 'up';
  let upSlots = 0;
  while (upSlots <= d && window.verdicts[d - upSlots] === 'up') upSlots++;
  if (upSlots >= window.recoveryThreshold) return 'up';
  for (let k = d - 1; k >= 0; k--) {
    const earlier = worstConfirmed(window, k);
    if (earlier) return earlier;
  }
  return open.currentSeverity;
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
      // An incident resolved at this very slot (a later batch of the slot brought confirmations that make it bad again)
      // opens again from the next slot, decided there: opened now it would start after its own decision slot, and the
      // slot's next batch re-derives it from then, finds it up, resolves it once more under the same dedupKey (no
      // transition) and opens a second incident beside the first, still open (confirm-by-time property, seed 67738699).
      if (startedAt <= slot) {
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
          enqueue({ event: 'opened', severity: confirmed, marker: slot, evidence: window.evidenceAt(d), reopenedAfterSeconds: Math.max(0, startedAt - previous.endedAt) }, incident);
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
  }

  const changed = incident !== null && (created || !latest || !sameJson({ ...incident, updatedAt: '' }, { ...latest, updatedAt: '' }));
  const outIncident = changed && incident ? { ...incident, updatedAt: iso(nowMs) } : null;
  const current = outIncident ?? latest;
  const open = current && current.status === 'open' ? current : null;

  // Status: what the region is now, for the status page, `status` and dashboards; the open incident beside it.
  const reported = currentVerdict(window, d, verdictNow, open);
  const recovery = open && verdictNow === 'up' ? recoveryOf(open, settings, window) : undefined;
  // The summary counts every failing target; the item keeps the worst few (evidenceAt sorts them) and the count of
  // the rest, so it stays a few KB with 10,000 targets down.
  const allEvidence = window.evidenceAt(d);
  const evidence = allEvidence.slice(0, MAX_EVIDENCE_TARGETS);
  const refused = window.refusalsAt(d).slice(0, MAX_EVIDENCE_TARGETS);
  const recovering = open && recovery && reported === 'up' ? { since: iso(recovery.since * 1000), resolvesAfterSeconds: recovery.requiredSeconds, flapping: recovery.flapping } : null;
  const nextStatus: RegionStatusRecord = {
    region,
    verdict: reported,
    // Up again inside an open incident: since the first up slot of the recovery, not since it passed the threshold.
    since: status && status.verdict === reported ? status.since : (recovering?.since ?? iso(nowMs)),
    evaluatedSlot: slot,
    openIncidentId: open ? open.incidentId : null,
    incidentSeverity: open ? open.currentSeverity : null,
    recovering,
    summary: statusSummary(region, reported, allEvidence, probe, open, evaluation, settings, recovery, refused),
    targets: evidence,
    ...(allEvidence.length > evidence.length ? { moreTargets: allEvidence.length - evidence.length } : {}),
    probeRegions: probe ?? { fresh: [], stale: [], impaired: [] },
    probeViews: window.probeViewsAt(d),
    ...(refused.length > 0 ? { refusedTargets: refused } : {}),
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
