// A stand-in for Lambda's DynamoDB stream event source mapping: it polls a table's stream through the DynamoDB
// Streams API (DynamoDB Local serves it), filters, batches and invokes a function the way Lambda does, with every
// setting taken from the template's AWS::Lambda::EventSourceMapping, so a change there changes what tests see.
//
// What it models, from AWS's documentation of stream mappings:
// - records are delivered in order per shard, one batch in flight per shard (ParallelizationFactor 1);
// - FilterCriteria is applied to each record as the function would receive it; filtered records are skipped for good;
// - a batch is invoked when BatchSize records are buffered, when they fill the 6 MB payload limit of a synchronous
//   invocation, or when MaximumBatchingWindowInSeconds has passed since the first one was buffered; a batch is never
//   more than 6 MB of event;
// - a function error retries the batch; with BisectBatchOnFunctionError the failed batch is split in two and each
//   half retried; the halves keep the retry count of the batch they came from;
// - with ReportBatchItemFailures, a response naming sequence numbers checkpoints before the lowest one and retries
//   the records from it on (a retry); an empty, null, or unknown itemIdentifier fails the whole batch;
// - after MaximumRetryAttempts retries, or once a record is older than MaximumRecordAgeInSeconds, the batch is
//   discarded: its batch info goes to the on-failure destination, and the shard moves on.
// Properties it does not model (tumbling windows, parallelization, on-success destinations) make it refuse the
// template instead of pretending.
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type _Record as StreamRecord,
  type AttributeValue as StreamAttributeValue,
} from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { parseFilterCriteria, passesFilters, type FilterPattern } from './event-filter';

export interface StreamMappingSettings {
  batchSize: number;
  batchingWindowMs: number;
  /** -1: until the record expires. */
  maximumRetryAttempts: number;
  /** -1: no limit. */
  maximumRecordAgeSeconds: number;
  bisectBatchOnFunctionError: boolean;
  reportBatchItemFailures: boolean;
  startingPosition: 'LATEST' | 'TRIM_HORIZON';
  filters: FilterPattern[];
  /** The template's OnFailure destination as written (an intrinsic), for the caller to resolve. */
  onFailureDestination?: unknown;
}

/** The template asks for something this stand-in does not model. */
export class UnsupportedMappingError extends Error {
  override readonly name = 'UnsupportedMappingError';
}

const UNDERSTOOD = new Set([
  'FunctionName',
  'EventSourceArn',
  'StartingPosition',
  'BatchSize',
  'MaximumBatchingWindowInSeconds',
  'ParallelizationFactor',
  'BisectBatchOnFunctionError',
  'FunctionResponseTypes',
  'MaximumRetryAttempts',
  'MaximumRecordAgeInSeconds',
  'DestinationConfig',
  'FilterCriteria',
  'Enabled',
  'Tags',
]);

/** Reads an AWS::Lambda::EventSourceMapping on a DynamoDB stream, with CloudFormation's defaults for what it leaves out. */
export function streamMappingSettings(properties: Record<string, unknown>): StreamMappingSettings {
  const unknown = Object.keys(properties).filter((key) => !UNDERSTOOD.has(key));
  if (unknown.length > 0) throw new UnsupportedMappingError(`the stream mapping stand-in does not model ${unknown.join(', ')}`);
  const number = (key: string, fallback: number): number => {
    const value = properties[key] ?? fallback;
    if (typeof value !== 'number') throw new UnsupportedMappingError(`${key} must be a literal number in the template, got ${JSON.stringify(value)}`);
    return value;
  };
  if (number('ParallelizationFactor', 1) !== 1) throw new UnsupportedMappingError('the stand-in delivers one batch per shard at a time (ParallelizationFactor 1)');
  if (properties.Enabled === false) throw new UnsupportedMappingError('the mapping is disabled in the template');
  const startingPosition = properties.StartingPosition;
  if (startingPosition !== 'LATEST' && startingPosition !== 'TRIM_HORIZON') throw new UnsupportedMappingError(`StartingPosition ${String(startingPosition)} is not modelled`);
  const responseTypes = (properties.FunctionResponseTypes ?? []) as unknown[];
  const destination = properties.DestinationConfig as { OnFailure?: { Destination?: unknown }; OnSuccess?: unknown } | undefined;
  if (destination?.OnSuccess !== undefined) throw new UnsupportedMappingError('on-success destinations are not modelled');
  return {
    batchSize: number('BatchSize', 100),
    batchingWindowMs: number('MaximumBatchingWindowInSeconds', 0) * 1000,
    maximumRetryAttempts: number('MaximumRetryAttempts', -1),
    maximumRecordAgeSeconds: number('MaximumRecordAgeInSeconds', -1),
    bisectBatchOnFunctionError: properties.BisectBatchOnFunctionError === true,
    reportBatchItemFailures: responseTypes.includes('ReportBatchItemFailures'),
    startingPosition,
    filters: parseFilterCriteria(properties.FilterCriteria),
    ...(destination?.OnFailure?.Destination !== undefined ? { onFailureDestination: destination.OnFailure.Destination } : {}),
  };
}

