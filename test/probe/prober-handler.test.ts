// The prober Lambda end to end on loopback: env read at load, a scheduled event served into DynamoDB Local with the minute's later
// rounds queued on a real local SQS (fauxqs), queued rounds served one per message, EMF metrics with two dimensions only.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { DeleteMessageCommand, SQSClient, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { InvocationSummary } from '../../lambda/probe/invocation';
import type { RoundMessage } from '../../lambda/probe/scheduling';
import { completeRoundKeys, roundKey } from '../../lambda/core/results';
import { createResultsTable } from '../../lambda/store/create-tables';
import { DEFAULT_ASSUMPTIONS } from '../../lambda/cost/model';
import { ResultsStore } from '../../lambda/store/results-store';
import { PROBE_METRIC_NAMES } from '../../lambda/probe/metrics';
import { USER_AGENT, VERSION } from '../../lambda/version';
import { PROBE_METRICS } from '../../lib/observability';
import { startFaultyServer, type FaultyServer } from '../helpers/servers';
import { useTestStore } from '../helpers/store';
import { awayFromSlotEdge } from './fixtures';

const store = useTestStore();
let server: FaultyServer;
let sqsServer: FauxqsServer;
let sqs: SQSClient;
let dir: string;
const saved = { ...process.env };
/**
 * What a deployed prober's log context adds to this test's: 'acme-regionwatch-prober' for 'regionwatch-prober' twice
 * (name and ARN) and a 36-character request id for 'req-1'.
 */
const DEPLOYED_CONTEXT_BYTES = 2 * 5 + 31;
const INTERVAL = 5;

/** The handler's config: two probe regions, 5 s rounds, three loopback targets. */
function testConfig(): Record<string, unknown> {
  return {
    platform: 'acme',
    probeRegions: ['us-east-1', 'eu-west-1'],
    homeRegion: 'us-east-1',
    // 5 s: eleven queued rounds a minute, two SendMessageBatch calls.
    defaults: { intervalSeconds: INTERVAL, timeoutMs: 1000 },
    regions: {
      us: { targets: [{ name: 'api', type: 'http', url: `${server.origin}/ok` }, { name: 'db', type: 'http', url: `${server.origin}/status/503` }] },
      eu: { targets: [{ name: 'api', type: 'http', url: `${server.origin}/json` }] },
    },
    // Aligned rounds: these tests are about the schedule and the rounds queue; confirm on failure has its own below.
    probing: { allowPrivateAddresses: true, jitterMs: 0, detection: 'rounds' },
  };
}

