// What a simulation showed, as DESIGN.md's `simulate --json` object, judged against the scenario's faults.
//
// Definitions (docs/simulate.md states them for users):
// - a *page* is a notification about a platform region: opened, escalated, deescalated (they say what the region
//   is now), resolved and reminder. Checker notifications are listed but are about regionwatch itself.
// - a *detection* is the first page in [from, to + lateToleranceSeconds] of a detectable platform fault that tells
//   on-call the fault's verdict (down → down, read-only → read-only, slow → degraded or down by its latency, flap and
//   errors at rate 1 → down); `from` is where the fault starts outside maintenance windows. A fault that starts while
//   on-call has already been paged with that verdict (an incident that is open at it) needs no new page: it is
//   *covered*, neither detected nor missed.
// - a *missed fault* is a detectable platform fault at least two failure thresholds long (outside maintenance; for a
//   flap, its down phase) that was neither detected nor covered.
// - a *false notification* is a page whose decision rests on slots in which its region had no platform fault: for
//   opened, escalated and deescalated, the failure threshold of slots ending at the decision slot (the dedupKey's
//   marker); resolved and reminder pages are false when the page that opened their incident was.
// - a *duplicate notification* is a delivery of a dedupKey that was already delivered, or an incident opened while
//   another incident of the same region was open (a double open).
import type { RegionwatchConfig } from '../config/schema';
import { resolveTargets, type ResolvedTarget } from '../config/resolve';
import { DEFAULT_LIFECYCLE, failingSlotsRequired } from '../core/evaluate';
import type { NotificationEvent, Verdict } from '../core/notification';
import { isPlatformFault, type PlatformFaultEvent, type Scenario } from './scenario';
import type { SimulationTrace } from './simulator';
import { expectedVerdict } from './synth';

export interface SimulatedIncident {
  region: string;
  openedAt: number;
  resolvedAt: number | null;
  downSeconds: number;
  degradedSeconds: number;
  readOnlySeconds: number;
}

export interface SimulatedNotification {
  at: number;
  event: NotificationEvent;
  /** Null for checker notifications about regionwatch itself. */
  region: string | null;
  severity: Verdict;
}

export interface Detection {
  region: string;
  fault: string;
  from: number;
  detectedAt: number;
  seconds: number;
}

/** DESIGN.md's `simulate --json` object, exactly. */
export interface SimulationReport {
  incidents: SimulatedIncident[];
  notifications: SimulatedNotification[];
  detections: Detection[];
  falseNotifications: number;
  missedFaults: number;
  duplicateNotifications: number;
}

/** How each platform fault was judged, for the human summary and tests. */
export interface FaultJudgement {
  event: PlatformFaultEvent;
  expected: 'down' | 'read-only' | 'degraded' | null;
  outcome: 'detected' | 'covered' | 'missed' | 'short' | 'undetectable' | 'maintenance';
  detection?: Detection;
}

export interface Judged {
  report: SimulationReport;
  faults: FaultJudgement[];
  /** Indexes into report.notifications of the false ones. */
  falseAt: number[];
}

/** Scenario seconds, to a tenth. */
function secondsFrom(t0: number, ms: number): number {
  return Math.round((ms - t0) / 100) / 10;
}

const PAGE_STATE_EVENTS: ReadonlySet<NotificationEvent> = new Set(['opened', 'escalated', 'deescalated']);

/**
 * The slots that confirm a page: a failure threshold of slots ending at its decision slot, or as many as
 * `minFaultSeconds` spans when that is longer (the same figure with aligned and staggered rounds: staggered rounds
 * and confirmations decide within the decision slot and the one before it, which this covers).
 */
function thresholdSeconds(targets: readonly ResolvedTarget[], region: string, role?: 'write-probe'): number {
  const mine = targets.filter((t) => t.region === region && (role === undefined || t.role === role));
  if (mine.length === 0) return 0;
  return Math.min(...mine.map((t) => failingSlotsRequired(t, t.intervalSeconds) * t.intervalSeconds));
}

/** [from, to) minus the region's maintenance windows, in scenario seconds. */
function outsideMaintenance(config: RegionwatchConfig, t0: number, region: string, from: number, to: number): [number, number][] {
  let pieces: [number, number][] = [[from, to]];
  for (const m of config.maintenance) {
    if (m.region !== region) continue;
    const ms = (Date.parse(m.start) - t0) / 1000;
    const me = (Date.parse(m.end) - t0) / 1000;
    const next: [number, number][] = [];
    for (const [a, b] of pieces) {
      if (me <= a || ms >= b) next.push([a, b]);
      else {
        if (a < ms) next.push([a, ms]);
        if (me < b) next.push([me, b]);
      }
    }
    pieces = next;
  }
  return pieces;
}