/** What one invocation came to, as Lambda sees it: a response payload, or a function error. */
export type InvokeOutcome = { ok: true; response: unknown } | { ok: false; errorType: string; errorMessage: string };

export interface StreamInvocation {
  sequenceNumbers: string[];
  /** `partial`: a valid partial batch response; `failed`: a function error or a response that fails the whole batch. */
  outcome: 'ok' | 'partial' | 'failed';
  /** Retries of this batch's records before this invocation. */
  retry: number;
  error?: string;
}

export interface DiscardedBatch {
  condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded';
  sequenceNumbers: string[];
  /** What went to the on-failure destination (Lambda's invocation record with DDBStreamBatchInfo). */
  record: OnFailureRecord;
}

export interface OnFailureRecord {
  requestContext: { requestId: string; functionArn: string; condition: string; approximateInvokeCount: number };
  responseContext: { statusCode: number; executedVersion: string; functionError: string };
  version: '1.0';
  timestamp: string;
  DDBStreamBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

export interface StreamMappingOptions {
  settings: StreamMappingSettings;
  client: DynamoDBStreamsClient;
  streamArn: string;
  functionArn: string;
  invoke: (event: DynamoDBStreamEvent) => Promise<InvokeOutcome>;
  /** Sends the batch info of a discarded batch to the on-failure destination; without it the batch is only dropped. */
  onFailure?: (record: OnFailureRecord) => Promise<void>;
  /** Lambda polls each shard four times a second. */
  pollIntervalMs?: number;
}

/** Lambda passes a batch in one call as long as the event stays within the synchronous invocation payload limit. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

interface Buffered {
  record: DynamoDBRecord;
  /** Its share of the event's JSON. */
  bytes: number;
  /** When the poller read it, ms. */
  readAt: number;
}

interface ShardState {
  shardId: string;
  parentShardId?: string;
  iterator: string | undefined;
  /** The last sequence number read from the shard (delivered, filtered out or buffered): where a new iterator starts. */
  lastSequenceNumber?: string;
  buffer: Buffered[];
  /** No more records will come (the shard is closed and read to its end). */
  closed: boolean;
}

interface PendingBatch {
  records: DynamoDBRecord[];
  retries: number;
  invocations: number;
}

/** Polls one stream and delivers it to one function, as one event source mapping does. */
export class StreamMapping {
  readonly invocations: StreamInvocation[] = [];
  readonly discarded: DiscardedBatch[] = [];
  /** Errors of the poller itself (the Streams API failing): a test should see none. */
  readonly pollerErrors: string[] = [];
  private readonly shards = new Map<string, ShardState>();
  private stopped = false;
  private loop: Promise<void> | undefined;
  /** Polls completed, and how many of the last ones in a row found nothing to read, buffer or deliver. */
  private polls = 0;
  private quietPolls = 0;

  constructor(private readonly options: StreamMappingOptions) {}

  /** Positions every open shard at the starting position; records written after this resolves are delivered. */
  async start(): Promise<void> {
    await this.refreshShards(true);
    this.loop = this.run();
  }

  /** Stops polling once the batch in flight (if any) is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /**
   * Resolves once two whole polls that began after this call found nothing new, nothing buffered and nothing in
   * flight: everything written before the call has been delivered (or discarded).
   */
  async drained(timeoutMs = 15_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    const from = this.polls;
    while (!(this.polls >= from + 3 && this.quietPolls >= 2)) {
      if (Date.now() > until) throw new Error(`the stream mapping did not drain within ${timeoutMs} ms`);
      await delay(this.pollInterval / 2);
    }
  }

  private get pollInterval(): number {
    return this.options.pollIntervalMs ?? 250;
  }

