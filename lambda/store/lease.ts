// The aggregator's lease: of the aggregators running in every probe region, the one holding it acts; the others stand by.
import type { IncidentStore, LeaseRecord } from './incident-store';

export interface LeaseOptions {
  /** This aggregator's probe region. */
  probeRegion: string;
  /** Preference order: the home region first, then the others in `probeRegions` order (see leaseOrder). */
  order: readonly string[];
  /** How long a lease lasts without renewal. Default 60 s. */
  leaseMs?: number;
  /** Extra wait per rank after expiry, so the preferred standby takes over first. Default 20 s. */
  staggerMs?: number;
}

export const DEFAULT_LEASE_MS = 60_000;
export const DEFAULT_STAGGER_MS = 20_000;

/** Home region first, then the other probe regions in config order. */
export function leaseOrder(homeRegion: string, probeRegions: readonly string[]): string[] {
  return [homeRegion, ...probeRegions.filter((p) => p !== homeRegion)];
}

export interface LeaseOutcome {
  holder: boolean;
  lease: LeaseRecord | null;
}

/**
 * Acquires or renews the lease at `nowMs`. The holder renews once half the lease has gone (one write per half
 * lease, not per batch). A standby of rank r takes a lease that expired at least r × stagger ago: with the
 * defaults the home region takes over at once, the next after 20 s, the third after 40 s, so a dead holder is
 * replaced within lease + 2 × stagger = 100 s (< two minutes). A vacancy (no lease item) is taken by the home
 * region at once; a standby first records the vacancy so its wait has a start. Every write is conditional:
 * two candidates racing for one lease produce one holder.
 */
export async function acquireLease(store: Pick<IncidentStore, 'readLease' | 'putLease'>, options: LeaseOptions, nowMs: number): Promise<LeaseOutcome> {
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const staggerMs = options.staggerMs ?? DEFAULT_STAGGER_MS;
  const me = options.probeRegion;
  const found = options.order.indexOf(me);
  const rank = found < 0 ? options.order.length : found;
  // Bounded: a lost race re-reads once more at most.
  for (let attempt = 0; attempt < 2; attempt++) {
    const lease = await store.readLease();
    const fresh: LeaseRecord = { holder: me, expiresAt: nowMs + leaseMs, acquiredAt: nowMs, version: 0 };
    if (lease && lease.holder === me) {
      if (lease.expiresAt - nowMs > leaseMs / 2) return { holder: true, lease };
      const renewed: LeaseRecord = { ...lease, expiresAt: nowMs + leaseMs };
      if (await store.putLease(renewed, lease.version)) return { holder: true, lease: { ...renewed, version: lease.version + 1 } };
      continue;
    }
    if (!lease) {
      const record: LeaseRecord = rank === 0 ? fresh : { holder: null, expiresAt: nowMs, acquiredAt: nowMs, version: 0 };
      if (await store.putLease(record, null)) return { holder: rank === 0, lease: { ...record, version: 1 } };
      continue;
    }
    if (nowMs - lease.expiresAt >= rank * staggerMs) {
      if (await store.putLease(fresh, lease.version)) return { holder: true, lease: { ...fresh, version: lease.version + 1 } };
      continue;
    }
    return { holder: false, lease };
  }
  return { holder: false, lease: await store.readLease() };
}
