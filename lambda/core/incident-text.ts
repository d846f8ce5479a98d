// What an incident's notifications and a region's status say: subjects, summaries and phrases, in one place so the
// words on-call reads at 3 a.m. are written (and pinned by tests) together.
import type { Notification, NotificationEvent, NotificationEvidence, TargetEvidence, Verdict } from './notification';
import { type BadVerdict, type EvaluationSettings, type ProbeRegionsAt, type WindowEvaluation, isBad } from './evaluate';
import { dedupKeyOf, MAX_EVIDENCE_TARGETS, type IncidentRecord } from './incident-record';
import type { TargetRefusal } from './refusals';
import { noun, spokenDuration } from './words';

const iso = (epochMs: number) => new Date(epochMs).toISOString();

const LABEL: Record<Verdict, string> = {
  down: 'DOWN',
  'read-only': 'READ-ONLY',
  degraded: 'DEGRADED',
  up: 'UP',
  maintenance: 'MAINTENANCE',
  unknown: 'UNKNOWN',
};

/** "1h 02m", "20m", "45s": compact, for tables and timelines (sentences use spokenDuration). */
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

/** What happened, as the end of a sentence about a region's incident. */
const EVENT_SENTENCE: Record<NotificationEvent, string> = {
  opened: 'incident opened',
  escalated: 'incident escalated',
  deescalated: 'incident de-escalated',
  resolved: 'incident resolved',
  reminder: 'incident still open',
  checker: 'the checker needs attention',
  test: 'a test notification, no action needed',
};

/** The subject SNS and Slack use when a notification has none (a hand-made or very old one): `[DOWN] us: incident opened`. */
export function fallbackSubject(body: Pick<Notification, 'severity' | 'region' | 'event'>): string {
  return `[${LABEL[body.severity]}] ${body.region ?? 'regionwatch'}: ${EVENT_SENTENCE[body.event]}`;
}

/** `2026-04-14 14:10:00 UTC`: a moment in a sentence. */
export function utcStamp(epochMs: number): string {
  return `${iso(epochMs).slice(0, 10)} ${iso(epochMs).slice(11, 19)} UTC`;
}

/** Names shown in a subject before the rest are counted (`a, b, c, d and 3 more`). */
const NAMED_TARGETS = 4;

/**
 * `api, write-path failing from 3/3 probe regions`; `write-path refused from 2/3 probe regions` when only write probes
 * fail. `short` leaves out where from (a subject that would not fit otherwise; the summary keeps it).
 */
function failingPhrase(targets: readonly TargetEvidence[], probe: ProbeRegionsAt | undefined, short = false): string {
  const bad = targets.filter((t) => isBad(t.verdict));
  if (bad.length === 0) return 'no target failing now';
  const names = bad.slice(0, NAMED_TARGETS).map((t) => t.target).join(', ');
  const more = bad.length > NAMED_TARGETS ? ` and ${bad.length - NAMED_TARGETS} more` : '';
  const from = Math.max(...bad.map((t) => t.failingFrom.length));
  // Never fewer than see the targets: a probe region whose round is still missing a shard is not fresh at the slot yet,
  // but the shards that are in count for their targets (evaluate.ts), so it can be among those failing.
  const counted = Math.max(from, ...bad.map((t) => t.seenBy.length), probe ? probe.fresh.length : 0);
  const verb = bad.every((t) => t.verdict === 'read-only') ? 'refused' : 'failing';
  return `${names}${more} ${verb}${short ? '' : ` from ${from}/${counted} ${noun(counted, 'probe region')}`}`;
}

/** The first of the subjects that fits SNS's limit, else the last one cut to fit. */
function firstFitting(...subjects: string[]): string {
  const fitting = subjects.find((s) => fitSubject(s) === s.replace(/\s+/g, ' ').trim());
  return fitSubject(fitting ?? subjects[subjects.length - 1] ?? '');
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
  return `resolves after ${spokenDuration(recovery.requiredSeconds)} up${recovery.flapping ? ' (it flapped)' : ''}`;
}