  private async refreshShards(initial: boolean): Promise<void> {
    let exclusiveStartShardId: string | undefined;
    do {
      const page = await this.options.client.send(new DescribeStreamCommand({ StreamArn: this.options.streamArn, ExclusiveStartShardId: exclusiveStartShardId }));
      const description = page.StreamDescription;
      for (const shard of description?.Shards ?? []) {
        const shardId = shard.ShardId;
        if (shardId === undefined || this.shards.has(shardId)) continue;
        const open = shard.SequenceNumberRange?.EndingSequenceNumber === undefined;
        // At start, LATEST positions only the open shards; shards that appear later are read from their beginning.
        const position = initial ? this.options.settings.startingPosition : 'TRIM_HORIZON';
        if (initial && position === 'LATEST' && !open) continue;
        const state: ShardState = { shardId, parentShardId: shard.ParentShardId, iterator: undefined, buffer: [], closed: false };
        state.iterator = await this.iterator(state);
        if (position === 'LATEST') await this.skipToEnd(state);
        this.shards.set(shardId, state);
      }
      exclusiveStartShardId = description?.LastEvaluatedShardId;
    } while (exclusiveStartShardId !== undefined);
  }

  /** An iterator just after the last record read, or at the shard's start when nothing was read yet. */
  private async iterator(shard: ShardState): Promise<string | undefined> {
    const { ShardIterator } = await this.options.client.send(
      new GetShardIteratorCommand({
        StreamArn: this.options.streamArn,
        ShardId: shard.shardId,
        ...(shard.lastSequenceNumber !== undefined ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: shard.lastSequenceNumber } : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    return ShardIterator;
  }

  /**
   * LATEST: reads past every record already in the shard, so only records written from now on are delivered. (A LATEST
   * iterator taken on DynamoDB Local is not usable: see `getRecords`.)
   */
  private async skipToEnd(shard: ShardState): Promise<void> {
    for (let pages = 0; shard.iterator !== undefined && pages < 1_000; pages++) {
      const page = await this.getRecords(shard);
      const last = page.Records?.at(-1)?.dynamodb?.SequenceNumber;
      if (last !== undefined) shard.lastSequenceNumber = last;
      shard.iterator = page.NextShardIterator;
      if ((page.Records ?? []).length === 0) return;
    }
  }

  /**
   * GetRecords, re-positioning after a TrimmedDataAccessException. DynamoDB Local (1.25.1) numbers stream records across
   * all the tables of a database, so an iterator taken while a shard is still empty names a sequence number the shard
   * never gets, and fails as "trimmed" once records arrive. A fresh iterator after the last record read (or at the
   * shard's start) reads them; on DynamoDB itself this path is never taken.
   */
  private async getRecords(shard: ShardState): Promise<{ Records?: StreamRecord[]; NextShardIterator?: string }> {
    try {
      return await this.options.client.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 1000 }));
    } catch (error: unknown) {
      if (!(error instanceof Error) || error.name !== 'TrimmedDataAccessException') throw error;
      shard.iterator = await this.iterator(shard);
      return this.options.client.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 1000 }));
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let quiet = true;
      try {
        let shardClosed = false;
        for (const shard of this.shards.values()) {
          // A child shard waits until its parent has been delivered to the end, as Lambda keeps their order.
          const parent = shard.parentShardId === undefined ? undefined : this.shards.get(shard.parentShardId);
          if (parent && !(parent.closed && parent.buffer.length === 0)) continue;
          if ((await this.read(shard)) > 0) quiet = false;
          if (shard.iterator === undefined && !shard.closed) {
            shard.closed = true;
            shardClosed = true;
          }
          while (!this.stopped && this.ready(shard)) {
            quiet = false;
            await this.deliver(shard, this.takeBatch(shard));
          }
          if (shard.buffer.length > 0) quiet = false;
        }
        if (shardClosed) await this.refreshShards(false);
      } catch (error: unknown) {
        quiet = false;
        this.pollerErrors.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
      }
      this.quietPolls = quiet ? this.quietPolls + 1 : 0;
      this.polls++;
      await delay(this.pollInterval);
    }
  }

  /** Reads the next page of a shard into its buffer; returns how many records the page had. */
  private async read(shard: ShardState): Promise<number> {
    if (shard.iterator === undefined || shard.buffer.length >= this.options.settings.batchSize) return 0;
    const page = await this.getRecords(shard);
    shard.iterator = page.NextShardIterator;
    const now = Date.now();
    for (const raw of page.Records ?? []) {
      shard.lastSequenceNumber = raw.dynamodb?.SequenceNumber ?? shard.lastSequenceNumber;
      const record = toLambdaRecord(raw, this.options.streamArn);
      if (passesFilters(record, this.options.settings.filters)) shard.buffer.push({ record, bytes: Buffer.byteLength(JSON.stringify(record)) + 1, readAt: now });
    }
    return page.Records?.length ?? 0;
  }

  /** How many buffered records the next batch takes: at most BatchSize, and never past the payload limit (one at least). */
  private batchLength(shard: ShardState): number {
    let bytes = '{"Records":[]}'.length;
    let n = 0;
    for (const buffered of shard.buffer) {
      if (n === this.options.settings.batchSize || (n > 0 && bytes + buffered.bytes > MAX_PAYLOAD_BYTES)) break;
      bytes += buffered.bytes;
      n++;
    }
    return n;
  }

  private takeBatch(shard: ShardState): DynamoDBRecord[] {
    return shard.buffer.splice(0, this.batchLength(shard)).map((b) => b.record);
  }

  private ready(shard: ShardState): boolean {
    const [first] = shard.buffer;
    if (first === undefined) return false;
    const { batchingWindowMs } = this.options.settings;
    // A full batch (by count or by payload) goes at once; a partial one waits out the window.
    return this.batchLength(shard) < shard.buffer.length || shard.buffer.length >= this.options.settings.batchSize || Date.now() - first.readAt >= batchingWindowMs || shard.closed;
  }

  private async deliver(shard: ShardState, batch: DynamoDBRecord[]): Promise<void> {
    const { settings } = this.options;
    const pending: PendingBatch[] = [{ records: batch, retries: 0, invocations: 0 }];
    while (pending.length > 0) {
      const current = pending[0] as PendingBatch;
      const expired = this.expiredPrefix(current.records);
      if (expired > 0) {
        await this.discard(shard, current.records.slice(0, expired), 'RecordAgeExceeded', current.invocations);
        current.records = current.records.slice(expired);
        if (current.records.length === 0) {
          pending.shift();
          continue;
        }
      }
      const sequenceNumbers = current.records.map(sequenceNumberOf);
      // Lambda hands the function JSON: what it receives is exactly what serializes.
      const event = JSON.parse(JSON.stringify({ Records: current.records })) as DynamoDBStreamEvent;
      const outcome = await this.options.invoke(event);
      current.invocations++;
      const verdict = outcome.ok ? this.readResponse(outcome.response, sequenceNumbers) : { kind: 'error' as const, error: `${outcome.errorType}: ${outcome.errorMessage}` };
      if (verdict.kind === 'ok') {
        this.invocations.push({ sequenceNumbers, outcome: 'ok', retry: current.retries });
        pending.shift();
        continue;
      }
      const exhausted = settings.maximumRetryAttempts >= 0 && current.retries >= settings.maximumRetryAttempts;
      if (verdict.kind === 'partial') {
        this.invocations.push({ sequenceNumbers, outcome: 'partial', retry: current.retries });
        const remaining = current.records.slice(verdict.from);
        if (exhausted) {
          await this.discard(shard, remaining, 'RetryAttemptsExhausted', current.invocations);
          pending.shift();
        } else pending[0] = { records: remaining, retries: current.retries + 1, invocations: current.invocations };
        continue;
      }
      this.invocations.push({ sequenceNumbers, outcome: 'failed', retry: current.retries, error: verdict.error });
      if (exhausted) {
        await this.discard(shard, current.records, 'RetryAttemptsExhausted', current.invocations);
        pending.shift();
      } else if (verdict.kind === 'error' && settings.bisectBatchOnFunctionError && current.records.length > 1) {
        const half = Math.ceil(current.records.length / 2);
        pending.splice(
          0,
          1,
          { records: current.records.slice(0, half), retries: current.retries + 1, invocations: 0 },
          { records: current.records.slice(half), retries: current.retries + 1, invocations: 0 },
        );
      } else current.retries++;
    }
  }

  /**
   * A success, a valid partial batch response (the index of the lowest reported sequence number), or a response that
   * fails the whole batch. Without ReportBatchItemFailures any response is a success.
   */
  private readResponse(response: unknown, sequenceNumbers: string[]): { kind: 'ok' } | { kind: 'partial'; from: number } | { kind: 'batch-failure'; error: string } {
    if (!this.options.settings.reportBatchItemFailures || response === null || typeof response !== 'object') return { kind: 'ok' };
    const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
    if (failures === undefined || failures === null || (Array.isArray(failures) && failures.length === 0)) return { kind: 'ok' };
    if (!Array.isArray(failures)) return { kind: 'batch-failure', error: 'batchItemFailures is not a list' };
    let from = Number.POSITIVE_INFINITY;
    for (const failure of failures) {
      const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
      const index = typeof id === 'string' && id !== '' ? sequenceNumbers.indexOf(id) : -1;
      if (index < 0) return { kind: 'batch-failure', error: `itemIdentifier ${JSON.stringify(id)} is not a sequence number of the batch` };
      from = Math.min(from, index);
    }
    return { kind: 'partial', from };
  }

  private expiredPrefix(records: DynamoDBRecord[]): number {
    const maxAge = this.options.settings.maximumRecordAgeSeconds;
    if (maxAge < 0) return 0;
    const now = Date.now() / 1000;
    let n = 0;
    while (n < records.length && now - (records[n]?.dynamodb?.ApproximateCreationDateTime ?? now) > maxAge) n++;
    return n;
  }

  private async discard(shard: ShardState, records: DynamoDBRecord[], condition: DiscardedBatch['condition'], invokeCount: number): Promise<void> {
    const times = records.map((r) => new Date((r.dynamodb?.ApproximateCreationDateTime ?? 0) * 1000).toISOString());
    const sequenceNumbers = records.map(sequenceNumberOf);
    const record: OnFailureRecord = {
      requestContext: { requestId: randomUUID(), functionArn: this.options.functionArn, condition, approximateInvokeCount: invokeCount },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId: shard.shardId,
        startSequenceNumber: sequenceNumbers[0] ?? '',
        endSequenceNumber: sequenceNumbers[sequenceNumbers.length - 1] ?? '',
        approximateArrivalOfFirstRecord: times[0] ?? '',
        approximateArrivalOfLastRecord: times[times.length - 1] ?? '',
        batchSize: records.length,
        streamArn: this.options.streamArn,
      },
    };
    this.discarded.push({ condition, sequenceNumbers, record });
    await this.options.onFailure?.(record);
  }
}

