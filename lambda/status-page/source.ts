// Reads what a status page snapshot is built from: a handful of reads of the incident table (statuses, the checker,
// the lease, open incidents, the history window), the same for the renderer Lambda and for local mode.
import type { IncidentStore } from '../store/incident-store';
import { incidentsOverlapping } from '../store/incident-history';
import { DEFAULT_LEASE_MS } from '../store/lease';
import { buildSnapshot, type SnapshotInput, type StatusSnapshot } from './model';

export interface SnapshotReadOptions {
  config: SnapshotInput['config'];
  nowMs: number;
  /** The uptime bars' window and the spans regionwatch watched inside it. */
  history: SnapshotInput['history'];
  recentLimit?: number;
  speed?: number;
  banner?: string;
}

/** When the checker last showed it was running: the newest of its lease renewal and the items it wrote. */
export function checkedAtOf(lease: { holder: string | null; expiresAt: number } | null, updatedAt: readonly string[]): number | null {
  const times = updatedAt.map((t) => Date.parse(t)).filter((t) => Number.isFinite(t) && t > 0);
  // The holder renews once half the lease is gone, so it was running at least at expiresAt - lease.
  if (lease && lease.holder !== null) times.push(lease.expiresAt - DEFAULT_LEASE_MS);
  return times.length > 0 ? Math.max(...times) : null;
}

export async function readSnapshot(store: IncidentStore, options: SnapshotReadOptions): Promise<StatusSnapshot> {
  const regions = Object.keys(options.config.regions);
  const [statuses, checker, lease, openIncidents, historyIncidents] = await Promise.all([
    store.statuses(regions),
    store.readChecker(),
    store.readLease(),
    store.openIncidents(),
    incidentsOverlapping(store, regions, options.history.fromMs, options.nowMs),
  ]);
  const checkedAtMs = checkedAtOf(lease, [...statuses.map((s) => s.updatedAt), ...(checker ? [checker.updatedAt] : [])]);
  return buildSnapshot({
    config: options.config,
    nowMs: options.nowMs,
    statuses,
    checker,
    checkedAtMs,
    openIncidents,
    historyIncidents,
    history: options.history,
    ...(options.recentLimit !== undefined ? { recentLimit: options.recentLimit } : {}),
    ...(options.speed !== undefined ? { speed: options.speed } : {}),
    ...(options.banner !== undefined ? { banner: options.banner } : {}),
  });
}