beforeAll(async () => {
  server = await startFaultyServer();
  sqsServer = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
  sqs = new SQSClient({ region: 'us-east-1', endpoint: sqsServer.address, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  dir = mkdtempSync(join(tmpdir(), 'regionwatch-prober-'));
  writeFileSync(join(dir, 'regionwatch.config.json'), JSON.stringify({ ...testConfig(), observability: { dashboard: true } }));
  // The same without the dashboard (the default): its metrics have no reader, so the prober emits none.
  writeFileSync(join(dir, 'no-dashboard.config.json'), JSON.stringify(testConfig()));
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
 * scheduler's clock whatever second of the real minute the test runs in. And its own claims table (lib/claims-table.ts:
 * the same keys; its stream is not read): the tests probe the same real slots, and a claim from one would make the
 * next one's round a duplicate.
 */
async function freshHandler(env: Record<string, string> = {}): Promise<{ handler: Handler; queueName: string }> {
  const queueName = `rounds-${++queues}`;
  sqsServer.createQueue(queueName);
  const claimsTable = `prober-claims-${queues}`;
  await createResultsTable(store.current.client, claimsTable);
  Object.assign(process.env, { ROUNDS_QUEUE_URL: queueUrl(queueName), RESULTS_TABLE_NAME: 'prober-results', CLAIMS_TABLE_NAME: claimsTable }, env);
  vi.resetModules();
  const { handler } = await import('../../lambda/handlers/prober');
  return { handler: handler as Handler, queueName };
}

/** The emulator's URL for a queue (one that need not exist). */
const queueUrl = (name: string) => sqsServer.inspectQueue(name)?.url ?? `http://sqs.us-east-1.127.0.0.1:${sqsServer.port}/000000000000/${name}`;

/**
 * Sends `message` through the queue and receives it back as the event source mapping would hand it to Lambda; without
 * one, receives what the queue has ready.
 */
async function deliver(queueName: string, message?: unknown): Promise<SQSRecord> {
  if (message !== undefined) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl(queueName), MessageBody: typeof message === 'string' ? message : JSON.stringify(message) }));
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
    // The cost model's log bytes are these lines, with a deployed function's longer name, ARN and UUID request id.
    const deployed = (l: string | undefined) => Buffer.byteLength(l ?? '') + DEPLOYED_CONTEXT_BYTES;
    expect(deployed(logs[0]) / DEFAULT_ASSUMPTIONS.logBytes.proberPerRound).toBeGreaterThan(0.85);
    expect(deployed(logs[0]) / DEFAULT_ASSUMPTIONS.logBytes.proberPerRound).toBeLessThan(1.15);
    const invocationLine = lines.find((l) => l.includes('"invocation finished"'));
    // Eleven queued slots here (5 s rounds); the model's 10 s rounds queue five, 6 × 12 characters fewer.
    expect((deployed(invocationLine) - 6 * 12) / DEFAULT_ASSUMPTIONS.logBytes.proberPerInvocation).toBeGreaterThan(0.85);
    expect((deployed(invocationLine) - 6 * 12) / DEFAULT_ASSUMPTIONS.logBytes.proberPerInvocation).toBeLessThan(1.15);
    expect(JSON.parse(logs[0] ?? '{}')).toMatchObject({ level: 'INFO', probeRegion: 'eu-west-1', slot: minute, checks: 3, down: 1 });
  });

  it('emits no availability or latency metrics without the dashboard, their only reader (observability.dashboard)', async () => {
    const { handler, queueName } = await freshHandler({ REGIONWATCH_CONFIG_PATH: join(dir, 'no-dashboard.config.json') });
    try {
      const record = await deliver(queueName, roundMessage(200));
      const { result, lines } = await captured(() => handler(sqsEvent(record), context(69_000)));
      expect(result).toEqual({ batchItemFailures: [] });
      expect(lines.filter((l) => l.includes('"queued round finished"'))).toHaveLength(1);
      expect(lines.filter((l) => l.includes('"_aws"'))).toEqual([]);
    } finally {
      process.env.REGIONWATCH_CONFIG_PATH = join(dir, 'regionwatch.config.json');
    }
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
    const outcome = lines.find((l) => l.includes('"queued round finished"'));
    expect((Buffer.byteLength(outcome ?? '') + DEPLOYED_CONTEXT_BYTES) / DEFAULT_ASSUMPTIONS.logBytes.proberPerQueuedRound).toBeGreaterThan(0.85);
    expect((Buffer.byteLength(outcome ?? '') + DEPLOYED_CONTEXT_BYTES) / DEFAULT_ASSUMPTIONS.logBytes.proberPerQueuedRound).toBeLessThan(1.15);
    // One line for a queued round: its outcome and what the round saw, no 'round finished' line beside it.
    expect(lines.filter((l) => l.includes('"queued round finished"')).map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ outcome: 'ran', slot: message.slot, receiveCount: 1, written: true, checks: 3, down: 1, failures: [expect.stringMatching(/^us\/db: /)] }),
    ]);
    expect(lines.filter((l) => l.includes('"round finished"'))).toEqual([]);

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

