// What the status page shows, built once from the incident table's records (pure): the same snapshot renders the
// hosted files (S3 behind CloudFront) and local mode's page, so both show the same thing.
import type { RegionwatchConfig } from '../config/schema';
import type { CheckerRecord, ProbeRegionHealth } from '../core/checker';
import type { BadVerdict, ProbeView } from '../core/evaluate';
import type { FoldedSegments, IncidentRecord, RecoveringState, RegionStatusRecord } from '../core/incident-record';
import type { Verdict } from '../core/notification';
import type { TargetRefusal } from '../core/refusals';
import { buildHistory } from './history';
import { incidentView, regionStatusView } from './views';

export type { ProbeView } from '../core/evaluate';

export interface RegionStatus {
  region: string;
  /** What regionwatch sees now (up, degraded, read-only, down, maintenance, unknown). */
  verdict: Verdict;
  /** ISO time the region entered this verdict, when known. */
  since?: string;
  /** One human line (failing targets and from where, or what resolves the open incident). */
  summary?: string;
  /** The open incident, if any: whether one is open is separate from the verdict. */
  openIncidentId?: string;
  /** The open incident's severity now (damped: it can stay `down` while the region is already up again). */
  incidentSeverity?: BadVerdict;
  /** Set while the region is up again inside its open incident. */
  recovering?: RecoveringState;
  /** What each probe region sees of this platform region, by probe region. */
  probeViews?: Record<string, ProbeView>;
  /**
   * Targets regionwatch's own guard refuses to probe, with why: not probed, so neither down nor up (a region whose
   * every target is refused has verdict `unknown`). Present only while some are.
   */
  refusedTargets?: TargetRefusal[];
}

export interface ProbeRegionStatus {
  probeRegion: string;
  /** The checker's view of the probe region itself: ok, silent (no rounds), impaired (left out of quorum); unknown before it was seen. */
  state: ProbeRegionHealth | 'unknown';
  /** ISO time it entered that state, when known. */
  since?: string;
  /** Counted in the quorum at the newest status (fresh and not impaired). */
  counted: boolean;
}

export interface TimelineSegment {
  verdict: Verdict;
  from: string;
  /** Null while the segment is still going on. */
  to: string | null;
  summary?: string;
  /**
   * Set on a summary segment (the incident's oldest segments folded into one): `verdict` is the worst of them, and
   * only seconds per verdict and flaps are known, not their times.
   */
  folded?: Pick<FoldedSegments, 'segments' | 'seconds' | 'flaps'>;
}

export interface IncidentView {
  incidentId: string;
  region: string;
  status: 'open' | 'resolved';
  severity: Verdict;
  openedAt: string;
  resolvedAt: string | null;
  downMinutes: number;
  degradedMinutes: number;
  readOnlyMinutes: number;
  timeline: TimelineSegment[];
  notifications: { at: string; event: string; subject?: string }[];
}

/** One uptime bar: a stretch of time coloured by the worst verdict any incident had in it. */
export interface HistoryBar {
  from: string;
  to: string;
  worst: Verdict | 'no-data';
  downMinutes: number;
  degradedMinutes: number;
}

export interface RegionHistory {
  region: string;
  bars: HistoryBar[];
  /** Share of the watched time not down, 0..1 (null with no data). */
  uptime: number | null;
}

export interface MaintenanceView {
  region: string;
  start: string;
  end: string;
  reason?: string;
}

export interface StatusSnapshot {
  platform: string;
  /** The page's title. */
  title: string;
  /** ISO time on the clock the pipeline runs on (the scenario's clock in the demo). */
  now: string;
  /** ISO time regionwatch last showed it was checking (its aggregator's lease); null when unknown. */
  checkedAt: string | null;
  /** True when the checker has not shown it was checking for STALE_AFTER_MS: the page may be out of date. */
  stale: boolean;
  /** ISO time the page's data begins (its first watched span): before it the bars say "no data". */
  watchedSince: string | null;
  /** Set when the clock runs faster than real time (the demo). */
  speed?: number;
  /** Extra line under the title, such as the demo's progress. */
  banner?: string;
  regions: RegionStatus[];
  probeRegions: ProbeRegionStatus[];
  openIncidents: IncidentView[];
  recentIncidents: IncidentView[];
  maintenance: { current: MaintenanceView[]; upcoming: MaintenanceView[] };
  history: { from: string; to: string; bucketMinutes: number; regions: RegionHistory[] };
}

