// The aggregator's event source mapping, as synthesized, delivering DynamoDB Local's real stream of the results table
// (created from the template): the stand-in (test/helpers/lambda/stream-mapping.ts) takes every number from the
// template, so these expectations move with lib/aggregator.ts. A scripted function shows batching, filtering, retries,
// bisection, partial batch responses and the on-failure destination; the bundled aggregator shows a poison round item
// quarantined while the stream moves on (FAULTS row 9).
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchWriteItemCommand, DeleteItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { DynamoIncidentStore } from '../../lambda/store/incident-store';
import { ResultsStore } from '../../lambda/store/results-store';
import { resourceNames } from '../../lib/names';
import { faults, roundFor } from '../core/harness';
import { resourceOf, sharedDeployment, type Deployment } from '../helpers/lambda/deployment';
import { LocalAws } from '../helpers/lambda/local-aws';
import { MAX_PAYLOAD_BYTES, StreamMapping, streamMappingSettings, type InvokeOutcome, type OnFailureRecord, type StreamMappingSettings } from '../helpers/lambda/stream-mapping';
import { drainQueue } from '../helpers/sqs';
import { useTestStore } from '../helpers/store';

const store = useTestStore();

let deployment: Deployment;
let aws: LocalAws;
let settings: StreamMappingSettings;
let streams: DynamoDBStreamsClient;
let home: string;
let table: string;

beforeAll(async () => {
  deployment = await sharedDeployment();
  home = deployment.config.homeRegion;
  table = resourceNames(deployment.config.platform).resultsTable;
  aws = await LocalAws.start({ deployment, store: store.current, regions: [home] });
  const [, mapping] = resourceOf(aws.stack(home), 'AWS::Lambda::EventSourceMapping', 'AggregatorResultsStream');
  settings = streamMappingSettings(mapping.Properties ?? {});
  streams = new DynamoDBStreamsClient({ region: store.current.region, endpoint: store.current.endpoint, credentials: store.current.credentials });
}, 240_000);

afterAll(async () => {
  streams?.destroy();
  await aws?.stop();
});

let written = 0;
/** A round item as the stream filter sees it (`kind` round), or another kind of item. */
function item(name: string, kind = 'round'): Record<string, AttributeValue> {
  written++;
  return { pk: { S: 'rounds' }, sk: { S: `${name}-${written}` }, kind: { S: kind } };
}

/** A mapping on the results table's stream with the template's settings and a scripted function. */
async function mapping(fn: (event: DynamoDBStreamEvent, call: number) => InvokeOutcome | Promise<InvokeOutcome>) {
  const delivered: string[][] = [];
  const failures: OnFailureRecord[] = [];
  const failureQueueUrl = aws.queueUrl(home, 'ParkedMessages');
  let calls = 0;
  const m = new StreamMapping({
    settings,
    client: streams,
    streamArn: aws.resolve(home, resourceOf(aws.stack(home), 'AWS::Lambda::EventSourceMapping', 'AggregatorResultsStream')[1].Properties?.EventSourceArn),
    functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:scripted',
    invoke: async (event) => {
      delivered.push(event.Records.map((r) => r.dynamodb?.NewImage?.sk?.S ?? '?'));
      return fn(event, calls++);
    },
    onFailure: async (record) => {
      failures.push(record);
      await aws.sqs.send(new SendMessageCommand({ QueueUrl: failureQueueUrl, MessageBody: JSON.stringify(record) }));
    },
  });
  await m.start();
  return { m, delivered, failures, failureQueueUrl };
}

const ok: InvokeOutcome = { ok: true, response: { batchItemFailures: [] } };

