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

/**
 * The lease as this aggregator process last saw it, so that it reads the lease item only when what it saw could have
 * changed. Every stream batch invokes every region's aggregator (three a round per region with staggered rounds), and
 * each read the lease, a strongly consistent GetItem: about 18 a minute per region, where the lease changes hands only
 * when it expires. Nothing else can change it before then, because every write of the lease is conditional on what
 * acquireLease read: the holder keeps its lease without a read while more than half of it is left (when it would not
 * renew anyway), and a standby keeps standing by without a read until it could take over (the lease it saw expired
 * rank × stagger ago), which is when it would have found the same lease by reading. So the takeover comes exactly when
 * it did, and the reads drop to about one per renewal (two a minute). A process starts knowing nothing and reads.
 */
export class LeaseKeeper {
  private known: LeaseOutcome | null = null;
  private readonly rank: number;

  constructor(
    private readonly store: Pick<IncidentStore, 'readLease' | 'putLease'>,
    private readonly options: LeaseOptions,
  ) {
    const found = options.order.indexOf(options.probeRegion);
    this.rank = found < 0 ? options.order.length : found;
  }

  /** acquireLease, or what it would answer without reading, when the lease seen last cannot have changed since. */
  async acquire(nowMs: number): Promise<LeaseOutcome & { read: boolean }> {
    const known = this.known;
    if (known?.lease && this.unchangedAt(known, known.lease, nowMs)) return { ...known, read: false };
    const outcome = await acquireLease(this.store, this.options, nowMs);
    this.known = outcome;
    return { ...outcome, read: true };
  }

  private unchangedAt(known: LeaseOutcome, lease: LeaseRecord, nowMs: number): boolean {
    const leaseMs = this.options.leaseMs ?? DEFAULT_LEASE_MS;
    const staggerMs = this.options.staggerMs ?? DEFAULT_STAGGER_MS;
    if (known.holder) return lease.holder === this.options.probeRegion && lease.expiresAt - nowMs > leaseMs / 2;
    return nowMs - lease.expiresAt < this.rank * staggerMs;
  }
}
