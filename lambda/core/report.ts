// The report (core of `regionwatch report` and the demo's ending): per platform region and period, the incidents with
// their minutes, availability, time to detect and time to notify. Pure: the caller reads the incidents.
import type { MaintenanceSpan } from './evaluate';
import type { IncidentRecord } from './incident-record';
import { verdictSecondsWithin } from './timeline';

export interface IncidentReport {
  incidentId: string;
  openedAt: string;
  resolvedAt: string | null;
  /** Minutes inside the report period. */
  downMinutes: number;
  /** Includes readOnlyMinutes. */
  degradedMinutes: number;
  readOnlyMinutes: number;
  /** First failing result's slot → incident opened. */
  detectSeconds: number;
  /** First failing result's slot → the `opened` notification published; null while it is still pending. */
  notifySeconds: number | null;
  severity: string;
}

export interface RegionReport {
  downMinutes: number;
  /** Includes readOnlyMinutes (DESIGN). */
  degradedMinutes: number;
  readOnlyMinutes: number;
  maintenanceMinutes: number;
  /** 1 − down ÷ (period − maintenance), four decimals. */
  availability: number;
  incidents: IncidentReport[];
}

/** DESIGN.md's report object. */
export interface Report {
  from: string;
  to: string;
  regions: Record<string, RegionReport>;
  /** Notifications about these incidents sent inside the period. */
  notifications: number;
}

export interface ReportInput {
  /** ISO 8601 period, [from, to). */
  from: string;
  to: string;
  /** Platform regions in config order: every one gets an entry, with or without incidents. */
  regions: readonly string[];
  /** Incidents of any period: those overlapping [from, to) count, their minutes clipped to it. */
  incidents: readonly IncidentRecord[];
  maintenance: readonly MaintenanceSpan[];
}

const minutes = (seconds: number) => Math.round((seconds / 60) * 10) / 10;

/** Total length of the union of [start, end) spans clipped to [fromMs, toMs), in seconds. */
function unionSeconds(spans: readonly { startMs: number; endMs: number }[], fromMs: number, toMs: number): number {
  const parts = spans
    .map((s) => ({ a: Math.max(s.startMs, fromMs), b: Math.min(s.endMs, toMs) }))
    .filter((s) => s.b > s.a)
    .sort((x, y) => x.a - y.a);
  let total = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (const p of parts) {
    const a = Math.max(p.a, end);
    if (p.b > a) total += p.b - a;
    end = Math.max(end, p.b);
  }
  return total / 1000;
}

/** Builds the report; minutes come from the incidents' segments, so they match what the incidents say. */
export function buildReport(input: ReportInput): Report {
  const fromMs = Date.parse(input.from);
  const toMs = Date.parse(input.to);
  const fromS = fromMs / 1000;
  const toS = toMs / 1000;
  const periodSeconds = Math.max(0, toS - fromS);
  const regions: Record<string, RegionReport> = {};
  let notifications = 0;
  for (const region of input.regions) {
    const maintenanceSeconds = unionSeconds(input.maintenance.filter((m) => m.region === region), fromMs, toMs);
    let down = 0;
    let degraded = 0;
    let readOnly = 0;
    const reports: IncidentReport[] = [];
    const mine = input.incidents
      .filter((i) => i.region === region)
      .filter((i) => {
        const end = i.endedAt ?? (i.timeline[i.timeline.length - 1]?.to ?? i.startedAt);
        return i.startedAt < toS && Math.max(end, Date.parse(i.openedAt) / 1000) >= fromS;
      })
      .sort((a, b) => a.startedAt - b.startedAt);
    for (const incident of mine) {
      let d = 0;
      let g = 0;
      let r = 0;
      for (const s of incident.timeline) {
        // A summary segment (folded old segments) keeps seconds per verdict, not their times: exact when the period
        // holds it whole, spread evenly over it when the period cuts it.
        for (const [verdict, length] of verdictSecondsWithin(s, fromS, toS)) {
          if (verdict === 'down') d += length;
          else if (verdict === 'read-only') {
            r += length;
            g += length;
          } else if (verdict === 'degraded') g += length;
        }
      }
      down += d;
      degraded += g;
      readOnly += r;
      const opened = incident.notifications.find((n) => n.event === 'opened');
      notifications += incident.notifications.filter((n) => {
        const at = Date.parse(n.at);
        return at >= fromMs && at < toMs;
      }).length;
      reports.push({
        incidentId: incident.incidentId,
        openedAt: incident.openedAt,
        resolvedAt: incident.resolvedAt,
        downMinutes: minutes(d),
        degradedMinutes: minutes(g),
        readOnlyMinutes: minutes(r),
        detectSeconds: Math.round(Date.parse(incident.openedAt) / 1000 - incident.startedAt),
        notifySeconds: opened ? Math.round(Date.parse(opened.publishedAt) / 1000 - incident.startedAt) : null,
        severity: incident.severity,
      });
    }
    const counted = periodSeconds - maintenanceSeconds;
    regions[region] = {
      downMinutes: minutes(down),
      degradedMinutes: minutes(degraded),
      readOnlyMinutes: minutes(readOnly),
      maintenanceMinutes: minutes(maintenanceSeconds),
      availability: counted > 0 ? Math.round((1 - down / counted) * 10_000) / 10_000 : 1,
      incidents: reports,
    };
  }
  return { from: input.from, to: input.to, regions, notifications };
}
