// Human-readable text for `status`, `incidents`, `report` and the demo's ending: aligned lines, figures in minutes.
import { foldedSummary, shortTime } from '../status-page/html';
import type { IncidentView, RegionStatus } from '../status-page/model';
import { count, spokenDuration } from '../core/words';

/** DESIGN.md's report object (`report --json`, `demo --json`): the fields this text reads. */
export interface ReportLike {
  from: string;
  to: string;
  regions: Record<
    string,
    {
      downMinutes: number;
      degradedMinutes: number;
      readOnlyMinutes?: number;
      maintenanceMinutes?: number;
      availability?: number;
      incidents: {
        incidentId: string;
        openedAt: string;
        resolvedAt: string | null;
        downMinutes: number;
        degradedMinutes: number;
        readOnlyMinutes?: number;
        detectSeconds?: number | null;
        notifySeconds?: number | null;
      }[];
    }
  >;
  notifications: number;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

function availability(value: number | undefined): string {
  return value === undefined ? '' : `${(Math.floor(value * 10000) / 100).toFixed(2)}% available`;
}

export function formatReport(report: ReportLike): string[] {
  const lines = [`report ${shortTime(report.from, true)} – ${shortTime(report.to, true)} UTC`];
  const width = Math.max(4, ...Object.keys(report.regions).map((r) => r.length));
  for (const [region, r] of Object.entries(report.regions)) {
    const head = region.toUpperCase().padEnd(width);
    if (r.downMinutes === 0 && r.degradedMinutes === 0 && r.incidents.length === 0) {
      lines.push(`  ${head}  no interruption${r.availability !== undefined ? `  (${availability(r.availability)})` : ''}`);
      continue;
    }
    const readOnly = r.readOnlyMinutes !== undefined ? ` (${round1(r.readOnlyMinutes)} read-only)` : '';
    const maintenance = r.maintenanceMinutes ? `, ${round1(r.maintenanceMinutes)} min maintenance` : '';
    lines.push(
      `  ${head}  ${round1(r.downMinutes)} min down, ${round1(r.degradedMinutes)} min degraded${readOnly}${maintenance}; ${count(r.incidents.length, 'incident')}${r.availability !== undefined ? `; ${availability(r.availability)}` : ''}`,
    );
    for (const i of r.incidents) {
      const span = `${shortTime(i.openedAt, true)} – ${i.resolvedAt ? shortTime(i.resolvedAt, true) : 'open'}`;
      const detect = i.detectSeconds !== undefined && i.detectSeconds !== null ? `detected in ${Math.round(i.detectSeconds)} s` : 'detection time unknown';
      const notify = i.notifySeconds !== undefined && i.notifySeconds !== null ? `notified in ${Math.round(i.notifySeconds)} s` : 'not notified';
      lines.push(`  ${' '.repeat(width)}    ${span}: ${round1(i.downMinutes)} min down, ${round1(i.degradedMinutes)} min degraded; ${detect}, ${notify}  [${i.incidentId}]`);
    }
  }
  lines.push(`  ${count(report.notifications, 'notification')} sent`);
  return lines;
}

export function formatStatus(regions: readonly RegionStatus[], now: string): string[] {
  const width = Math.max(4, ...regions.map((r) => r.region.length));
  const lines = [`status at ${shortTime(now, true)} UTC`];
  for (const r of regions) {
    const since = r.since && r.verdict !== 'up' ? ` since ${shortTime(r.since, true)}` : '';
    const summary = r.summary ? `  ${r.summary}` : '';
    // The verdict is what is seen now; an open incident is named beside it (with its own severity while recovering).
    const recovering = r.recovering ? `, recovering: resolves after ${spokenDuration(r.recovering.resolvesAfterSeconds)} up` : '';
    const incident = r.openIncidentId ? `  [${r.openIncidentId} open${r.incidentSeverity && r.incidentSeverity !== r.verdict ? `, ${r.incidentSeverity}` : ''}${recovering}]` : '';
    lines.push(`  ${r.region.toUpperCase().padEnd(width)}  ${r.verdict.padEnd(9)}${since}${summary}${incident}`);
  }
  return lines;
}

export function formatIncident(i: IncidentView): string[] {
  const span = `${shortTime(i.openedAt, true)} – ${i.resolvedAt ? shortTime(i.resolvedAt, true) : 'open'}`;
  const lines = [
    `${i.region.toUpperCase()} ${i.status} ${i.severity}  ${span}  ${round1(i.downMinutes)} min down, ${round1(i.degradedMinutes)} min degraded (${round1(i.readOnlyMinutes)} read-only)  [${i.incidentId}]`,
  ];
  for (const s of i.timeline) {
    if (s.folded) {
      // A summary segment: one line with its flaps and time per verdict, not a span of its worst verdict.
      lines.push(`    ${shortTime(s.from, true)} – ${s.to ? shortTime(s.to) : 'now'}  · ${foldedSummary(s.folded)}`);
      continue;
    }
    lines.push(`    ${shortTime(s.from, true)} – ${s.to ? shortTime(s.to) : 'now  '}  ${s.verdict.padEnd(9)}${s.summary ? `  ${s.summary}` : ''}`.trimEnd());
  }
  if (i.notifications.length > 0) lines.push(`    notified: ${i.notifications.map((n) => `${n.event} ${shortTime(n.at)}`).join(', ')}`);
  return lines;
}