/** `20 min down, 1 h 2 min degraded (of which 1 h 2 min read-only)`: an incident's time so far, worst first, zeros left out. */
export function incidentFigures(incident: Pick<IncidentRecord, 'downSeconds' | 'degradedSeconds' | 'readOnlySeconds'>): string {
  const parts: string[] = [];
  if (incident.downSeconds > 0 || incident.degradedSeconds <= 0) parts.push(`${spokenDuration(incident.downSeconds)} down`);
  if (incident.degradedSeconds > 0) {
    const readOnly = incident.readOnlySeconds <= 0 ? '' : incident.readOnlySeconds >= incident.degradedSeconds ? ', all of it read-only' : ` (of which ${spokenDuration(incident.readOnlySeconds)} read-only)`;
    parts.push(`${spokenDuration(incident.degradedSeconds)} degraded${readOnly}`);
  }
  return parts.join(', ');
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
  /** Set when the incident reopened: seconds it had been up (resolved) before failing again. */
  reopenedAfterSeconds?: number;
  /** A reminder sent while the region is up but the incident not yet resolved. */
  recovery?: Recovery;
}

/**
 * Subject, summary and evidence of an incident notification. The subject is a sentence after the severity tag
 * (`[DOWN] us is down: api failing from 3/3 probe regions`): the tag stays first because mail rules and on-call
 * filters match on it; the words after it say what happened without the body.
 */
