// The prober Lambda end to end on loopback: env read at load, a scheduled event served into DynamoDB Local with the minute's later
// rounds queued on a real local SQS (fauxqs), queued rounds served one per message, EMF metrics with two dimensions only.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { SQSClient, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { InvocationSummary } from '../../lambda/probe/invocation';
import type { RoundMessage } from '../../lambda/probe/scheduling';
import { createResultsTable } from '../../lambda/store/create-tables';
import { ResultsStore } from '../../lambda/store/results-store';
import { PROBE_METRIC_NAMES } from '../../lambda/probe/metrics';
import { USER_AGENT, VERSION } from '../../lambda/version';
import { PROBE_METRICS } from '../../lib/observability';
import { startFaultyServer, type FaultyServer } from '../helpers/servers';
import { useTestStore } from '../helpers/store';

const store = useTestStore();
let server: FaultyServer;
let sqsServer: FauxqsServer;
let sqs: SQSClient;
let dir: string;
const saved = { ...process.env };
const INTERVAL = 5;

beforeAll(async () => {
  server = await startFaultyServer();
  sqsServer = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
  sqs = new SQSClient({ region: 'us-east-1', endpoint: sqsServer.address, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  dir = mkdtempSync(join(tmpdir(), 'regionwatch-prober-'));
  writeFileSync(
    join(dir, 'regionwatch.config.json'),
    JSON.stringify({
      platform: 'acme',
      probeRegions: ['us-east-1', 'eu-west-1'],
      homeRegion: 'us-east-1',
      // 5 s: eleven queued rounds a minute, two SendMessageBatch calls.
      defaults: { intervalSeconds: INTERVAL, timeoutMs: 1000 },
      regions: {
        us: { targets: [{ name: 'api', type: 'http', url: `${server.origin}/ok` }, { name: 'db', type: 'http', url: `${server.origin}/status/503` }] },
        eu: { targets: [{ name: 'api', type: 'http', url: `${server.origin}/json` }] },
      },
      probing: { allowPrivateAddresses: true, jitterMs: 0 },
    }),
  );
  await createResultsTable(store.current.client, 'prober-results');
  Object.assign(process.env, {
    RESULTS_TABLE_NAME: 'prober-results',
    PROBE_REGION: 'eu-west-1',
    REGIONWATCH_CONFIG_PATH: join(dir, 'regionwatch.config.json'),
    ...store.current.env,
    AWS_ENDPOINT_URL_SQS: sqsServer.address,
  });
});
afterAll(async () => {
  process.env = saved;
  sqs?.destroy();
  await sqsServer?.stop();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function context(remainingMs: number): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'regionwatch-prober',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:regionwatch-prober',
    memoryLimitInMB: '512',
    awsRequestId: 'req-1',
    logGroupName: '/aws/lambda/regionwatch-prober',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

type Handler = (event: unknown, context: Context) => Promise<InvocationSummary | SQSBatchResponse>;

let queues = 0;
/**
 * A fresh copy of the handler module (env, clients and the clock estimator are read at load) with its own rounds
 * queue. A fresh estimator takes the scheduled event's offset as skew, so "now" is the scheduled time on the
 * scheduler's clock whatever second of the real minute the test runs in.
 */
async function freshHandler(env: Record<string, string> = {}): Promise<{ handler: Handler; queueName: string }> {
  const queueName = `rounds-${++queues}`;
  sqsServer.createQueue(queueName);
  Object.assign(process.env, { ROUNDS_QUEUE_URL: queueUrl(queueName), RESULTS_TABLE_NAME: 'prober-results' }, env);
  vi.resetModules();
  const { handler } = await import('../../lambda/handlers/prober');
  return { handler: handler as Handler, queueName };
}

/** The emulator's URL for a queue (one that need not exist). */
const queueUrl = (name: string) => sqsServer.inspectQueue(name)?.url ?? `http://sqs.us-east-1.127.0.0.1:${sqsServer.port}/000000000000/${name}`;

/** Sends `message` through the queue and receives it back as the event source mapping would hand it to Lambda. */
async function deliver(queueName: string, message: unknown): Promise<SQSRecord> {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl(queueName), MessageBody: typeof message === 'string' ? message : JSON.stringify(message) }));
  const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl(queueName), MaxNumberOfMessages: 1, MessageSystemAttributeNames: ['All'] }));
  const [m] = Messages ?? [];
  if (!m?.MessageId || m.Body === undefined) throw new Error('nothing delivered');
  return {
    messageId: m.MessageId,
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body,
    attributes: { ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1', SentTimestamp: m.Attributes?.SentTimestamp ?? '0', SenderId: 'local', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: sqsServer.inspectQueue(queueName)?.arn ?? '',
    awsRegion: 'eu-west-1',
  };
}

