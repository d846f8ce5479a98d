// Writes and reads round records in the results table: one item per probe region, slot and shard, Brotli-packed.
import { createHash } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync } from 'node:zlib';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { isConfirmation, type ProbeResult, type ResultStatus, type RoundRecord } from '../core/results';
import { targetKey } from '../core/confirmation';
import { RESULTS_TABLE, RING_TTL_MARGIN_SECONDS, confirmationSortKey, legacyRoundSortKeyRange, probeRegionSortKeyRanges, roundSortKey, roundSortKeyRanges } from './tables';

/** DynamoDB's item limit is 400 KB; keep a margin for the other attributes. */
export const MAX_PACKED_BYTES = 350 * 1024;

export interface ResultsStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** How long results live before TTL removes them. */
  retentionHours: number;
}

export interface RoundItem {
  pk: string;
  sk: string;
  kind: 'round' | 'confirmation';
  /** A confirmation's request id (lambda/core/confirmation.ts confirmationBatchId); rounds have none. */
  batch?: string;
  probeRegion: string;
  slot: number;
  intervalSeconds: number;
  startedAt: number;
  finishedAt: number;
  part: number;
  parts: number;
  /** Only on a round that fanned out over more than one shard (lambda/core/results.ts). */
  shard?: number;
  shards?: number;
  resultCount: number;
  /** Brotli of the JSON array of results (gzip in items written before it): a tenth of the write units of plain attributes. */
  results: Uint8Array;
  expiresAt: number;
}

/**
 * Up to this much JSON a round is packed at Brotli's best quality (11), above it at quality 7. Quality 11 packs a
 * 50-target round (7.6 KB of JSON) to about 750 B where gzip took 1,007, so its item stays under 1 KB: one write unit
 * instead of two, and every write unit of a round item is paid three times in a global table (the write, its
 * replication, the replicated TTL delete; docs/cost.md). It costs about 8 ms of one core there, but 200 ms at 1,000
 * targets (150 KB), too much of a round's time at the prober's CPU share; quality 7 still packs smaller than gzip in
 * about the time gzip takes.
 */
export const BEST_PACKING_MAX_JSON_BYTES = 32 * 1024;

export function packResults(results: readonly ProbeResult[]): Uint8Array {
  const json = Buffer.from(JSON.stringify(results), 'utf8');
  const quality = json.byteLength <= BEST_PACKING_MAX_JSON_BYTES ? constants.BROTLI_MAX_QUALITY : 7;
  return brotliCompressSync(json, {
    params: { [constants.BROTLI_PARAM_QUALITY]: quality, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT, [constants.BROTLI_PARAM_SIZE_HINT]: json.byteLength },
  });
}

/**
 * The JSON text of packed results. Items written before Brotli are gzip, told by gzip's magic bytes (1f 8b), so the
 * aggregator reads a window that spans the upgrade; anything else is Brotli, which has no magic number.
 */
export function unpackResultsText(packed: Uint8Array): string {
  const gzip = packed.byteLength >= 2 && packed[0] === 0x1f && packed[1] === 0x8b;
  return (gzip ? gunzipSync(packed) : brotliDecompressSync(packed)).toString('utf8');
}

export function unpackResults(packed: Uint8Array): ProbeResult[] {
  const parsed: unknown = JSON.parse(unpackResultsText(packed));
  if (!Array.isArray(parsed)) throw new TypeError('round item results are not an array');
  return parsed as ProbeResult[];
}

/**
 * Splits a round's results into as few items as fit under the size limit.
 * The split is a pure function of the results, so a retried round writes the same keys.
 */