export function incidentNotification(draft: NotificationDraft): Notification {
  const { event, severity, incident, nowMs, evidence, probe } = draft;
  const failing = failingPhrase(evidence, probe);
  const shortFailing = failingPhrase(evidence, probe, true);
  const region = incident.region;
  const id = incident.incidentId;
  const figures = incidentFigures(incident);
  const since = utcStamp(incident.startedAt * 1000);
  const tag = `[${LABEL[severity]}]`;
  let subject: string;
  let summary: string;
  switch (event) {
    case 'opened':
      if (draft.reopenedAfterSeconds !== undefined) {
        const after = spokenDuration(draft.reopenedAfterSeconds);
        subject = `${tag} ${region} is ${severity} again, ${after} after recovering: incident ${id} reopened`;
        summary = `${region} is ${severity} again, ${after} after recovering: ${failing}. Incident ${id} reopened; so far ${figures}.`;
      } else {
        subject = firstFitting(`${tag} ${region} is ${severity}: ${failing}`, `${tag} ${region} is ${severity}: ${shortFailing}`);
        summary = `${region} is ${severity} since ${since}: ${failing}. Incident ${id} opened.`;
      }
      break;
    case 'escalated':
    case 'deescalated': {
      const was = draft.previous ?? (event === 'escalated' ? 'degraded' : 'down');
      subject = firstFitting(`${tag} ${region} is ${severity} now (was ${was}): ${failing}`, `${tag} ${region} is ${severity} now (was ${was}): ${shortFailing}`);
      summary = `${region} is ${severity} now, ${event === 'escalated' ? 'worse' : 'better'} than ${was}: ${failing}. Incident ${id} ${event === 'escalated' ? `is open since ${utcStamp(Date.parse(incident.openedAt))}` : 'stays open'}.`;
      break;
    }
    case 'reminder': {
      const open = spokenDuration(nowMs / 1000 - incident.startedAt);
      const { recovery } = draft;
      if (recovery) {
        subject = `[REMINDER] ${tag} ${region} is recovering: ${upSincePhrase(recovery)}, incident open ${open}`;
        summary = `${region} is recovering: ${upSincePhrase(recovery)}. Incident ${id} stays open (${severity}) since ${since} and ${resolvesPhrase(recovery)}; so far ${figures}.`;
      } else {
        subject = firstFitting(`[REMINDER] ${tag} ${region} is still ${severity} after ${open}: ${failing}`, `[REMINDER] ${tag} ${region} is still ${severity} after ${open}: ${shortFailing}`);
        summary = `${region} is still ${severity} after ${open}: ${failing}. Incident ${id} is open since ${since}; so far ${figures}.`;
      }
      break;
    }
    case 'resolved': {
      const endedAt = incident.endedAt ?? nowMs / 1000;
      const down = incident.downSeconds > 0 ? ` (${spokenDuration(incident.downSeconds)} of it down)` : '';
      subject = `[RESOLVED] ${region} is up again after ${spokenDuration(endedAt - incident.startedAt)}${down}`;
      summary = `${region} is up again. Incident ${id} resolved after ${spokenDuration(endedAt - incident.startedAt)}, from ${since} to ${utcStamp(endedAt * 1000)}: ${figures}.`;
      break;
    }
    default:
      subject = `${tag} ${region} is ${severity}`;
      summary = subject;
  }
  const notificationEvidence: NotificationEvidence = {
    targets: evidence.slice(0, MAX_EVIDENCE_TARGETS * 2),
    ...(evidence.length > MAX_EVIDENCE_TARGETS * 2 ? { moreTargets: evidence.length - MAX_EVIDENCE_TARGETS * 2 } : {}),
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
  refused: readonly TargetRefusal[] = [],
): string {
  const stays = open ? `; incident ${open.incidentId} stays open` : '';
  // No seconds in it: the status is rewritten when what it says changes, not on every run of a long lag.
  const waiting = evaluation.waitingFor.join(', ');
  if (verdict === 'maintenance') return `${region} is in a maintenance window`;
  if (evaluation.overdue && verdict === 'unknown') {
    const late = waiting ? `results from ${waiting} are` : 'results from every probe region are';
    return `${region} has no verdict: ${late} more than ${spokenDuration(settings.tuning.maxDataWaitSeconds)} late${stays}`;
  }
  const late = waiting && !evaluation.overdue ? `; waiting for late results from ${waiting}` : '';
  // Targets we refuse to probe are the reason a person looks for first: what the page shows instead of a failure.
  const notProbed = refused.length > 0 ? notProbedPhrase(refused) : '';
  if (verdict === 'unknown') {
    if (notProbed) return `${region} has no verdict: ${notProbed}${late}${stays}`;
    return `${region} has no verdict: too few fresh probe regions (fresh: ${probe?.fresh.join(', ') || 'none'})${late}${stays}`;
  }
  const also = notProbed ? `; ${notProbed}` : '';
  // Up again (or nearly) inside an open incident: the verdict says what is seen now, the words what resolves it.
  if (open && recovery) return `${region} is recovering: ${upSincePhrase(recovery)}; incident ${open.incidentId} ${resolvesPhrase(recovery)}${also}${late}`;
  if (verdict === 'up') return `${region} is up${also}${late}`;
  return `${region} is ${verdict}: ${failingPhrase(evidence, probe)}${also}${late}`;
}

/**
 * `api is not probed: regionwatch refused to connect to a loopback address (set probing.allowPrivateAddresses to true
 * to probe it)`: targets our own guard refuses, with the first one's reason and fix.
 */
export function notProbedPhrase(refused: readonly TargetRefusal[]): string {
  const names = refused.slice(0, NAMED_TARGETS).map((r) => r.target).join(', ');
  const more = refused.length > NAMED_TARGETS ? ` and ${refused.length - NAMED_TARGETS} more` : '';
  const [reason = '', fix] = splitDetail(refused[0]?.detail ?? '');
  return `${names}${more} ${refused.length === 1 ? 'is' : 'are'} not probed: regionwatch ${reason}${fix ? ` (${fix})` : ''}`;
}

/** A refusal's detail (`refused to connect to a loopback address: set …`) as its reason and its fix. */
export function splitDetail(detail: string): [string, string | undefined] {
  const at = detail.indexOf(': ');
  return at < 0 ? [detail, undefined] : [detail.slice(0, at), detail.slice(at + 2)];
}
