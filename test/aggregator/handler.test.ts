// The Lambda wiring: environment read once at load (failing loudly), poison records quarantined in the failure
// queue named by FAILURE_QUEUE_URL (a local SQS, fauxqs on 127.0.0.1) instead of being reported failed, and the
// metrics it really emits (DynamoDB Local and fauxqs behind a whole run).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { interceptLocalhostDns, startFauxqs, type FauxqsServer } from 'fauxqs';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AGGREGATOR_METRIC_NAMES } from '../../lambda/aggregator/metrics';
import { ENV } from '../../lambda/handlers/env';
import { faults, T0, testConfig } from '../core/harness';
import { drainQueue } from '../helpers/sqs';
import { useTestStore } from '../helpers/store';
import { rig, streamRecord } from './rig';

const store = useTestStore();
const saved = { ...process.env };
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let server: FauxqsServer;
let endpoint: string;
let restoreDns: () => void;
let sqs: SQSClient;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'regionwatch-aggregator-'));
  server = await startFauxqs({ port: 0, logger: false });
  // fauxqs names queues http://sqs.<region>.localhost:<port>/…; the handler's client sends to the queue URL's
  // host, as it does in AWS, so *.localhost resolves to 127.0.0.1 for this file.
  restoreDns = interceptLocalhostDns();
  endpoint = `http://sqs.us-east-1.localhost:${server.port}`;
  sqs = new SQSClient({ region: 'us-east-1', endpoint, credentials, maxAttempts: 1 });
});

afterAll(async () => {
  sqs?.destroy();
  await server?.stop();
  restoreDns?.();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  process.env = { ...saved };
  vi.resetModules();
});

function setEnvironment(failureQueueUrl: string, overrides: Record<string, string> = {}): void {
  Object.assign(process.env, {
    [ENV.resultsTable]: 'results',
    [ENV.incidentsTable]: 'incidents',
    [ENV.topicArn]: 'arn:aws:sns:us-east-1:123456789012:notifications',
    [ENV.probeRegion]: 'us-east-1',
    [ENV.configPath]: 'regionwatch.config.json',
    [ENV.failureQueueUrl]: failureQueueUrl,
    ...store.current.env,
    AWS_ENDPOINT_URL_SQS: endpoint,
    AWS_MAX_ATTEMPTS: '1',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'CRITICAL',
    ...overrides,
  });
}

// Only poison records and a removal: no platform region is touched, so the engine (DynamoDB, SNS) never runs.
const poisonBatch = {
  Records: [
    { eventName: 'INSERT' as const, dynamodb: { SequenceNumber: '1', NewImage: { kind: { S: 'round' }, probeRegion: { S: 'eu-west-1' } } } },
    { eventName: 'REMOVE' as const, dynamodb: { SequenceNumber: '2' } },
  ],
};

describe('aggregator handler', () => {
  it('fails its cold start naming a missing variable', async () => {
    for (const name of Object.values(ENV)) delete process.env[name];
    await expect(import('../../lambda/handlers/aggregator')).rejects.toThrow(/RESULTS_TABLE_NAME is not set/);
  });

  it('fails its cold start without the failure queue', async () => {
    setEnvironment('');
    await expect(import('../../lambda/handlers/aggregator')).rejects.toThrow(/FAILURE_QUEUE_URL is not set/);
  });

  it('quarantines a poison record in the queue named by FAILURE_QUEUE_URL and reports no failure', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'handler-failed-records' }));
    if (QueueUrl === undefined) throw new Error('no queue url');
    setEnvironment(QueueUrl);
    const { handler } = await import('../../lambda/handlers/aggregator');
    expect(await handler(poisonBatch)).toEqual({ batchItemFailures: [] });
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    expect(Messages.map((m) => JSON.parse(m.Body ?? '{}'))).toEqual([
      {
        kind: 'poison-record',
        reason: 'PoisonRecordError: round item lacks probeRegion, slot or packed results',
        eventSourceARN: null,
        sequenceNumber: '1',
        record: poisonBatch.Records[0],
      },
    ]);
  });

  it('publishes a test notification on its topic when `notify test --aws` invokes it, and answers with the message id', async () => {
    const snsEndpoint = `http://127.0.0.1:${server.port}`;
    const sns = new SNSClient({ region: 'us-east-1', endpoint: snsEndpoint, credentials, maxAttempts: 1 });
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'notify-test-topic' }));
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'notify-test-subscriber' }));
    if (TopicArn === undefined || QueueUrl === undefined) throw new Error('no topic or queue');
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: `arn:aws:sqs:us-east-1:000000000000:notify-test-subscriber` }));
    sns.destroy();
    const configPath = join(dir, 'notify-test.config.json');
    writeFileSync(configPath, JSON.stringify(testConfig()));
    setEnvironment(QueueUrl, { [ENV.topicArn]: TopicArn, [ENV.configPath]: configPath, AWS_ENDPOINT_URL_SNS: snsEndpoint });
    const { handler } = await import('../../lambda/handlers/aggregator');
    const answer = await handler({ regionwatch: 'notify-test', testId: 'abc-123' });
    expect(answer).toEqual({ messageId: expect.stringMatching(/\S/), topicArn: TopicArn, dedupKey: 'test/abc-123' });
    const [message] = await drainQueue(sqs, QueueUrl);
    const envelope = JSON.parse(message?.Body ?? '{}') as { Subject: string; Message: string; MessageAttributes: Record<string, { Value: string }> };
    expect(envelope.Subject).toBe('[TEST] regionwatch acme: test notification from us-east-1, no action needed');
    expect(JSON.parse(envelope.Message)).toMatchObject({ event: 'test', incidentId: null, region: null, dedupKey: 'test/abc-123', summary: expect.stringMatching(/^TEST ONLY: /) });
    expect(envelope.MessageAttributes.event?.Value).toBe('test');
  });

  it('reports the poison record failed when the queue refuses it', async () => {
    setEnvironment(`${endpoint}/000000000000/no-such-queue`);
    const { handler } = await import('../../lambda/handlers/aggregator');
    expect(await handler(poisonBatch)).toEqual({ batchItemFailures: [{ itemIdentifier: '1' }] });
  });
});