/** What builds a snapshot: the incident table's records and what the config says (all read by the caller). */
export interface SnapshotInput {
  config: Pick<RegionwatchConfig, 'platform' | 'probeRegions' | 'regions' | 'maintenance'> & { statusPage?: { title?: string | null } };
  nowMs: number;
  statuses: readonly RegionStatusRecord[];
  checker: CheckerRecord | null;
  /** Epoch ms the aggregator last renewed or took its lease (it renews every half lease while it runs); null without one. */
  checkedAtMs: number | null;
  openIncidents: readonly IncidentRecord[];
  /** Incidents overlapping the history window, any status. */
  historyIncidents: readonly IncidentRecord[];
  /** The uptime bars: [fromMs, toMs) in `bars` bars, counting only the spans regionwatch watched. */
  history: { fromMs: number; toMs: number; bars: number; observed: readonly { fromMs: number; toMs: number }[] };
  /** Resolved incidents shown below the open ones. Default 5. */
  recentLimit?: number;
  speed?: number;
  banner?: string;
}

/** The checker shows it is alive by renewing its lease every 30 s; a takeover takes under two minutes. Older than this is stale. */
export const STALE_AFTER_MS = 3 * 60_000;
/** Upcoming maintenance windows listed at most, and how far ahead. */
const UPCOMING_MAX = 10;
const UPCOMING_DAYS = 30;

/**
 * A region with no verdict only because regionwatch refuses to probe its targets (the lifecycle says so first when
 * both hold): the page and the badge say "not probed", never down and not a bare "unknown".
 */
export function notProbedOnly(status: Pick<RegionStatus, 'verdict' | 'refusedTargets'>): boolean {
  return status.verdict === 'unknown' && (status.refusedTargets?.length ?? 0) > 0;
}

/** The page's title: the config's, or `<platform> status`. */
export function pageTitle(config: SnapshotInput['config']): string {
  const title = config.statusPage?.title;
  return title !== undefined && title !== null && title.trim() !== '' ? title : `${config.platform} status`;
}

export function buildSnapshot(input: SnapshotInput): StatusSnapshot {
  const { config, nowMs } = input;
  const platformRegions = Object.keys(config.regions);
  const regions = platformRegions.map((region) => regionStatusView(region, input.statuses.find((s) => s.region === region)));
  const newest = [...input.statuses].sort((a, b) => b.evaluatedSlot - a.evaluatedSlot)[0];
  const probeRegions: ProbeRegionStatus[] = config.probeRegions.map((probeRegion) => {
    const health = input.checker?.probeRegions[probeRegion];
    const counted = newest ? newest.probeRegions.fresh.includes(probeRegion) : false;
    return {
      probeRegion,
      state: health?.state ?? 'unknown',
      ...(health ? { since: new Date(health.since * 1000).toISOString() } : {}),
      counted,
    };
  });
  const recentLimit = input.recentLimit ?? 5;
  const recent = input.historyIncidents
    .filter((i) => i.status === 'resolved')
    .sort((a, b) => (b.resolvedAt ?? '').localeCompare(a.resolvedAt ?? ''))
    .slice(0, recentLimit)
    .map(incidentView);
  const windows = config.maintenance.map((m) => ({ region: m.region, start: m.start, end: m.end, ...(m.reason ? { reason: m.reason } : {}) }));
  const current = windows.filter((m) => Date.parse(m.start) <= nowMs && nowMs < Date.parse(m.end));
  const upcoming = windows
    .filter((m) => Date.parse(m.start) > nowMs && Date.parse(m.start) <= nowMs + UPCOMING_DAYS * 24 * 3600_000)
    .sort((a, b) => a.start.localeCompare(b.start))
    .slice(0, UPCOMING_MAX);
  const history = buildHistory(input.historyIncidents.map(incidentView), platformRegions, { ...input.history, nowMs });
  return {
    platform: config.platform,
    title: pageTitle(config),
    now: new Date(nowMs).toISOString(),
    checkedAt: input.checkedAtMs === null ? null : new Date(input.checkedAtMs).toISOString(),
    stale: input.checkedAtMs === null || nowMs - input.checkedAtMs > STALE_AFTER_MS,
    watchedSince: input.history.observed.length > 0 ? new Date(Math.min(...input.history.observed.map((o) => o.fromMs))).toISOString() : null,
    ...(input.speed !== undefined && input.speed !== 1 ? { speed: input.speed } : {}),
    ...(input.banner ? { banner: input.banner } : {}),
    regions,
    probeRegions,
    openIncidents: [...input.openIncidents].sort((a, b) => a.openedAt.localeCompare(b.openedAt)).map(incidentView),
    recentIncidents: recent,
    maintenance: { current, upcoming },
    history,
  };
}