describe('the aggregator\'s stream mapping on DynamoDB Local', () => {
  it('reads its settings from the template: batch size, window, retries, bisection, partial responses, failure queue, filter', () => {
    expect(settings).toMatchObject({ bisectBatchOnFunctionError: true, reportBatchItemFailures: true, startingPosition: 'LATEST' });
    expect(settings.batchSize).toBeGreaterThan(1);
    expect(settings.batchingWindowMs).toBeGreaterThan(0);
    expect(settings.maximumRetryAttempts).toBeGreaterThan(0);
    expect(settings.filters).toHaveLength(1);
    expect(aws.resolve(home, settings.onFailureDestination)).toMatch(/ParkedMessages$/);
  });

  it('delivers only inserted or rewritten round items, gathered for the batching window, never a removal or another kind', async () => {
    const { m, delivered } = await mapping(() => ok);
    const started = Date.now();
    const rounds = [item('a'), item('b'), item('c')];
    for (const Item of [...rounds, item('claim', 'claim')]) await store.current.client.send(new PutItemCommand({ TableName: table, Item }));
    await store.current.client.send(new PutItemCommand({ TableName: table, Item: { ...rounds[0], note: { S: 'rewritten' } } as Record<string, AttributeValue> }));
    await store.current.client.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: 'rounds' }, sk: rounds[1]?.sk as AttributeValue } }));
    await m.drained();
    await m.stop();
    const names = rounds.map((r) => r.sk?.S);
    // Written well inside one window: one batch, the rewrite (MODIFY) of the first included, the removal and the claim not.
    expect(delivered).toEqual([[names[0], names[1], names[2], names[0]]]);
    expect(m.invocations[0]?.outcome).toBe('ok');
    expect(Date.now() - started).toBeGreaterThanOrEqual(settings.batchingWindowMs);
  });

  it('caps a batch at BatchSize and delivers the rest in order in the next one', async () => {
    const { m, delivered } = await mapping(() => ok);
    const items = Array.from({ length: settings.batchSize + 5 }, (_, i) => item(`n${String(i).padStart(3, '0')}`));
    for (let i = 0; i < items.length; i += 25) {
      await store.current.client.send(new BatchWriteItemCommand({ RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
    }
    await m.drained();
    await m.stop();
    expect(delivered.map((b) => b.length)).toEqual([settings.batchSize, 5]);
    expect(delivered.flat()).toEqual(items.map((i) => i.sk?.S));
  });

  it('never hands the function more than the 6 MB a synchronous invocation takes: large round items come in smaller batches', async () => {
    const sizes: number[] = [];
    const { m, delivered } = await mapping((event) => {
      sizes.push(Buffer.byteLength(JSON.stringify(event)));
      return ok;
    });
    // 30 items of 300 KB (rounds of a thousand targets are split into parts about this big): 9 MB in all.
    const items: Record<string, AttributeValue>[] = Array.from({ length: 30 }, (_, i) => ({ ...item(`big${String(i).padStart(2, '0')}`), results: { B: randomBytes(300 * 1024) } }));
    for (const Item of items) await store.current.client.send(new PutItemCommand({ TableName: table, Item }));
    await m.drained();
    await m.stop();
    expect(delivered.flat()).toEqual(items.map((i) => i.sk?.S));
    expect(delivered.length).toBeGreaterThan(1);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(Math.max(...delivered.map((b) => b.length))).toBeLessThan(settings.batchSize);
  });

  it('bisects a failing batch and, after MaximumRetryAttempts retries, sends the one record that keeps failing to the failure queue', async () => {
    const poison = item('poison');
    const { m, delivered, failures, failureQueueUrl } = await mapping((event) =>
      event.Records.some((r) => r.dynamodb?.NewImage?.sk?.S === poison.sk?.S) ? { ok: false, errorType: 'Error', errorMessage: 'cannot process' } : ok,
    );
    const batch = [item('a'), item('b'), poison, item('d')];
    for (const Item of batch) await store.current.client.send(new PutItemCommand({ TableName: table, Item }));
    await m.drained();
    await m.stop();
    const [a, b, p, d] = batch.map((x) => x.sk?.S);
    const retries = settings.maximumRetryAttempts;
    // [a b p d] fails → [a b] ok, [p d] fails → [p] fails until its retries are spent, then [d] ok.
    expect(delivered).toEqual([[a, b, p, d], [a, b], [p, d], ...Array.from({ length: retries - 1 }, () => [p]), [d]]);
    expect(m.discarded.map((x) => x.condition)).toEqual(['RetryAttemptsExhausted']);
    const [message] = await drainQueue(aws.sqs, failureQueueUrl);
    const record = JSON.parse(message?.Body ?? '{}') as OnFailureRecord;
    expect(record).toEqual(failures[0]);
    expect(record.DDBStreamBatchInfo).toMatchObject({ batchSize: 1, startSequenceNumber: m.discarded[0]?.sequenceNumbers[0], endSequenceNumber: m.discarded[0]?.sequenceNumbers[0] });
    expect(record.requestContext.condition).toBe('RetryAttemptsExhausted');
  });

  it('with a partial batch response, checkpoints before the lowest reported record and retries from it', async () => {
    const { m, delivered } = await mapping((event, call) => {
      const seqs = event.Records.map((r) => r.dynamodb?.SequenceNumber ?? '');
      return call === 0 ? { ok: true, response: { batchItemFailures: [{ itemIdentifier: seqs[4] }, { itemIdentifier: seqs[2] }] } } : ok;
    });
    const batch = ['a', 'b', 'c', 'd', 'e'].map((n) => item(n));
    for (const Item of batch) await store.current.client.send(new PutItemCommand({ TableName: table, Item }));
    await m.drained();
    await m.stop();
    const names = batch.map((x) => x.sk?.S);
    expect(delivered).toEqual([names, names.slice(2)]);
    expect(m.invocations.map((i) => [i.outcome, i.retry])).toEqual([['partial', 0], ['ok', 1]]);
  });

  it('treats an empty or unknown itemIdentifier as a failure of the whole batch, retried whole', async () => {
    const { m, delivered } = await mapping((_event, call) => (call === 0 ? { ok: true, response: { batchItemFailures: [{ itemIdentifier: '' }] } } : ok));
    const batch = ['a', 'b'].map((n) => item(n));
    for (const Item of batch) await store.current.client.send(new PutItemCommand({ TableName: table, Item }));
    await m.drained();
    await m.stop();
    expect(delivered).toEqual([batch.map((x) => x.sk?.S), batch.map((x) => x.sk?.S)]);
  });
});

describe('the bundled aggregator behind the synthesized mapping', () => {
  it('quarantines a poison round item in the failure queue with its reason and goes on with the stream (FAULTS row 9)', async () => {
    const aggregator = aws.fn(home, 'AggregatorFunction');
    await aws.startTriggers({ schedules: false });
    // The home aggregator's mapping by its logical id: the home stack also maps the status page renderer to the
    // incident table's stream.
    const streamMapping = [...aws.streamMappings].find(([key]) => key.startsWith(`${home}/AggregatorResultsStream`))?.[1];
    expect(streamMapping).toBeDefined();
    const notGzip = { pk: { S: 'rounds' }, sk: { S: 'poison-round' }, kind: { S: 'round' }, probeRegion: { S: home }, slot: { N: '1796000000' }, results: { B: new Uint8Array([1, 2, 3]) } };
    const noRegion = { ...notGzip, sk: { S: 'no-region-round' }, results: { B: gzipSync(JSON.stringify([{ target: 'api' }])) } };
    await store.current.client.send(new PutItemCommand({ TableName: table, Item: notGzip }));
    await store.current.client.send(new PutItemCommand({ TableName: table, Item: noRegion }));
    // A good round of this slot from every probe region right behind them: the run that follows writes each region's status.
    const results = new ResultsStore({ client: store.current.documentClient, tableName: table, retentionHours: 48 });
    const slot = Math.floor(Date.now() / 1000 / deployment.config.defaults.intervalSeconds) * deployment.config.defaults.intervalSeconds;
    for (const probeRegion of deployment.config.probeRegions) await results.writeRound(roundFor(deployment.config, slot, probeRegion, faults({})));
    await streamMapping?.drained(20_000);
    let quarantined: { reason?: string; record?: { dynamodb?: { NewImage?: { sk?: { S?: string } } } } }[] = [];
    for (let i = 0; i < 20 && quarantined.length < 2; i++) {
      quarantined.push(...(await drainQueue(aws.sqs, aws.queueUrl(home, 'ParkedMessages'))).map((msg) => JSON.parse(msg.Body ?? '{}') as (typeof quarantined)[number]));
      if (quarantined.length < 2) await delay(100);
    }
    quarantined = quarantined.sort((x, y) => String(x.record?.dynamodb?.NewImage?.sk?.S).localeCompare(String(y.record?.dynamodb?.NewImage?.sk?.S)));
    expect(quarantined.map((q) => q.record?.dynamodb?.NewImage?.sk?.S)).toEqual(['no-region-round', 'poison-round']);
    expect(quarantined[1]?.reason).toMatch(/round item results do not decode/);
    expect(quarantined[0]?.reason).toMatch(/no platform region/);
    expect(streamMapping?.discarded).toEqual([]);
    expect(aggregator.invocations.every((i) => i.outcome.ok)).toBe(true);
    const incidents = new DynamoIncidentStore({ client: store.current.documentClient, tableName: resourceNames(deployment.config.platform).incidentsTable });
    expect((await incidents.statuses(['us', 'eu', 'apac'])).map((st) => [st.region, st.evaluatedSlot])).toEqual([['us', slot], ['eu', slot], ['apac', slot]]);
  });
});