export function judge(scenario: Scenario, trace: SimulationTrace): Judged {
  const config = scenario.config;
  const t0 = scenario.startAtMs;
  const targets = resolveTargets(config);
  const interval = config.defaults.intervalSeconds;
  const grace = DEFAULT_LIFECYCLE.lateToleranceSeconds;

  const incidents: SimulatedIncident[] = trace.incidents.map((i) => ({
    region: i.region,
    openedAt: secondsFrom(t0, Date.parse(i.openedAt)),
    resolvedAt: i.resolvedAt === null ? null : secondsFrom(t0, Date.parse(i.resolvedAt)),
    downSeconds: i.downSeconds,
    degradedSeconds: i.degradedSeconds,
    readOnlySeconds: i.readOnlySeconds,
  }));
  const notifications: SimulatedNotification[] = trace.deliveries.map((d) => ({
    at: secondsFrom(t0, d.atMs),
    event: d.notification.event,
    region: d.notification.region,
    severity: d.notification.severity,
  }));

  // Duplicates: a dedupKey delivered again, or an incident opened while another of its region was open.
  const seen = new Set<string>();
  let duplicates = 0;
  for (const d of trace.deliveries) {
    if (seen.has(d.notification.dedupKey)) duplicates++;
    seen.add(d.notification.dedupKey);
  }
  const byRegion = new Map<string, typeof trace.incidents>();
  for (const i of trace.incidents) byRegion.set(i.region, [...(byRegion.get(i.region) ?? []), i]);
  for (const list of byRegion.values()) {
    const sorted = [...list].sort((a, b) => a.seq - b.seq);
    for (let n = 1; n < sorted.length; n++) {
      const prev = sorted[n - 1];
      const cur = sorted[n];
      if (prev && cur && (prev.resolvedAt === null || Date.parse(cur.openedAt) < Date.parse(prev.resolvedAt))) duplicates++;
    }
  }

  // False pages: judged by the slots each decision rests on.
  const platformFaults = scenario.events.filter(isPlatformFault);
  const hadFault = (region: string, from: number, to: number) => platformFaults.some((e) => e.region === region && e.from < to && from < e.to);
  const falseOpen = new Map<string, boolean>();
  const falseAt: number[] = [];
  trace.deliveries.forEach((d, n) => {
    const { region, event, incidentId, dedupKey } = d.notification;
    if (region === null || event === 'checker') return;
    let isFalse: boolean;
    if (PAGE_STATE_EVENTS.has(event)) {
      const marker = Number(dedupKey.slice(dedupKey.lastIndexOf('/') + 1));
      const decision = Number.isFinite(marker) ? (marker * 1000 - t0) / 1000 : (d.atMs - t0) / 1000;
      const span = Math.max(interval, thresholdSeconds(targets, region));
      isFalse = !hadFault(region, decision + interval - span, decision + interval);
      if (event === 'opened' && incidentId !== null) falseOpen.set(incidentId, isFalse);
    } else {
      isFalse = incidentId !== null && falseOpen.get(incidentId) === true;
    }
    if (isFalse) falseAt.push(n);
  });

  // What on-call had been told about each region, over time: the severity of the last page, null once resolved.
  const pagedAt = (region: string, atS: number): Verdict | null => {
    let state: Verdict | null = null;
    for (const n of notifications) {
      if (n.at >= atS) break;
      if (n.region !== region) continue;
      if (PAGE_STATE_EVENTS.has(n.event)) state = n.severity;
      else if (n.event === 'resolved') state = null;
    }
    return state;
  };

  const used = new Set<number>();
  const faults: FaultJudgement[] = [];
  const detections: Detection[] = [];
  let missed = 0;
  for (const e of [...platformFaults].sort((a, b) => a.from - b.from)) {
    const expected = expectedVerdict(e, targets);
    if (expected === null) {
      faults.push({ event: e, expected, outcome: 'undetectable' });
      continue;
    }
    const pieces = outsideMaintenance(config, t0, e.region, e.from, e.to);
    const first = pieces[0];
    if (!first) {
      faults.push({ event: e, expected, outcome: 'maintenance' });
      continue;
    }
    const [from] = first;
    const last = pieces[pieces.length - 1] ?? first;
    const until = last[1] + grace;
    const hit = notifications.findIndex((n, k) => !used.has(k) && n.region === e.region && PAGE_STATE_EVENTS.has(n.event) && n.severity === expected && n.at >= from && n.at <= until);
    const found = notifications[hit];
    if (found) {
      used.add(hit);
      const detection: Detection = { region: e.region, fault: e.fault, from, detectedAt: found.at, seconds: Math.round((found.at - from) * 10) / 10 };
      detections.push(detection);
      faults.push({ event: e, expected, outcome: 'detected', detection });
      continue;
    }
    if (pagedAt(e.region, from) === expected) {
      faults.push({ event: e, expected, outcome: 'covered' });
      continue;
    }
    const minimum = 2 * thresholdSeconds(targets, e.region, expected === 'read-only' ? 'write-probe' : undefined);
    const longest = Math.max(...pieces.map(([a, b]) => b - a));
    const badStretch = e.fault === 'flap' ? Math.min(longest, e.downSeconds ?? e.periodSeconds / 2) : longest;
    if (badStretch >= minimum) {
      missed++;
      faults.push({ event: e, expected, outcome: 'missed' });
    } else faults.push({ event: e, expected, outcome: 'short' });
  }

  return {
    report: {
      incidents,
      notifications,
      detections: detections.sort((a, b) => a.from - b.from || a.region.localeCompare(b.region)),
      falseNotifications: falseAt.length,
      missedFaults: missed,
      duplicateNotifications: duplicates,
    },
    faults,
    falseAt,
  };
}