describe('prober handler with a round in shards', () => {
  // Three hosts (loopback addresses are hosts to the plan), two targets each; 2 lanes of 1 s checks in the 2 s a
  // 5 s slot counts on (less write margin, delivery slack and a fifth of the slot) hold 4 checks a shard: two shards, us and apac in shard 0, eu in shard 1 (capacity.ts).
  const hosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
  let platform: FaultyServer[] = [];
  let configFile = '';
  beforeAll(async () => {
    platform = await Promise.all(hosts.map((host) => startFaultyServer(host)));
    configFile = join(dir, 'sharded.config.json');
    const region = (server: FaultyServer) => ({ targets: [{ name: 'api', type: 'http', url: `${server.origin}/ok` }, { name: 'web', type: 'http', url: `${server.origin}/json` }] });
    writeFileSync(
      configFile,
      JSON.stringify({
        platform: 'acme',
        probeRegions: ['us-east-1', 'eu-west-1'],
        homeRegion: 'us-east-1',
        defaults: { intervalSeconds: INTERVAL, timeoutMs: 1000 },
        regions: { us: region(platform[0] as FaultyServer), eu: region(platform[1] as FaultyServer), apac: region(platform[2] as FaultyServer) },
        probing: { allowPrivateAddresses: true, jitterMs: 0, detection: 'rounds', concurrency: 2, expectedLatencyMs: 1000 },
      }),
    );
  });
  afterAll(async () => {
    await Promise.all(platform.map((p) => p.close()));
  });
  const requestsOf = () => platform.map((p) => p.requests.length);

  it('the scheduled run checks only shard 0 and queues the rest shard by shard; each shard message checks only its hosts and writes its own part of the round (FAULTS 18)', async () => {
    const { handler, queueName } = await freshHandler({ REGIONWATCH_CONFIG_PATH: configFile });
    const minute = Math.floor(Date.now() / 60_000) * 60;
    const before = requestsOf();
    const { result: summary } = await captured(() => handler({ time: new Date(minute * 1000).toISOString() }, context(7_000)));
    expect(summary).toMatchObject({ outcome: 'ran', minute, shards: 2, written: [minute], fallback: [] });
    // Shard 0 (us on .1, apac on .3) ran here; eu's host was not touched.
    expect(requestsOf().map((n, h) => n - (before[h] ?? 0))).toEqual([2, 0, 2]);
    // Both shards of each of the other eleven slots wait, delayed to their starts (with the first slot's shard 1, not
    // delayed: 23 messages in three batches).
    const queued = (sqsServer.inspectQueue(queueName)?.messages.delayed ?? []).map((m) => JSON.parse(m.body) as RoundMessage);
    expect(queued.map((m) => [m.slot - minute, m.shard])).toEqual(Array.from({ length: 11 }, (_, k) => [[(k + 1) * INTERVAL, 0], [(k + 1) * INTERVAL, 1]]).flat());

    // The first slot's shard 1, as the mapping hands it over at once: eu only.
    const record = await deliver(queueName);
    const message = JSON.parse(record.body) as RoundMessage;
    expect([message.slot, message.shard]).toEqual([minute, 1]);
    const mid = requestsOf();
    const { result } = await captured(() => handler(sqsEvent(record), context(69_000)));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(requestsOf().map((n, h) => n - (mid[h] ?? 0))).toEqual([0, 2, 0]);
    // Its own part: two items for the slot, one per shard, each saying which; a redelivery of shard 1 probes nothing.
    const rounds = await results().readRounds(message.slot, message.slot);
    const ofSlot = rounds.filter((r) => r.probeRegion === 'eu-west-1');
    expect(ofSlot.map((r) => [r.shard, r.shards, r.results.map((x) => `${x.region}/${x.target}`)])).toContainEqual([1, 2, ['eu/api', 'eu/web']]);
    const redelivered = await deliver(queueName, message);
    const again = await captured(() => handler(sqsEvent(redelivered), context(69_000)));
    expect(again.lines.filter((l) => l.includes('"round-duplicate"'))).toHaveLength(1);
    expect(requestsOf().map((n, h) => n - (mid[h] ?? 0))).toEqual([0, 2, 0]);
    // Shard 0 of the slot was claimed by the scheduled run: a copy of it on the queue is a duplicate, not a third run.
    const shardZero = await deliver(queueName, { ...message, shard: 0 });
    const zero = await captured(() => handler(sqsEvent(shardZero), context(69_000)));
    expect(zero.lines.filter((l) => l.includes('"queued round finished"')).map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([expect.objectContaining({ outcome: 'duplicate', shard: 0 })]);
    expect(requestsOf().map((n, h) => n - (mid[h] ?? 0))).toEqual([0, 2, 0]);
    expect(completeRoundKeys(rounds).has(roundKey({ slot: minute, probeRegion: 'eu-west-1' }))).toBe(true);
  });
});

describe('prober handler with confirm on failure', () => {
  /** Each probe region's rounds queue, where its confirmation requests go, named after its region as on AWS (lib/names.ts). */
  const confirmationsQueue = (region: string) => `RegionWatch-${region}-prober-rounds`;
  const confirmTable = 'prober-confirm-results';
  const confirmInterval = 10;
  const probes = ['us-east-1', 'eu-west-1'];
  let configPath = '';
  let template = '';

  beforeAll(async () => {
    configPath = join(dir, 'confirm.config.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        platform: 'acme',
        probeRegions: probes,
        homeRegion: 'us-east-1',
        // minFaultSeconds 0.3: the confirmer's wait (until the failure is that old) stays short for the test.
        defaults: { intervalSeconds: confirmInterval, timeoutMs: 1000, minFaultSeconds: 0.3 },
        regions: { us: { targets: [{ name: 'api', type: 'http', url: `${server.origin}/ok?c=api` }, { name: 'db', type: 'http', url: `${server.origin}/status/503?c=db` }] } },
        probing: { allowPrivateAddresses: true, jitterMs: 0, detection: 'confirm' },
      }),
    );
    await createResultsTable(store.current.client, confirmTable);
    // The region goes into the host and the queue's name, as on AWS.
    const urls = probes.map((region) => sqsServer.createQueue(confirmationsQueue(region), { region }).queueUrl);
    template = (urls[0] ?? '').replaceAll('us-east-1', '{region}');
  });

  const urlOf = (region: string) => template.replaceAll('{region}', region);
  const clientIn = (region: string) => new SQSClient({ region, endpoint: sqsServer.address, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });

  // Each test's claims in its own results table (claims keep their own partition, as in local mode's one table), so a
  // claim of one test never makes the next one's confirmation a duplicate.
  const confirmHandler = (env: Record<string, string> = {}) =>
    freshHandler({ REGIONWATCH_CONFIG_PATH: configPath, RESULTS_TABLE_NAME: confirmTable, CLAIMS_TABLE_NAME: env.RESULTS_TABLE_NAME ?? confirmTable, CONFIRMATIONS_QUEUE_URL: template, ...env });
  const confirmResults = () => new ResultsStore({ client: store.current.documentClient, tableName: confirmTable, retentionHours: 48 });
  /** Requests waiting in a probe region's rounds queue, taken out of it. */
  const takeRequests = async (region: string) => {
    const client = clientIn(region);
    const bodies: Record<string, unknown>[] = [];
    for (let page = 0; page < 10; page++) {
      const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl: urlOf(region), MaxNumberOfMessages: 10 }));
      if (!Messages || Messages.length === 0) break;
      for (const m of Messages) {
        bodies.push(JSON.parse(m.Body ?? '{}') as Record<string, unknown>);
        await client.send(new DeleteMessageCommand({ QueueUrl: urlOf(region), ReceiptHandle: m.ReceiptHandle }));
      }
    }
    client.destroy();
    return bodies;
  };
  /** A request as eu-west-1's rounds queue mapping hands it to the handler. */
  const asRecord = (body: unknown, id: string): SQSRecord => ({
    messageId: id,
    receiptHandle: id,
    body: JSON.stringify(body),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'local', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:eu-west-1:000000000000:${confirmationsQueue('eu-west-1')}`,
    awsRegion: 'eu-west-1',
  });
  /** A round message of the current real slot, "now" `intoSlotMs` into it on the scheduler's clock. */
  const confirmRoundMessage = (intoSlotMs: number, slotsAhead = 0): RoundMessage => {
    const now = Date.now();
    const slot = (Math.floor(now / 1000 / confirmInterval) + slotsAhead) * confirmInterval;
    return { slot, probeRegion: 'eu-west-1', minute: Math.floor(slot / 60) * 60, clockOffsetMs: now - slot * 1000 - intoSlotMs };
  };

  it('a round that sees a target fail asks every probe region (its own too) to check it, once at the start of the failure; a healthy target is never asked about', async () => {
    const { handler, queueName } = await confirmHandler();
    for (const region of probes) await takeRequests(region);
    // eu-west-1 is the second of two probe regions: its rounds start 5 s into each slot.
    const first = confirmRoundMessage(5_100);
    const { result, lines } = await captured(async () => handler(sqsEvent(await deliver(queueName, first)), context(69_000)));
    expect(result).toEqual({ batchItemFailures: [] });
    const [round] = await confirmResults().readRounds(first.slot, first.slot);
    expect(round?.startedAt).toBeGreaterThanOrEqual(first.slot * 1000 + 5_000 + first.clockOffsetMs);
    // db answers 503; api is asked about only if a loaded machine made it miss its timeout too.
    const failing = (round?.results ?? []).filter((r) => r.status !== 'up').map((r) => r.target);
    expect(failing).toContain('db');
    for (const region of probes) {
      const requests = await takeRequests(region);
      expect(requests.map((q) => [q.kind, q.from, q.slot]), region).toEqual(requests.map(() => ['confirm', 'eu-west-1', first.slot]));
      const targets = requests.flatMap((q) => q.targets as { region: string; target: string; at: number }[]);
      expect(targets.map((t) => t.target).sort(), region).toEqual([...failing].sort());
      for (const t of targets) {
        // Stamped on the scheduler's clock, inside the round's staggered window.
        expect(t.at).toBeGreaterThanOrEqual(first.slot * 1000 + 5_000);
        expect(t.at).toBeLessThan((first.slot + confirmInterval) * 1000);
      }
    }
    expect(lines.filter((l) => l.includes('"confirm-sent"')).length).toBeGreaterThanOrEqual(2);

    // The next slot: db still fails, but this probe region's previous check of it failed too: nothing is asked.
    // Its clock offset from now, so that a loaded machine's slow first half does not make this round late (dropped).
    const nextSlot = first.slot + confirmInterval;
    // Its own minute: one slot in six, the next slot is in the next minute (a message naming the first one's minute
    // is refused as bad, which failed this test whenever it ran in a minute's last slot).
    const next = { ...first, slot: nextSlot, minute: Math.floor(nextSlot / 60) * 60, clockOffsetMs: Date.now() - nextSlot * 1000 - 5_100 };
    const second = await captured(async () => handler(sqsEvent(await deliver(queueName, next)), context(69_000)));
    expect(second.result, second.lines.join('\n')).toEqual({ batchItemFailures: [] });
    // Its log says why, should it ever not be written.
    expect(await confirmResults().readRounds(next.slot, next.slot), second.lines.join('\n')).toHaveLength(1);
    for (const region of probes) expect(await takeRequests(region), region).toEqual([]);
  });

  it('serves a request from its queue: waits until the failure is minFaultSeconds old, checks at once, writes a confirmation; the same request again checks nothing', async () => {
    const { handler } = await confirmHandler();
    await awayFromSlotEdge(confirmInterval);
    const at = Date.now();
    const slot = Math.floor(at / 1000 / confirmInterval) * confirmInterval;
    const request = { kind: 'confirm', from: 'us-east-1', slot, batch: 0, targets: [{ region: 'us', target: 'db', at }] };
    const before = server.requests.length;
    const record = asRecord(request, 'req-a');
    const started = Date.now();
    const { result, lines } = await captured(() => handler(sqsEvent(record), context(69_000)));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    const asked = server.requests.slice(before);
    expect(asked.map((r) => [r.path, r.headers['x-regionwatch-probe-region']])).toEqual([['/status/503?c=db', 'eu-west-1']]);
    const checkedSlot = Math.floor((at + 300) / 1000 / confirmInterval) * confirmInterval;
    const stored = (await confirmResults().readRounds(checkedSlot, checkedSlot)).filter((r) => r.kind === 'confirmation');
    expect(stored.map((r) => [r.probeRegion, r.batch, r.results.map((x) => `${x.region}/${x.target}:${x.status}`)])).toEqual([['eu-west-1', `us-east-1/${slot}/0`, ['us/db:down']]]);
    expect(stored[0]?.results[0]?.at).toBeGreaterThanOrEqual(at + 300);
    expect(lines.filter((l) => l.includes('"confirmation finished"')).map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ outcome: 'checked', from: 'us-east-1', checked: 1 }),
    ]);

    const again = await captured(() => handler(sqsEvent(record), context(69_000)));
    expect(again.result).toEqual({ batchItemFailures: [] });
    expect(server.requests.length - before).toBe(1);
    expect(again.lines.filter((l) => l.includes('"confirmation finished"')).map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ outcome: 'claimed', claimedAway: 1 }),
    ]);
  });

  it('serves a request from itself: the origin\'s own second look is a vantage point the quorum needs when another probe region cannot reach the platform', async () => {
    // A fresh table: the test before claimed db in this slot for eu-west-1 (one confirmation per target per slot).
    await createResultsTable(store.current.client, 'prober-confirm-self');
    const { handler } = await confirmHandler({ RESULTS_TABLE_NAME: 'prober-confirm-self' });
    await awayFromSlotEdge(confirmInterval);
    const at = Date.now();
    const slot = Math.floor(at / 1000 / confirmInterval) * confirmInterval;
    const before = server.requests.length;
    const self = asRecord({ kind: 'confirm', from: 'eu-west-1', slot, batch: 7, targets: [{ region: 'us', target: 'db', at }] }, 'self');
    const { result, lines } = await captured(() => handler(sqsEvent(self), context(69_000)));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(server.requests.slice(before).map((r) => r.path)).toEqual(['/status/503?c=db']);
    expect(lines.filter((l) => l.includes('"confirmation finished"')).map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ outcome: 'checked', from: 'eu-west-1', checked: 1 }),
    ]);
  });

  it('drops a request it cannot read and never fails it: a confirmation is worthless a moment later', async () => {
    const { handler } = await confirmHandler();
    const stranger = asRecord({ kind: 'confirm', from: 'mars-1', slot: 1, batch: 0, targets: [{ region: 'us', target: 'db', at: Date.now() }] }, 'stranger');
    const broken = asRecord({ kind: 'confirm', from: 'us-east-1' }, 'broken');
    const before = server.requests.length;
    const { result, lines } = await captured(() => handler(sqsEvent(stranger, broken), context(69_000)));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(server.requests.length).toBe(before);
    expect(lines.filter((l) => l.includes('"confirmation-failed"'))).toHaveLength(2);
  });

  it('when the confirmation queues cannot be reached the round is still written, and the failure is logged: detection falls back to the rounds', async () => {
    // A fresh table: no previous checks, so db was up as far as this probe region knows.
    await createResultsTable(store.current.client, 'prober-confirm-unreachable');
    const { handler, queueName } = await confirmHandler({ RESULTS_TABLE_NAME: 'prober-confirm-unreachable', CONFIRMATIONS_QUEUE_URL: template.replace(confirmationsQueue('{region}'), 'no-such-queue') });
    const message = confirmRoundMessage(5_100);
    const { result, lines } = await captured(async () => handler(sqsEvent(await deliver(queueName, message)), context(69_000)));
    expect(result).toEqual({ batchItemFailures: [] });
    const written = await new ResultsStore({ client: store.current.documentClient, tableName: 'prober-confirm-unreachable', retentionHours: 48 }).readRounds(message.slot, message.slot);
    expect(written.map((r) => r.results.map((x) => `${x.target}:${x.status}`))).toEqual([['api:up', 'db:down']]);
    expect(lines.filter((l) => l.includes('"confirm-sent"'))).toEqual([]);
    expect(lines.filter((l) => l.includes('"confirm-send-failed"')).map((l) => (JSON.parse(l) as { to: string }).to).sort()).toEqual([...probes].sort());
  });
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
