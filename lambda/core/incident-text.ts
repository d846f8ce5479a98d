// What an incident's notifications and a region's status say: subjects, summaries and phrases, in one place so the
// words on-call reads at 3 a.m. are written (and pinned by tests) together.
import type { Notification, NotificationEvent, NotificationEvidence, TargetEvidence, Verdict } from './notification';
import { type BadVerdict, type EvaluationSettings, type ProbeRegionsAt, type WindowEvaluation, isBad } from './evaluate';
import { dedupKeyOf, MAX_EVIDENCE_TARGETS, type IncidentRecord } from './incident-record';

const iso = (epochMs: number) => new Date(epochMs).toISOString();

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

export interface NotificationDraft {
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

export function statusSummary(
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