interface Emf {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

describe('aggregator handler metrics', () => {
  it('emits every count of a batch in the RegionWatch namespace with the ProbeRegion dimension only', async () => {
    const config = testConfig();
    const r = await rig(store.current, config, faults({ us: [[0, 100, 'down']] }));
    const configPath = join(dir, 'regionwatch.config.json');
    writeFileSync(configPath, JSON.stringify(config));
    const snsEndpoint = `http://127.0.0.1:${server.port}`;
    const sns = new SNSClient({ region: 'us-east-1', endpoint: snsEndpoint, credentials, maxAttempts: 1 });
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'metrics-notifications' }));
    sns.destroy();
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'metrics-failed-records' }));
    if (TopicArn === undefined || QueueUrl === undefined) throw new Error('no topic or queue');
    setEnvironment(QueueUrl, {
      [ENV.resultsTable]: r.resultsTable,
      [ENV.incidentsTable]: r.incidentsTable,
      [ENV.topicArn]: TopicArn,
      [ENV.probeRegion]: config.homeRegion,
      [ENV.configPath]: configPath,
      AWS_ENDPOINT_URL_SNS: snsEndpoint,
    });
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    const { handler } = await import('../../lambda/handlers/aggregator');

    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    // The handler's clock is Date.now(): only Date is faked, so the rounds of T0 are the newest ones.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime((T0 + 3) * 1000);
      await handler({ Records: await r.writeSlot(0) });
      vi.setSystemTime((T0 + 13) * 1000);
      const poison = streamRecord({ pk: 'rounds', sk: 'x', kind: 'round', probeRegion: 'eu-west-1', slot: T0, results: new Uint8Array([1, 2, 3]) }, 'poison');
      expect(await handler({ Records: [...(await r.writeSlot(10)), poison] })).toEqual({ batchItemFailures: [] });
    } finally {
      vi.useRealTimers();
      write.mockRestore();
    }

    const emf = lines.flatMap((l) => l.split('\n')).filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as Emf);
    // The first slot changed nothing: no metric at all (a zero is a billed value). The second: the poison record and
    // the `opened` transition, and none of the counts that stayed zero (published, nothing pending or stuck).
    expect(emf).toHaveLength(1);
    for (const metric of emf) {
      const [declared] = metric._aws.CloudWatchMetrics;
      expect(declared?.Namespace).toBe(AGGREGATOR_METRIC_NAMES.namespace);
      expect(declared?.Dimensions).toEqual([[AGGREGATOR_METRIC_NAMES.probeRegionDimension]]);
      expect(metric[AGGREGATOR_METRIC_NAMES.probeRegionDimension]).toBe(config.homeRegion);
      expect(metric).not.toHaveProperty('service');
      for (const { Name } of declared?.Metrics ?? []) expect(Object.values(AGGREGATOR_METRIC_NAMES.metrics)).toContain(Name);
    }
    const second = emf[0];
    expect(second?._aws.CloudWatchMetrics[0]?.Metrics.map((m) => m.Name)).toEqual(['PoisonRecords', 'QuarantinedRecords', 'Transitions']);
    expect(second).toMatchObject({ PoisonRecords: 1, QuarantinedRecords: 1, Transitions: 1 });
  });
});