function sequenceNumberOf(record: DynamoDBRecord): string {
  return record.dynamodb?.SequenceNumber ?? '';
}

/** An attribute value as the Lambda event carries it: binary as base64, as in DynamoDB's JSON. */
function toEventValue(value: StreamAttributeValue): AttributeValue {
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (value.M !== undefined) return { M: toEventImage(value.M) ?? {} };
  if (value.L !== undefined) return { L: value.L.map(toEventValue) };
  return value as AttributeValue;
}

function toEventImage(image: Record<string, StreamAttributeValue> | undefined): Record<string, AttributeValue> | undefined {
  if (image === undefined) return undefined;
  return Object.fromEntries(Object.entries(image).map(([k, v]) => [k, toEventValue(v)]));
}

/** A Streams API record in the shape Lambda delivers it: the creation time in epoch seconds, the stream's ARN added. */
export function toLambdaRecord(raw: StreamRecord, streamArn: string): DynamoDBRecord {
  const d = raw.dynamodb ?? {};
  const record: DynamoDBRecord = {
    eventID: raw.eventID,
    eventName: raw.eventName as DynamoDBRecord['eventName'],
    eventVersion: raw.eventVersion,
    eventSource: raw.eventSource,
    awsRegion: raw.awsRegion,
    dynamodb: {
      ...(d.ApproximateCreationDateTime !== undefined ? { ApproximateCreationDateTime: Math.floor(d.ApproximateCreationDateTime.getTime() / 1000) } : {}),
      Keys: toEventImage(d.Keys),
      ...(d.NewImage !== undefined ? { NewImage: toEventImage(d.NewImage) } : {}),
      ...(d.OldImage !== undefined ? { OldImage: toEventImage(d.OldImage) } : {}),
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType as NonNullable<DynamoDBRecord['dynamodb']>['StreamViewType'],
    },
    eventSourceARN: streamArn,
  };
  if (raw.userIdentity !== undefined) record.userIdentity = raw.userIdentity;
  return record;
}