export function toRoundItems(
  round: Omit<RoundRecord, 'part' | 'parts'>,
  retentionHours: number,
  maxPackedBytes = MAX_PACKED_BYTES,
): RoundItem[] {
  const chunks = splitToFit(round.results, maxPackedBytes);
  const confirmation = isConfirmation(round);
  const batch = round.batch ?? '';
  const sharded = !confirmation && round.shards !== undefined && round.shards > 1 ? { shard: round.shard ?? 0, shards: round.shards } : undefined;
  return chunks.map(({ results, packed }, part) => ({
    pk: RESULTS_TABLE.roundsPartition,
    sk: confirmation ? confirmationSortKey(round.slot, round.probeRegion, batch, part, retentionHours) : roundSortKey(round.slot, round.probeRegion, part, retentionHours, sharded),
    kind: confirmation ? RESULTS_TABLE.confirmationKind : RESULTS_TABLE.roundKind,
    ...(confirmation ? { batch } : {}),
    probeRegion: round.probeRegion,
    slot: round.slot,
    intervalSeconds: round.intervalSeconds,
    startedAt: round.startedAt,
    finishedAt: round.finishedAt,
    part,
    parts: chunks.length,
    ...sharded,
    resultCount: results.length,
    results: packed,
    // A round: past the retention by a margin, so the round of the same ring position one retention later overwrites it
    // first, and TTL deletes (replicated and paid in every other replica) only what no round overwrites. A confirmation,
    // which nothing overwrites: at the retention.
    expiresAt: round.slot + retentionHours * 3600 + (confirmation ? 0 : RING_TTL_MARGIN_SECONDS),
  }));
}

function splitToFit(results: readonly ProbeResult[], maxPackedBytes: number): { results: ProbeResult[]; packed: Uint8Array }[] {
  const packed = packResults(results);
  if (packed.byteLength <= maxPackedBytes || results.length <= 1) return [{ results: [...results], packed }];
  const half = Math.ceil(results.length / 2);
  return [...splitToFit(results.slice(0, half), maxPackedBytes), ...splitToFit(results.slice(half), maxPackedBytes)];
}

export function fromRoundItem(item: Record<string, unknown>): RoundRecord {
  const packed = item.results;
  if (!(packed instanceof Uint8Array)) throw new TypeError(`round item ${String(item.sk)} has no packed results`);
  const record: RoundRecord = {
    probeRegion: String(item.probeRegion),
    slot: Number(item.slot),
    intervalSeconds: Number(item.intervalSeconds),
    startedAt: Number(item.startedAt),
    finishedAt: Number(item.finishedAt),
    part: Number(item.part),
    parts: Number(item.parts),
    ...(typeof item.shards === 'number' && item.shards > 1 ? { shard: Number(item.shard), shards: item.shards } : {}),
    results: unpackResults(packed),
  };
  if (item.kind === RESULTS_TABLE.confirmationKind) {
    record.kind = 'confirmation';
    record.batch = String(item.batch ?? '');
  }
  return record;
}

/**
 * Decoded round items of a warm process, by sort key, slot and a hash of the packed bytes: every aggregator run reads the
 * whole window again (25 slots at 10 s), and unpacking it is most of the run at scale (10,000 targets × 3 probe
 * regions: 75 items, 750,000 results), while only the newest slot's items are new. The hash makes it exact: the same
 * bytes decode to the same results, a rewritten item (other bytes) is decoded afresh.
 */
class DecodedRounds {
  private readonly byKey = new Map<string, { hash: string; slot: number; record: RoundRecord }>();
  /** Items unpacked so far (a cache hit does not count). */
  unpacked = 0;

  constructor(private readonly keepSeconds: number) {}

  decode(item: Record<string, unknown>): RoundRecord {
    const packed = item.results;
    if (!(packed instanceof Uint8Array)) return fromRoundItem(item);
    // The slot too: a ring position's sort key comes back one retention later for another slot.
    const key = `${String(item.sk)}@${String(item.slot)}`;
    const hash = createHash('sha1').update(packed).digest('base64');
    const cached = this.byKey.get(key);
    if (cached && cached.hash === hash) return cached.record;
    const record = fromRoundItem(item);
    this.unpacked++;
    this.byKey.set(key, { hash, slot: record.slot, record });
    return record;
  }

  /** Forgets items more than keepSeconds older than the newest slot read: outside any window a run reads. */
  evict(newestSlot: number): void {
    for (const [key, entry] of this.byKey) if (entry.slot < newestSlot - this.keepSeconds) this.byKey.delete(key);
  }
}

/** Longer than any window a run reads (the late window reaches maxDataWaitSeconds, 300 s, past the usual 250 s). */
const DECODED_KEEP_SECONDS = 900;

export class ResultsStore {
  private readonly decoded = new DecodedRounds(DECODED_KEEP_SECONDS);

  constructor(private readonly options: ResultsStoreOptions) {}

  /** Round items this process has unpacked, each once however often it was read (for tests and the bench). */
  get unpackedItems(): number {
    return this.decoded.unpacked;
  }

