// Keeps an incident item under DynamoDB's 400 KB item limit: evidence detail goes before the write would fail.
import { MAX_SENT_LOG, type IncidentRecord } from './incident-record';
import { foldTimeline } from './timeline';

/** DynamoDB's item limit is 400 KB (names and values); this leaves room for keys, index attributes and the encoding. */
export const MAX_INCIDENT_ITEM_BYTES = 350_000;

/** Sent notifications kept when an item must shrink (the newest). */
const SHRUNK_SENT_LOG = 10;
/** Segments kept one by one when an item must shrink further (the rest folded). */
const SHRUNK_SEGMENTS = 40;

const encoder = new TextEncoder();

/** The record's size as JSON, in bytes: close to (and above) what DynamoDB counts for the same attributes. */
export function incidentBytes(record: IncidentRecord): number {
  return encoder.encode(JSON.stringify(record)).length;
}

/**
 * The record, smaller when it would not fit: first the timeline's evidence (targets, probe regions) goes, then all but
 * the newest sent notifications, then old segments are folded (never those from `foldBefore` on, which the next run
 * re-derives), then the evidence of owed notifications (the page still goes, with its summary and figures). Times,
 * verdicts, seconds and the outbox itself are never dropped. `trimmed` says what went, for a warning.
 */
export function fitIncident(record: IncidentRecord, foldBefore: number, maxBytes = MAX_INCIDENT_ITEM_BYTES): { record: IncidentRecord; bytes: number; trimmed: string[] } {
  const trimmed: string[] = [];
  let next = record;
  let bytes = incidentBytes(next);
  const steps: [string, (r: IncidentRecord) => IncidentRecord][] = [
    ['timeline evidence', (r) => ({ ...r, timeline: r.timeline.map(({ from, to, verdict, folded }) => ({ from, to, verdict, targets: [], ...(folded ? { folded } : {}) })) })],
    ['sent log', (r) => ({ ...r, notifications: r.notifications.slice(-Math.min(SHRUNK_SENT_LOG, MAX_SENT_LOG)) })],
    ['old segments', (r) => ({ ...r, timeline: foldTimeline(r.timeline, SHRUNK_SEGMENTS, foldBefore) })],
    ['notification evidence', (r) => ({ ...r, outbox: r.outbox.map((o) => ({ ...o, notification: { ...o.notification, evidence: { ...o.notification.evidence, targets: [] } } })) })],
  ];
  for (const [what, shrink] of steps) {
    if (bytes <= maxBytes) break;
    next = shrink(next);
    bytes = incidentBytes(next);
    trimmed.push(what);
  }
  return { record: next, bytes, trimmed };
}
