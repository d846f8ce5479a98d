// Key layout of the tables, shared by the store code, the CDK constructs and local mode so they cannot drift.

/** Results table: one item per probe region, slot and part. Stream on, TTL on `expiresAt`. */
export const RESULTS_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
  /** Every round item carries `kind: 'round'`, a confirmation `kind: 'confirmation'`; the aggregator's stream filter matches on both. */
  kindAttribute: 'kind',
  roundKind: 'round',
  confirmationKind: 'confirmation',
  /** All rounds share one partition so one Query reads a time window across every probe region. */
  roundsPartition: 'rounds',
} as const;

/** Sort key of a round item: slot first so a window is one key range, then probe region and part. */
export function roundSortKey(slot: number, probeRegion: string, part: number): string {
  return `${String(slot).padStart(10, '0')}#${probeRegion}#${String(part).padStart(3, '0')}`;
}

/**
 * Sort key of a confirmation item: beside the rounds of its slot (one Query reads both), then its probe region, its
 * request's id (the same for every delivery of one request) and part.
 */
export function confirmationSortKey(slot: number, probeRegion: string, batch: string, part: number): string {
  return `${String(slot).padStart(10, '0')}#${probeRegion}#confirm:${batch}#${String(part).padStart(3, '0')}`;
}

/** Lower and upper sort-key bounds for every item of one probe region in one slot (its round and confirmations). */
export function probeRegionSortKeyRange(slot: number, probeRegion: string): [string, string] {
  return [`${String(slot).padStart(10, '0')}#${probeRegion}#`, `${String(slot).padStart(10, '0')}#${probeRegion}#~`];
}

/** Lower and upper sort-key bounds for every round of slots in [fromSlot, toSlot]. */
export function roundSortKeyRange(fromSlot: number, toSlot: number): [string, string] {
  return [`${String(fromSlot).padStart(10, '0')}#`, `${String(toSlot).padStart(10, '0')}#~`];
}

/**
 * Claims table: one regional table per probe region (not a global table), where the prober claims (probe region,
 * minute) and (probe region, slot) with conditional puts, and the targets it confirmed in a slot with an UpdateItem. Nothing outside the probe region reads a claim, so it needs no
 * replica: in the global results table each claim was written three times and TTL-deleted twice more (docs/cost.md).
 * TTL on `expiresAt`, which is free in a regional table. The claim items keep their layout from the results table.
 */
export const CLAIMS_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
  /** The prober's claims (minutes, slots, confirmations) live in their own partition, so a table holding rounds too (local mode's) keeps them out of round queries. */
  claimsPartition: 'prober-claims',
} as const;

/**
 * Incident table: incidents, one current-status item per platform region, and the aggregator's lease.
 * PITR, deletion protection and RETAIN on AWS. The README's "Incident table" section documents the items.
 */
export const INCIDENTS_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** "All open incidents": sparse, only an open incident carries `openKey` (= 'open'). */
  openIncidentsIndex: { name: 'open-incidents', partitionKey: 'openKey', sortKey: 'openedAt' },
  /** "Incidents of region R between T1 and T2": incident items carry `incidentRegion` and `openedAt` (ISO 8601). */
  regionIncidentsIndex: { name: 'region-incidents', partitionKey: 'incidentRegion', sortKey: 'openedAt' },
  openKeyValue: 'open',
} as const;