const sqsEvent = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

/** A round message for the current real slot, on a clock offset that puts "now" `intoSlotMs` into it. */
function roundMessage(intoSlotMs: number): RoundMessage {
  const now = Date.now();
  const slot = Math.floor(now / 1000 / INTERVAL) * INTERVAL;
  return { slot, probeRegion: 'eu-west-1', minute: Math.floor(slot / 60) * 60, clockOffsetMs: now - slot * 1000 - intoSlotMs };
}

/** Runs `fn` with stdout and stderr captured: Powertools writes logs (warnings and errors to stderr) and EMF there. */
async function captured<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const keep = (chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter((l) => l !== ''));
    return true;
  };
  const spies = [vi.spyOn(process.stdout, 'write').mockImplementation(keep), vi.spyOn(process.stderr, 'write').mockImplementation(keep)];
  try {
    return { result: await fn(), lines };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

const results = () => new ResultsStore({ client: store.current.documentClient, tableName: 'prober-results', retentionHours: 48 });

describe('prober handler', () => {
  it('serves the scheduled minute into the results table and emits low-cardinality metrics', async () => {
    const { handler, queueName } = await freshHandler();
    const minute = Math.floor(Date.now() / 60_000) * 60;
    // 7 s left minus the 5 s shutdown margin: room for the first slot of the minute only.
    const { result: summary, lines } = await captured(() => handler({ time: new Date(minute * 1000).toISOString() }, context(7_000)));
    const later = Array.from({ length: 11 }, (_, k) => minute + (k + 1) * INTERVAL);
    expect(summary).toMatchObject({ outcome: 'ran', minute, written: [minute], queued: later, fallback: [] });

    // The other eleven slots wait in the rounds queue (two SendMessageBatch calls), each delayed to its slot's start.
    const delayed = sqsServer.inspectQueue(queueName)?.messages.delayed ?? [];
    expect(delayed.map((m) => JSON.parse(m.body) as RoundMessage).map((m) => [m.slot, m.minute, m.probeRegion])).toEqual(later.map((slot) => [slot, minute, 'eu-west-1']));
    expect(delayed.map((m) => Math.round(((m.delayUntil ?? 0) - m.sentTimestamp) / 1000))).toEqual(later.map((slot) => slot - minute));

    const [round] = await results().readRounds(minute, minute);
    expect(round?.probeRegion).toBe('eu-west-1');
    expect(round?.results.map((r) => `${r.region}/${r.target}:${r.status}`)).toEqual(['us/api:up', 'us/db:down', 'eu/api:up']);
    const probe = server.requests.find((r) => r.path === '/json');
    expect(probe?.headers['user-agent']).toBe(USER_AGENT);
    expect(probe?.headers['x-regionwatch-probe-region']).toBe('eu-west-1');

    const emf = lines.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const byRegion = new Map(emf.map((m) => [m.PlatformRegion, m]));
    expect(byRegion.get('us')).toMatchObject({ ProbeRegion: 'eu-west-1', Availability: 0.5 });
    expect(byRegion.get('eu')).toMatchObject({ ProbeRegion: 'eu-west-1', Availability: 1 });
    for (const metric of emf) {
      const declared = (metric._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] }).CloudWatchMetrics[0];
      expect(declared?.Namespace).toBe('RegionWatch');
      expect(declared?.Dimensions).toEqual([['PlatformRegion', 'ProbeRegion']]);
      expect(metric).not.toHaveProperty('service');
    }
    const logs = lines.filter((l) => l.includes('"round finished"'));
    expect(logs).toHaveLength(1);
    expect(JSON.parse(logs[0] ?? '{}')).toMatchObject({ level: 'INFO', probeRegion: 'eu-west-1', slot: minute, checks: 3, down: 1 });
  });

  it('a round message runs that one slot and writes one item; a duplicate delivery probes nothing (FAULTS 16, 18)', async () => {
    const { handler, queueName } = await freshHandler();
    const message = roundMessage(200);
    const record = await deliver(queueName, message);
    const before = server.requests.length;
    const { result, lines } = await captured(() => handler(sqsEvent(record), context(69_000)));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(server.requests.length - before).toBe(3);
    const rounds = await results().readRounds(message.slot, message.slot);
    expect(rounds.map((r) => [r.slot, r.probeRegion, r.results.length])).toEqual([[message.slot, 'eu-west-1', 3]]);
    expect(lines.filter((l) => l.includes('"_aws"'))).toHaveLength(2);
    expect(lines.filter((l) => l.includes('"queued round finished"')).map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ outcome: 'ran', slot: message.slot, receiveCount: 1 }),
    ]);

    // The same message again (SQS delivers at least once), and a copy of it: the slot claim stops both.
    const copy = await deliver(queueName, message);
    const again = await captured(() => handler(sqsEvent(record, copy), context(69_000)));
    expect(again.result).toEqual({ batchItemFailures: [] });
    expect(again.lines.filter((l) => l.includes('"round-duplicate"'))).toHaveLength(2);
    expect(server.requests.length - before).toBe(3);
    expect(await results().readRounds(message.slot, message.slot)).toHaveLength(1);
  });

  it('a message too late to finish inside its slot is dropped with a LateRounds metric; a late redelivery is failed toward the dead-letter queue', async () => {
    const { handler, queueName } = await freshHandler();
    // 5 s slot, 1 s write margin, 1 s timeout: 3 s in is the last moment to start.
    const message = roundMessage(3_500);
    const record = await deliver(queueName, message);
    const before = server.requests.length;
    const roundsBefore = (await results().readRounds(message.slot, message.slot)).length;
    const { result, lines } = await captured(() => handler(sqsEvent(record), context(69_000)));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(server.requests.length - before).toBe(0);
    expect(await results().readRounds(message.slot, message.slot)).toHaveLength(roundsBefore);
    const emf = lines.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(emf).toEqual([expect.objectContaining({ LateRounds: 1, ProbeRegion: 'eu-west-1' })]);
    expect((emf[0]?._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0]?.Dimensions).toEqual([['ProbeRegion']]);
    expect(lines.some((l) => l.includes('"round-late"'))).toBe(true);

    // The retry of a failed round comes a visibility timeout later: late, and failed again so it is parked and alarmed on.
    const redelivered = { ...record, attributes: { ...record.attributes, ApproximateReceiveCount: '2' } };
    expect(await captured(() => handler(sqsEvent(redelivered), context(69_000))).then((c) => c.result)).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(server.requests.length - before).toBe(0);
  });

  it('fails a message it cannot act on, and a round it cannot write, so the queue retries and then parks them', async () => {
    const { handler, queueName } = await freshHandler({ RESULTS_TABLE_NAME: 'no-such-table' });
    const poison = await deliver(queueName, 'not a round');
    const otherRegion = await deliver(queueName, { ...roundMessage(200), probeRegion: 'us-east-1' });
    const unwritable = await deliver(queueName, roundMessage(200));
    const { result } = await captured(() => handler(sqsEvent(poison, otherRegion, unwritable), context(69_000)));
    expect(result).toEqual({ batchItemFailures: [poison, otherRegion, unwritable].map((r) => ({ itemIdentifier: r.messageId })) });
  });

  it('falls back to rounds inside the scheduled invocation when the queue cannot be reached: money, not coverage', async () => {
    const { handler } = await freshHandler();
    process.env.ROUNDS_QUEUE_URL = queueUrl('no-such-queue');
    vi.resetModules();
    const { handler: broken } = (await import('../../lambda/handlers/prober')) as { handler: Handler };
    expect(handler).not.toBe(broken);
    const minute = Math.floor(Date.now() / 60_000) * 60 + 60;
    const started = Date.now();
    // 12 s left minus the 5 s shutdown margin: the first slot and, 5 s later, the second (from the fallback); the rest do not fit.
    const { result, lines } = await captured(() => broken({ time: new Date(minute * 1000).toISOString() }, context(12_000)));
    expect(result).toMatchObject({ outcome: 'ran', written: [minute, minute + INTERVAL], queued: [], fallback: [minute + INTERVAL] });
    expect(Date.now() - started).toBeLessThan(8_000);
    expect((await results().readRounds(minute, minute + 55)).map((r) => r.slot)).toEqual([minute, minute + INTERVAL]);
    expect(lines.some((l) => l.includes('"enqueue-failed"'))).toBe(true);
  }, 15_000);
});

describe('contracts the prober shares', () => {
  it('emits the metric names and dimensions the dashboard and alarms read', () => {
    expect(PROBE_METRIC_NAMES).toEqual(PROBE_METRICS);
  });

  it('sends the package version in its User-Agent', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    expect(USER_AGENT).toBe(`regionwatch/${pkg.version}`);
  });
});
