// A DynamoDB stream batch of round items → one engine run, with partial batch failures for records that cannot be read.
import { gunzipSync } from 'node:zlib';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { RESULTS_TABLE } from '../store/tables';
import type { AggregatorRun } from './engine';

/** A stream record that is not a readable round item. It goes to the failure destination; the batch goes on. */
export class PoisonRecordError extends Error {
  override readonly name = 'PoisonRecordError';
}

export type DecodedRecord = { kind: 'round'; probeRegion: string; slot: number; regions: string[] } | { kind: 'ignored'; why: string };

/**
 * Reads what the aggregator needs from one stream record: the platform regions its round touches.
 * Removals (TTL expiry) and other item kinds are ignored; a round item that does not decode is poison.
 */
export function decodeStreamRecord(record: DynamoDBRecord): DecodedRecord {
  if (record.eventName === 'REMOVE') return { kind: 'ignored', why: 'removal' };
  const image = record.dynamodb?.NewImage;
  if (!image) throw new PoisonRecordError('stream record has no new image (the stream view type must include NEW_IMAGE)');
  const kind = image[RESULTS_TABLE.kindAttribute]?.S;
  if (kind !== RESULTS_TABLE.roundKind) return { kind: 'ignored', why: `item kind ${kind ?? 'none'}` };
  const probeRegion = image.probeRegion?.S;
  const slot = Number(image.slot?.N);
  const packed = image.results?.B;
  if (!probeRegion || !Number.isInteger(slot) || typeof packed !== 'string') throw new PoisonRecordError('round item lacks probeRegion, slot or packed results');
  let parsed: unknown;
  try {
    parsed = JSON.parse(gunzipSync(Buffer.from(packed, 'base64')).toString('utf8'));
  } catch (error: unknown) {
    throw new PoisonRecordError(`round item results do not decode: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!Array.isArray(parsed)) throw new PoisonRecordError('round item results are not an array');
  const regions = new Set<string>();
  for (const r of parsed) {
    const region = (r as { region?: unknown } | null)?.region;
    if (typeof region !== 'string') throw new PoisonRecordError('a result in the round item has no platform region');
    regions.add(region);
  }
  return { kind: 'round', probeRegion, slot, regions: [...regions] };
}

export interface StreamBatchOutcome extends DynamoDBBatchResponse {
  run: AggregatorRun | null;
  poison: { sequenceNumber: string; reason: string }[];
  /** Set when the run itself failed: every record was reported failed so the stream retries the batch. */
  runError?: string;
}

/**
 * Handles one batch: decodes every record (a poison one is reported in `batchItemFailures`, so the stream's
 * on-failure destination receives it once its retries are spent, while the rest of the batch is processed),
 * then runs the engine once for the platform regions the batch touches. DynamoDB calls therefore grow with the
 * regions touched, never with the records. If the run fails, every record is reported failed: the retry re-derives
 * everything from the stored window, so repeating work is harmless.
 */
export async function handleStreamBatch(
  event: DynamoDBStreamEvent,
  run: (regions: readonly string[]) => Promise<AggregatorRun>,
  log?: (level: 'warn' | 'error', message: string, fields: Record<string, unknown>) => void,
): Promise<StreamBatchOutcome> {
  const failures: { itemIdentifier: string }[] = [];
  const poison: { sequenceNumber: string; reason: string }[] = [];
  const regions = new Set<string>();
  const identifiers: string[] = [];
  for (const record of event.Records) {
    const id = record.dynamodb?.SequenceNumber ?? record.eventID ?? '';
    identifiers.push(id);
    try {
      const decoded = decodeStreamRecord(record);
      if (decoded.kind === 'round') for (const r of decoded.regions) regions.add(r);
    } catch (error: unknown) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      log?.('warn', 'poison stream record: reported as failed for the failure destination', { sequenceNumber: id, reason });
      poison.push({ sequenceNumber: id, reason });
      failures.push({ itemIdentifier: id });
    }
  }
  if (regions.size === 0) return { batchItemFailures: failures, run: null, poison };
  try {
    const outcome = await run([...regions]);
    return { batchItemFailures: failures, run: outcome, poison };
  } catch (error: unknown) {
    const runError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    log?.('error', 'aggregator run failed; the batch will be retried', { error: runError });
    return { batchItemFailures: identifiers.map((itemIdentifier) => ({ itemIdentifier })), run: null, poison, runError };
  }
}
