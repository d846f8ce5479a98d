// The Lambda wiring: environment read once at load (failing loudly), poison records quarantined in the failure
// queue named by FAILURE_QUEUE_URL (a local SQS, fauxqs on 127.0.0.1) instead of being reported failed.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { interceptLocalhostDns, startFauxqs, type FauxqsServer } from 'fauxqs';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ENV } from '../../lambda/handlers/env';

const saved = { ...process.env };
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
let server: FauxqsServer;
let endpoint: string;
let restoreDns: () => void;
let sqs: SQSClient;

beforeAll(async () => {
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
});

afterEach(() => {
  process.env = { ...saved };
  vi.resetModules();
});

function setEnvironment(failureQueueUrl: string): void {
  Object.assign(process.env, {
    [ENV.resultsTable]: 'results',
    [ENV.incidentsTable]: 'incidents',
    [ENV.topicArn]: 'arn:aws:sns:us-east-1:123456789012:notifications',
    [ENV.probeRegion]: 'us-east-1',
    [ENV.configPath]: 'regionwatch.config.json',
    [ENV.failureQueueUrl]: failureQueueUrl,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_ENDPOINT_URL_SQS: endpoint,
    AWS_MAX_ATTEMPTS: '1',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'CRITICAL',
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

  it('reports the poison record failed when the queue refuses it', async () => {
    setEnvironment(`${endpoint}/000000000000/no-such-queue`);
    const { handler } = await import('../../lambda/handlers/aggregator');
    expect(await handler(poisonBatch)).toEqual({ batchItemFailures: [{ itemIdentifier: '1' }] });
  });
});
