// FAULTS row 9 for real: poison records quarantined in a local SQS queue (fauxqs on 127.0.0.1), the rest of the
// batch processed on DynamoDB Local, and a quarantine that fails falling back to a reported batch item failure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { CreateQueueCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { drainQueue } from '../helpers/sqs';
import type { DynamoDBRecord } from 'aws-lambda';
import { sqsQuarantine, type QuarantineMessage } from '../../lambda/aggregator/quarantine';
import { handleStreamBatch } from '../../lambda/aggregator/stream';
import { useTestStore } from '../helpers/store';
import { faults, T0, testConfig } from '../core/harness';
import { rig, streamRecord } from './rig';

const store = useTestStore();
const at = (second: number) => (T0 + second) * 1000 + 3000;

let server: FauxqsServer;
let endpoint: string;
let sqs: SQSClient;

beforeAll(async () => {
  server = await startFauxqs({ port: 0, logger: false });
  endpoint = `http://127.0.0.1:${server.port}`;
  sqs = new SQSClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
});

afterAll(async () => {
  sqs?.destroy();
  await server?.stop();
});

let queueCounter = 0;
async function failureQueue(): Promise<string> {
  queueCounter++;
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `failed-records-${queueCounter}` }));
  if (QueueUrl === undefined) throw new Error('no queue url');
  return QueueUrl;
}

const drain = (url: string): Promise<Message[]> => drainQueue(sqs, url);

/** A round item whose packed results are not gzip: it decodes to nothing, so it is poison. */
function poisonRecord(sequenceNumber: string): DynamoDBRecord {
  return {
    ...streamRecord({ pk: 'rounds', sk: 'x', kind: 'round', probeRegion: 'eu-west-1', slot: T0, results: new Uint8Array([1, 2, 3]) }, sequenceNumber),
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:111111111111:table/acme-regionwatch-results/stream/2026-01-01T00:00:00.000',
  };
}

describe('poison records quarantined in SQS (FAULTS row 9)', () => {
  it('sends the whole record with its reason to the queue, reports no failure, and processes the good records', async () => {
    const r = await rig(store.current, testConfig(), faults({ us: [[0, 100, 'down']] }));
    const engine = r.engine();
    const queueUrl = await failureQueue();
    await r.writeSlot(0);
    const good = await r.writeSlot(10);
    r.clock.ms = at(10);
    const poison = poisonRecord('poison-1');
    const outcome = await handleStreamBatch(
      { Records: [...good.slice(0, 1), poison, ...good.slice(1)] },
      (regions) => engine.run({ regions }),
      sqsQuarantine({ client: sqs, queueUrl }),
    );

    expect(outcome.batchItemFailures).toEqual([]);
    expect(outcome.poison).toEqual([{ sequenceNumber: 'poison-1', reason: expect.stringMatching(/^PoisonRecordError: round item results do not decode/), quarantined: true }]);
    // The good records of the batch were evaluated: the incident opened and its page went out.
    expect(outcome.run?.acted).toBe(true);
    expect(r.publisher.sent.map((n) => `${n.event}:${n.region}`)).toEqual(['opened:us']);

    const messages = await drain(queueUrl);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.MessageAttributes?.kind).toMatchObject({ DataType: 'String', StringValue: 'poison-record' });
    const body = JSON.parse(messages[0]?.Body ?? '{}') as QuarantineMessage;
    expect(body).toEqual({
      kind: 'poison-record',
      reason: outcome.poison[0]?.reason,
      eventSourceARN: poison.eventSourceARN,
      sequenceNumber: 'poison-1',
      record: JSON.parse(JSON.stringify(poison)),
    });
  });

  it('reports the record as a batch item failure when the quarantine fails, and still processes the rest', async () => {
    const r = await rig(store.current, testConfig(), faults({ us: [[0, 100, 'down']] }));
    const engine = r.engine();
    await r.writeSlot(0);
    const good = await r.writeSlot(10);
    r.clock.ms = at(10);
    // A queue that does not exist: SQS answers the SendMessage with an error, as it would for access denied.
    const missing = `${endpoint}/000000000000/no-such-queue`;
    const logged: { level: string; message: string; fields: Record<string, unknown> }[] = [];
    const outcome = await handleStreamBatch(
      { Records: [...good, poisonRecord('poison-2')] },
      (regions) => engine.run({ regions }),
      sqsQuarantine({ client: sqs, queueUrl: missing }),
      (level, message, fields) => logged.push({ level, message, fields }),
    );

    expect(outcome.batchItemFailures).toEqual([{ itemIdentifier: 'poison-2' }]);
    expect(outcome.poison).toEqual([{ sequenceNumber: 'poison-2', reason: expect.stringMatching(/^PoisonRecordError/), quarantined: false }]);
    expect(outcome.run?.acted).toBe(true);
    expect(r.publisher.sent.map((n) => n.event)).toEqual(['opened']);
    expect(logged).toEqual([
      {
        level: 'error',
        message: expect.stringMatching(/could not be quarantined/),
        fields: { sequenceNumber: 'poison-2', reason: outcome.poison[0]?.reason, quarantineError: expect.stringMatching(/\S/) },
      },
    ]);
  });

  it('leaves a quarantined record out of the failures when the run itself fails', async () => {
    const r = await rig(store.current, testConfig(), faults({}));
    const queueUrl = await failureQueue();
    const good = await r.writeSlot(0);
    const outcome = await handleStreamBatch(
      { Records: [poisonRecord('poison-3'), ...good] },
      async () => {
        throw new Error('DynamoDB unavailable');
      },
      sqsQuarantine({ client: sqs, queueUrl }),
    );
    expect(outcome.runError).toBe('Error: DynamoDB unavailable');
    expect(outcome.batchItemFailures).toEqual(good.map((g) => ({ itemIdentifier: g.dynamodb?.SequenceNumber })));
    expect(await drain(queueUrl)).toHaveLength(1);
  });
});