  /**
   * Writes a round; the key is (the slot's ring position, probe region, shard, part), so writing the same round twice
   * leaves one copy, and a round replaces the one of a retention ago.
   */
  async writeRound(round: Omit<RoundRecord, 'part' | 'parts'>): Promise<number> {
    const items = toRoundItems(round, this.options.retentionHours);
    for (const item of items) {
      await this.options.client.send(new PutCommand({ TableName: this.options.tableName, Item: item }));
    }
    return items.length;
  }

  /**
   * Every round record of slots in [fromSlot, toSlot], across all probe regions, in one key range.
   * When a round was rewritten with a different number of parts, only the newest run's parts count.
   */
  async readRounds(fromSlot: number, toSlot: number): Promise<RoundRecord[]> {
    const ranges = [...roundSortKeyRanges(fromSlot, toSlot, this.options.retentionHours), legacyRoundSortKeyRange(fromSlot, toSlot)];
    const records = (await Promise.all(ranges.map(([low, high]) => this.query(low, high, fromSlot, toSlot)))).flat();
    // In slot order, as one key range of slot-first keys used to return them, whatever ranges the window took (a stable
    // sort: within a slot, the key order of its ring position).
    records.sort((a, b) => a.slot - b.slot);
    return newestRunOnly(records);
  }

  /**
   * One probe region's newest check of each target (`region/target` → status) over `slots`: its rounds and the
   * confirmations it ran there, newest by `at`, counting only checks that started before `beforeMs` (so a round never
   * reads its own checks as the previous ones). Two small Queries per slot (its ring position, and the layout before
   * the ring), made only when a round sees a failure.
   */
  async newestChecks(probeRegion: string, slots: readonly number[], beforeMs = Number.POSITIVE_INFINITY): Promise<Map<string, ResultStatus>> {
    const ranges = slots.flatMap((slot) => probeRegionSortKeyRanges(slot, probeRegion, this.options.retentionHours).map((range) => ({ slot, range })));
    const records = newestRunOnly((await Promise.all(ranges.map(({ slot, range: [low, high] }) => this.query(low, high, slot, slot)))).flat());
    const newest = new Map<string, { at: number; status: ResultStatus }>();
    for (const record of records) {
      for (const r of record.results) {
        const key = targetKey(r.region, r.target);
        const at = r.at ?? record.startedAt;
        if (at >= beforeMs) continue;
        const have = newest.get(key);
        if (!have || at >= have.at) newest.set(key, { at, status: r.status });
      }
    }
    return new Map([...newest].map(([key, { status }]) => [key, status]));
  }

  /** The records of one key range whose slot is in [fromSlot, toSlot]. */
  private async query(low: string, high: string, fromSlot: number, toSlot: number): Promise<RoundRecord[]> {
    const records: RoundRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.options.client.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :low AND :high',
          ExpressionAttributeNames: { '#pk': RESULTS_TABLE.partitionKey, '#sk': RESULTS_TABLE.sortKey },
          ExpressionAttributeValues: { ':pk': RESULTS_TABLE.roundsPartition, ':low': low, ':high': high },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        // A ring position holds the items of a retention ago until this slot's overwrite them: not unpacked.
        const slot = Number(item.slot);
        if (slot >= fromSlot && slot <= toSlot) records.push(this.decoded.decode(item));
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    // Bounded in every process that reads (the aggregator's window, the prober's look at its previous checks).
    const newestSlot = records.reduce((n, r) => Math.max(n, r.slot), Number.NEGATIVE_INFINITY);
    if (Number.isFinite(newestSlot)) this.decoded.evict(newestSlot);
    return records;
  }
}

/** One run of a record: a round's shard per slot and probe region (each shard is its own invocation, with its own start), a confirmation per request id. */
function runKey(r: RoundRecord): string {
  return `${r.slot}#${r.probeRegion}#${isConfirmation(r) ? `confirm:${r.batch ?? ''}` : `round:${r.shard ?? 0}`}`;
}

function newestRunOnly(records: RoundRecord[]): RoundRecord[] {
  const newest = new Map<string, number>();
  for (const r of records) {
    const key = runKey(r);
    newest.set(key, Math.max(newest.get(key) ?? 0, r.startedAt));
  }
  return records.filter((r) => newest.get(runKey(r)) === r.startedAt && r.part < r.parts);
}
