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

/**
 * Round items sit on a ring of `resultRetentionHours` of seconds: the key holds the slot's second on the ring (slot
 * modulo the retention), so a round overwrites the item of the same probe region written one retention ago instead of
 * adding one that TTL deletes later. In a global table a TTL delete is replicated and paid in every other replica (a
 * write unit per item per replica, as much as the replication of the write itself); an overwrite is the write. TTL
 * (`expiresAt`, the slot plus the retention plus RING_TTL_MARGIN_SECONDS) still removes what no round overwrites: a
 * slot a prober missed, a ring left behind by a change of retention.
 */
export const ROUND_RING_PREFIX = 'ring#';
export const RING_TTL_MARGIN_SECONDS = 3600;

function ringSeconds(retentionHours: number): number {
  return retentionHours * 3600;
}

function ringPosition(slot: number, retentionHours: number): string {
  const ring = ringSeconds(retentionHours);
  return String(((slot % ring) + ring) % ring).padStart(7, '0');
}

/**
 * Sort key of a round item: its second on the ring first, so a window is one key range (two where it wraps), then
 * probe region, the shard (only when the round fans out over more than one: an unsharded round keeps the key it
 * always had) and part.
 */
export function roundSortKey(slot: number, probeRegion: string, part: number, retentionHours: number, shard?: { shard: number; shards: number }): string {
  const shardKey = shard && shard.shards > 1 ? `s${String(shard.shard).padStart(3, '0')}#` : '';
  return `${ROUND_RING_PREFIX}${ringPosition(slot, retentionHours)}#${probeRegion}#${shardKey}${String(part).padStart(3, '0')}`;
}

/**
 * Sort key of a confirmation item: beside the round of its slot and probe region on the ring (one Query reads both),
 * then its request's id (the same for every delivery of one request) and part. Each request has its own item, so
 * nothing overwrites a confirmation: TTL deletes it, a few hundred a month.
 */
export function confirmationSortKey(slot: number, probeRegion: string, batch: string, part: number, retentionHours: number): string {
  return `${ROUND_RING_PREFIX}${ringPosition(slot, retentionHours)}#${probeRegion}#confirm:${batch}#${String(part).padStart(3, '0')}`;
}

/**
 * The sort-key ranges of every item of one probe region in one slot (its round and confirmations): its ring position,
 * and the slot-first layout written before the ring (legacyRoundSortKeyRange). The ring position may still hold the
 * items of a retention ago; the reader keeps only the slot's.
 */
export function probeRegionSortKeyRanges(slot: number, probeRegion: string, retentionHours: number): Array<[string, string]> {
  const ring = `${ROUND_RING_PREFIX}${ringPosition(slot, retentionHours)}#${probeRegion}#`;
  const legacy = `${String(slot).padStart(10, '0')}#${probeRegion}#`;
  return [
    [ring, `${ring}~`],
    [legacy, `${legacy}~`],
  ];
}

/**
 * The sort-key ranges holding every round of slots in [fromSlot, toSlot]: one, or two where the window wraps around
 * the ring, or the whole ring for a window as long as the retention. They may also hold rounds of a retention ago not
 * yet overwritten; the reader keeps only the window's slots.
 */
export function roundSortKeyRanges(fromSlot: number, toSlot: number, retentionHours: number): Array<[string, string]> {
  const whole: [string, string] = [ROUND_RING_PREFIX, `${ROUND_RING_PREFIX}~`];
  if (toSlot - fromSlot >= ringSeconds(retentionHours) - 1) return [whole];
  const from = `${ROUND_RING_PREFIX}${ringPosition(fromSlot, retentionHours)}#`;
  const to = `${ROUND_RING_PREFIX}${ringPosition(toSlot, retentionHours)}#~`;
  if (from <= to) return [[from, to]];
  return [
    [from, whole[1]],
    [whole[0], to],
  ];
}

/**
 * The sort-key range of rounds written before the ring (the slot itself first, `0001775000000#...`): read beside the
 * ring so an aggregator's window spans the upgrade whole, until those items' TTL (the retention) has passed. Digits sort
 * before `ring#`, so the two layouts never share a range.
 */
export function legacyRoundSortKeyRange(fromSlot: number, toSlot: number): [string, string] {
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
