// From the incident table's records to what the status page and the read commands show.
import type { IncidentRecord, RegionStatusRecord, TimelineSegment as StoredSegment } from '../core/incident-record';
import type { IncidentView, RegionStatus, TimelineSegment } from './model';

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

/** `api, write-path: status from 3 probe regions`: which targets, what failed, from how many places. */
export function segmentSummary(segment: Pick<StoredSegment, 'targets' | 'moreTargets'>): string | undefined {
  if (segment.targets.length === 0) return undefined;
  const names = segment.targets.map((t) => t.target).join(', ');
  const more = segment.moreTargets ? ` and ${segment.moreTargets} more` : '';
  const classes = [...new Set(segment.targets.flatMap((t) => t.errorClasses))];
  const from = new Set(segment.targets.flatMap((t) => t.failingFrom));
  return `${names}${more}${classes.length > 0 ? `: ${classes.join(', ')}` : ''} from ${from.size} probe region${from.size === 1 ? '' : 's'}`;
}

export function incidentView(record: IncidentRecord): IncidentView {
  const last = record.timeline.length - 1;
  const timeline: TimelineSegment[] = record.timeline.map((s, n) => {
    const summary = segmentSummary(s);
    return {
      verdict: s.verdict,
      from: iso(s.from),
      to: record.status === 'open' && n === last ? null : iso(s.to),
      ...(summary ? { summary } : {}),
      ...(s.folded ? { folded: { segments: s.folded.segments, seconds: { ...s.folded.seconds }, flaps: s.folded.flaps } } : {}),
    };
  });
  return {
    incidentId: record.incidentId,
    region: record.region,
    status: record.status,
    severity: record.severity,
    openedAt: record.openedAt,
    resolvedAt: record.resolvedAt,
    downMinutes: record.downSeconds / 60,
    degradedMinutes: record.degradedSeconds / 60,
    readOnlyMinutes: record.readOnlySeconds / 60,
    timeline,
    notifications: record.notifications.map((n) => ({ at: n.at, event: n.event, subject: n.subject })),
  };
}

/** A region's status now, `unknown` when it has not been evaluated yet. */
export function regionStatusView(region: string, record: RegionStatusRecord | null | undefined): RegionStatus {
  if (!record) return { region, verdict: 'unknown', summary: 'no verdict yet' };
  return {
    region,
    verdict: record.verdict,
    since: record.since,
    ...(record.summary ? { summary: record.summary } : {}),
    ...(record.openIncidentId ? { openIncidentId: record.openIncidentId } : {}),
    ...(record.openIncidentId && record.incidentSeverity ? { incidentSeverity: record.incidentSeverity } : {}),
    ...(record.recovering ? { recovering: record.recovering } : {}),
    ...(record.probeViews ? { probeViews: record.probeViews } : {}),
    ...(record.refusedTargets && record.refusedTargets.length > 0 ? { refusedTargets: record.refusedTargets } : {}),
  };
}
