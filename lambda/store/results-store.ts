// Writes and reads round records in the results table: one item per probe region, slot and shard, gzip-packed.
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { isConfirmation, type ProbeResult, type ResultStatus, type RoundRecord } from '../core/results';
import { targetKey } from '../core/confirmation';
import { confirmationSortKey, probeRegionSortKeyRange, RESULTS_TABLE, roundSortKey, roundSortKeyRange } from './tables';

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
  /** gzip of the JSON array of results: a tenth of the write units of plain attributes. */
  results: Uint8Array;
  expiresAt: number;
}

export function packResults(results: readonly ProbeResult[]): Uint8Array {
  return gzipSync(JSON.stringify(results));
}

export function unpackResults(packed: Uint8Array): ProbeResult[] {
  const parsed: unknown = JSON.parse(gunzipSync(packed).toString('utf8'));
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
    sk: confirmation ? confirmationSortKey(round.slot, round.probeRegion, batch, part) : roundSortKey(round.slot, round.probeRegion, part, sharded),
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
    expiresAt: round.slot + retentionHours * 3600,
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
 * Decoded round items of a warm process, by sort key and a hash of the packed bytes: every aggregator run reads the
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
    const key = String(item.sk);
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

  /** Writes a round; the key is (slot, probe region, shard, part), so writing the same round twice leaves one copy. */
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
    return newestRunOnly(await this.query(...roundSortKeyRange(fromSlot, toSlot)));
  }

  /**
   * One probe region's newest check of each target (`region/target` → status) over `slots`: its rounds and the
   * confirmations it ran there, newest by `at`, counting only checks that started before `beforeMs` (so a round never
   * reads its own checks as the previous ones). One small Query per slot, made only when a round sees a failure.
   */
  async newestChecks(probeRegion: string, slots: readonly number[], beforeMs = Number.POSITIVE_INFINITY): Promise<Map<string, ResultStatus>> {
    const records = newestRunOnly((await Promise.all(slots.map((slot) => this.query(...probeRegionSortKeyRange(slot, probeRegion))))).flat());
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

  private async query(low: string, high: string): Promise<RoundRecord[]> {
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
      for (const item of page.Items ?? []) records.push(this.decoded.decode(item));
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
