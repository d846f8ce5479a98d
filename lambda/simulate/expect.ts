// A scenario's `expect` block checked against what the simulation showed.
import type { NotificationEvent } from '../core/notification';
import type { SimulationReport } from './report';
import type { ScenarioExpect } from './scenario';
import type { SimulationTrace, Takeover } from './simulator';

/** Minutes may differ from the expectation by this much when the scenario sets no tolerance. */
export const DEFAULT_TOLERANCE_MINUTES = 0.5;

export interface ExpectationResult {
  /** What was checked, e.g. `downMinutes.us`. */
  what: string;
  expected: string;
  got: string;
  ok: boolean;
}

function sumBy(report: SimulationReport, region: string, field: 'downSeconds' | 'degradedSeconds' | 'readOnlySeconds'): number {
  return report.incidents.filter((i) => i.region === region).reduce((s, i) => s + i[field], 0);
}

const minutes = (seconds: number) => Math.round((seconds / 60) * 100) / 100;

export function checkExpectations(
  expect: ScenarioExpect | undefined,
  report: SimulationReport,
  takeovers: readonly Takeover[],
  traffic?: Pick<SimulationTrace, 'confirmations'>,
): ExpectationResult[] {
  if (!expect) return [];
  const out: ExpectationResult[] = [];
  const exact = (what: string, expected: number, got: number) => out.push({ what, expected: String(expected), got: String(got), ok: expected === got });
  for (const [region, n] of Object.entries(expect.incidents ?? {})) exact(`incidents.${region}`, n, report.incidents.filter((i) => i.region === region).length);
  const tolerance = expect.toleranceMinutes ?? DEFAULT_TOLERANCE_MINUTES;
  const fields = [
    ['downMinutes', 'downSeconds'],
    ['degradedMinutes', 'degradedSeconds'],
    ['readOnlyMinutes', 'readOnlySeconds'],
  ] as const;
  for (const [key, field] of fields) {
    for (const [region, want] of Object.entries(expect[key] ?? {})) {
      const got = minutes(sumBy(report, region, field));
      out.push({ what: `${key}.${region}`, expected: `${want} ± ${tolerance}`, got: String(got), ok: Math.abs(got - want) <= tolerance + 1e-9 });
    }
  }
  for (const [event, n] of Object.entries(expect.notifications ?? {}) as [NotificationEvent, number][]) {
    exact(`notifications.${event}`, n, report.notifications.filter((x) => x.event === event).length);
  }
  if (expect.detections !== undefined) exact('detections', expect.detections, report.detections.length);
  if (expect.maxDetectionSeconds !== undefined) {
    const slowest = Math.max(0, ...report.detections.map((d) => d.seconds));
    out.push({ what: 'maxDetectionSeconds', expected: `<= ${expect.maxDetectionSeconds}`, got: String(slowest), ok: slowest <= expect.maxDetectionSeconds });
  }
  if (expect.falseNotifications !== undefined) exact('falseNotifications', expect.falseNotifications, report.falseNotifications);
  if (expect.missedFaults !== undefined) exact('missedFaults', expect.missedFaults, report.missedFaults);
  if (expect.duplicateNotifications !== undefined) exact('duplicateNotifications', expect.duplicateNotifications, report.duplicateNotifications);
  if (expect.maxRequestsPerTargetPerSlot !== undefined) {
    const most = traffic?.confirmations.maxRequestsPerTargetSlot ?? 0;
    out.push({ what: 'maxRequestsPerTargetPerSlot', expected: `<= ${expect.maxRequestsPerTargetPerSlot}`, got: String(most), ok: most <= expect.maxRequestsPerTargetPerSlot });
  }
  if (expect.maxTakeoverSeconds !== undefined) {
    const limit = expect.maxTakeoverSeconds;
    if (takeovers.length === 0) out.push({ what: 'maxTakeoverSeconds', expected: `<= ${limit}`, got: 'no lost lease holder in the scenario', ok: false });
    for (const t of takeovers) {
      out.push({
        what: `takeover after ${t.awsRegion} lost at ${t.from} s`,
        expected: `<= ${limit} s`,
        got: t.seconds === null ? 'none' : `${t.seconds} s by ${t.by ?? '?'}`,
        ok: t.seconds !== null && t.seconds <= limit,
      });
    }
  }
  return out;
}
