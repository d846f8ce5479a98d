// A DynamoDB stream batch of round items → one engine run; records that cannot be read are quarantined, not retried.
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { unpackResultsText } from '../store/results-store';
import { RESULTS_TABLE } from '../store/tables';
import type { AggregatorRun } from './engine';

/** A stream record that is not a readable round item. It is quarantined in the failure queue; the batch goes on. */
export class PoisonRecordError extends Error {
  override readonly name = 'PoisonRecordError';
}

export type DecodedRecord =
  /** `allUp`: every result in it is `up` (lambda/aggregator/engine.ts may then skip a quiet run). */
  | { kind: 'round'; probeRegion: string; slot: number; regions: string[]; allUp: boolean }
  | { kind: 'ignored'; why: string };

/**
 * Reads what the aggregator needs from one stream record: the platform regions its round touches.
 * Removals (TTL expiry) and other item kinds are ignored; a round item that does not decode is poison.
 */
export function decodeStreamRecord(record: DynamoDBRecord): DecodedRecord {
  if (record.eventName === 'REMOVE') return { kind: 'ignored', why: 'removal' };
  const image = record.dynamodb?.NewImage;
  if (!image) throw new PoisonRecordError('stream record has no new image (the stream view type must include NEW_IMAGE)');
  const kind = image[RESULTS_TABLE.kindAttribute]?.S;
  // A confirmation is results like a round's (some targets, at a time of its own): the same decoding, the same run.
  if (kind !== RESULTS_TABLE.roundKind && kind !== RESULTS_TABLE.confirmationKind) return { kind: 'ignored', why: `item kind ${kind ?? 'none'}` };
  const probeRegion = image.probeRegion?.S;
  const slot = Number(image.slot?.N);
  const packed = image.results?.B;
  if (!probeRegion || !Number.isInteger(slot) || typeof packed !== 'string') throw new PoisonRecordError('round item lacks probeRegion, slot or packed results');
  let parsed: unknown;
  try {
    parsed = JSON.parse(unpackResultsText(Buffer.from(packed, 'base64')));
  } catch (error: unknown) {
    throw new PoisonRecordError(`round item results do not decode: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!Array.isArray(parsed)) throw new PoisonRecordError('round item results are not an array');
  const regions = new Set<string>();
  let allUp = true;
  for (const r of parsed) {
    const result = r as { region?: unknown; status?: unknown } | null;
    if (typeof result?.region !== 'string') throw new PoisonRecordError('a result in the round item has no platform region');
    regions.add(result.region);
    if (result.status !== 'up') allUp = false;
  }
  return { kind: 'round', probeRegion, slot, regions: [...regions], allUp };
}

/**
 * Parks one poison record where an operator can read it: the whole stream record and why it was refused.
 * Resolves once the record is stored; rejects if it could not be (the record is then reported failed instead).
 */
export type Quarantine = (record: DynamoDBRecord, reason: string) => Promise<void>;

export type StreamLog = (level: 'warn' | 'error', message: string, fields: Record<string, unknown>) => void;

export interface PoisonRecord {
  sequenceNumber: string;
  reason: string;
  /** True when the quarantine stored it; false when it was reported in `batchItemFailures` instead. */
  quarantined: boolean;
}

export interface StreamBatchOutcome extends DynamoDBBatchResponse {
  run: AggregatorRun | null;
  poison: PoisonRecord[];
  /** Set when the run itself failed: every record not quarantined was reported failed so the stream retries the batch. */
  runError?: string;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Handles one batch. Every record is decoded first; a poison record is quarantined at once (the whole record and
 * the reason, FAULTS row 9) and not reported failed, so the shard never waits behind it. Only when the quarantine
 * itself fails (or there is none) is it reported in `batchItemFailures`, and the stream's on-failure destination
 * takes over once its retries are spent. Then the engine runs once for the platform regions the batch touches:
 * DynamoDB calls grow with the regions touched, never with the records. If the run fails, every record that was
 * not quarantined is reported failed: the retry re-derives everything from the stored window, so repeating work is
 * harmless. A quarantined record is left out of that list; a retry that starts before it delivers it again and it
 * is quarantined again, with the same sequence number, so a duplicate in the queue is recognisable.
 */
export async function handleStreamBatch(
  event: DynamoDBStreamEvent,
  run: (regions: readonly string[], batch: { readonly allUp: boolean }) => Promise<AggregatorRun>,
  quarantine?: Quarantine,
  log?: StreamLog,
): Promise<StreamBatchOutcome> {
  const failures: { itemIdentifier: string }[] = [];
  const poison: PoisonRecord[] = [];
  const regions = new Set<string>();
  const retryable: string[] = [];
  // Whether every result the batch brings is up (and nothing in it was poison): a quiet engine may skip such a run.
  let allUp = true;
  for (const record of event.Records) {
    const id = record.dynamodb?.SequenceNumber ?? record.eventID ?? '';
    let reason: string;
    try {
      const decoded = decodeStreamRecord(record);
      if (decoded.kind === 'round') {
        for (const r of decoded.regions) regions.add(r);
        if (!decoded.allUp) allUp = false;
      }
      retryable.push(id);
      continue;
    } catch (error: unknown) {
      reason = describeError(error);
      allUp = false;
    }
    if (quarantine) {
      try {
        await quarantine(record, reason);
        log?.('warn', 'poison stream record quarantined in the failure queue', { sequenceNumber: id, reason });
        poison.push({ sequenceNumber: id, reason, quarantined: true });
        continue;
      } catch (error: unknown) {
        log?.('error', 'poison stream record could not be quarantined: reported as failed for the failure destination', {
          sequenceNumber: id,
          reason,
          quarantineError: describeError(error),
        });
      }
    } else {
      log?.('warn', 'poison stream record: reported as failed for the failure destination', { sequenceNumber: id, reason });
    }
    poison.push({ sequenceNumber: id, reason, quarantined: false });
    failures.push({ itemIdentifier: id });
    retryable.push(id);
  }
  if (regions.size === 0) return { batchItemFailures: failures, run: null, poison };
  try {
    const outcome = await run([...regions], { allUp });
    return { batchItemFailures: failures, run: outcome, poison };
  } catch (error: unknown) {
    const runError = describeError(error);
    log?.('error', 'aggregator run failed; the batch will be retried', { error: runError });
    return { batchItemFailures: retryable.map((itemIdentifier) => ({ itemIdentifier })), run: null, poison, runError };
  }
}
