// SnsPublisher against a real local SNS/SQS (fauxqs, in-process on 127.0.0.1): what arrives, attributes and filter policies included.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { SNSClient, SubscribeCommand, CreateTopicCommand } from '@aws-sdk/client-sns';
import { SQSClient, CreateQueueCommand, GetQueueAttributesCommand, type Message } from '@aws-sdk/client-sqs';
import { drainQueue } from '../helpers/sqs';
import {
  NO_REGION_ATTRIBUTE,
  NotificationPublishError,
  SnsPublisher,
  classifyPublishError,
  fitBody,
  sanitizeSubject,
  toPublishInput,
} from '../../lambda/notify/sns-publisher';
import { checkerNotification, degradedNotification, downNotification } from './fixtures';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const region = 'us-east-1';

let server: FauxqsServer;
let sns: SNSClient;
let sqs: SQSClient;

beforeAll(async () => {
  server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
  sns = new SNSClient({ region, endpoint: server.address, credentials, maxAttempts: 1 });
  sqs = new SQSClient({ region, endpoint: server.address, credentials, maxAttempts: 1 });
});

afterAll(async () => {
  sns?.destroy();
  sqs?.destroy();
  await server?.stop();
});

async function queue(name: string): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  if (QueueUrl === undefined) throw new Error('no queue url');
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  const arn = attrs.Attributes?.QueueArn;
  if (arn === undefined) throw new Error('no queue arn');
  return { url: QueueUrl, arn };
}

const drain = (url: string): Promise<Message[]> => drainQueue(sqs, url);

interface Envelope {
  Type: string;
  TopicArn: string;
  Subject?: string;
  Message: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

describe('SnsPublisher against fauxqs', () => {
  it('delivers the DESIGN.md message: subject, JSON body, attributes; a severity filter policy lets only down through', async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'regionwatch-notifications' }));
    if (TopicArn === undefined) throw new Error('no topic');
    const everything = await queue('everything');
    const pager = await queue('pager');
    const raw = await queue('raw');
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: everything.arn }));
    await sns.send(
      new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: pager.arn, Attributes: { FilterPolicy: JSON.stringify({ severity: ['down'] }) } }),
    );
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: raw.arn, Attributes: { RawMessageDelivery: 'true' } }));

    const publisher = new SnsPublisher({ client: sns, topicArn: TopicArn });
    const down = downNotification();
    const messageId = await publisher.publishWithId(down);
    expect(messageId).toMatch(/\S+/);
    await publisher.publish(degradedNotification());
    await publisher.publish(checkerNotification());

    const all = (await drain(everything.url)).map((m) => JSON.parse(m.Body ?? '{}') as Envelope);
    expect(all).toHaveLength(3);
    const first = all.find((e) => e.Subject === down.subject);
    expect(first).toBeDefined();
    expect(first?.TopicArn).toBe(TopicArn);
    const body = JSON.parse(first?.Message ?? '{}') as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['event', 'incidentId', 'region', 'severity', 'at', 'summary', 'evidence', 'dedupKey']);
    expect(body).toEqual({
      event: 'opened',
      incidentId: down.incidentId,
      region: 'us',
      severity: 'down',
      at: down.at,
      summary: down.summary,
      evidence: down.evidence,
      dedupKey: down.dedupKey,
    });
    expect(first?.MessageAttributes).toEqual({
      event: { Type: 'String', Value: 'opened' },
      region: { Type: 'String', Value: 'us' },
      severity: { Type: 'String', Value: 'down' },
    });
    const checker = all.find((e) => JSON.parse(e.Message).event === 'checker');
    expect(checker?.MessageAttributes?.region).toEqual({ Type: 'String', Value: NO_REGION_ATTRIBUTE });
    expect(JSON.parse(checker?.Message ?? '{}')).toMatchObject({ region: null, incidentId: null });

    // The pager subscription's filter policy lets only severity=down through.
    const paged = (await drain(pager.url)).map((m) => JSON.parse(m.Body ?? '{}') as Envelope);
    expect(paged.map((e) => JSON.parse(e.Message).dedupKey)).toEqual([down.dedupKey]);

    // Raw delivery: the body is the bare JSON and the attributes arrive as SQS message attributes.
    const raws = await drain(raw.url);
    expect(raws).toHaveLength(3);
    const rawDown = raws.find((m) => m.MessageAttributes?.severity?.StringValue === 'down');
    expect(JSON.parse(rawDown?.Body ?? '{}')).toMatchObject({ dedupKey: down.dedupKey, event: 'opened' });
    expect(rawDown?.MessageAttributes?.region?.StringValue).toBe('us');
    expect(rawDown?.MessageAttributes?.event?.StringValue).toBe('opened');
  });

  it('a filter policy on region with anything-but keeps checker notifications (region "none") away from a platform pager', async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'regionwatch-filter-region' }));
    if (TopicArn === undefined) throw new Error('no topic');
    const platform = await queue('platform-only');
    await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: platform.arn,
        Attributes: { FilterPolicy: JSON.stringify({ region: [{ 'anything-but': NO_REGION_ATTRIBUTE }], event: ['opened', 'escalated'] }) },
      }),
    );
    const publisher = new SnsPublisher({ client: sns, topicArn: TopicArn });
    await publisher.publish(checkerNotification());
    await publisher.publish(downNotification({ event: 'resolved', severity: 'up', dedupKey: 'us#x#resolved#9' }));
    await publisher.publish(downNotification({ dedupKey: 'us#x#opened#1' }));
    const got = (await drain(platform.url)).map((m) => JSON.parse(JSON.parse(m.Body ?? '{}').Message).dedupKey);
    expect(got).toEqual(['us#x#opened#1']);
  });

  it('publishing to a topic that does not exist throws a typed, non-retryable error', async () => {
    const publisher = new SnsPublisher({ client: sns, topicArn: 'arn:aws:sns:us-east-1:000000000000:no-such-topic' });
    const error = await publisher.publish(downNotification()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NotificationPublishError);
    const e = error as NotificationPublishError;
    expect(e.name).toBe('NotificationPublishError');
    expect(e.kind).toBe('not-found');
    expect(e.retryable).toBe(false);
    expect(e.dedupKey).toBe(downNotification().dedupKey);
    expect(e.cause).toBeDefined();
  });

  it('a client pointed at a closed port throws a typed, retryable network error', async () => {
    const port = await closedPort();
    const client = new SNSClient({ region, endpoint: `http://127.0.0.1:${port}`, credentials, maxAttempts: 1 });
    try {
      const publisher = new SnsPublisher({ client, topicArn: 'arn:aws:sns:us-east-1:000000000000:regionwatch-notifications' });
      const error = await publisher.publish(downNotification()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(NotificationPublishError);
      expect(error).toMatchObject({ kind: 'network', retryable: true, code: 'ECONNREFUSED' });
    } finally {
      client.destroy();
    }
  });
});

/** A port nothing listens on: bind, note it, close. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const address = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('toPublishInput', () => {
  it('builds subject, message and the three String attributes', () => {
    const n = downNotification();
    const input = toPublishInput(n, 'arn:aws:sns:us-east-1:123456789012:t');
    expect(input.Subject).toBe(n.subject);
    expect(input.MessageAttributes).toEqual({
      event: { DataType: 'String', StringValue: 'opened' },
      region: { DataType: 'String', StringValue: 'us' },
      severity: { DataType: 'String', StringValue: 'down' },
    });
    expect(JSON.parse(input.Message ?? '')).not.toHaveProperty('subject');
    expect(input.MessageGroupId).toBeUndefined();
  });

  it('gives FIFO topics a group per region and a deduplication id that depends only on dedupKey', () => {
    const a = toPublishInput(downNotification(), 'arn:aws:sns:us-east-1:123456789012:t.fifo');
    const b = toPublishInput(downNotification({ at: '2026-04-11T12:05:00.000Z' }), 'arn:aws:sns:us-east-1:123456789012:t.fifo');
    expect(a.MessageGroupId).toBe('us');
    expect(a.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/);
    expect(a.MessageDeduplicationId).toBe(b.MessageDeduplicationId);
  });

  it('keeps an oversized body under the SNS limit by dropping per-probe-region detail first', () => {
    const n = downNotification();
    const huge = { ...n, evidence: { ...n.evidence, targets: Array.from({ length: 3000 }, (_, i) => ({ ...n.evidence.targets[0], target: `t${i}`, verdict: 'down' as const, failingFrom: [], seenBy: n.evidence.targets[0]?.seenBy ?? [] })) } };
    const text = fitBody(huge);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(262_144);
    const parsed = JSON.parse(text) as typeof huge;
    expect(parsed.dedupKey).toBe(n.dedupKey);
    expect(parsed.evidence.targets.length).toBeGreaterThan(0);
  });
});

describe('sanitizeSubject', () => {
  it('keeps a plain subject unchanged', () => {
    expect(sanitizeSubject('[DOWN] us: api failing from 3/3 probe regions')).toBe('[DOWN] us: api failing from 3/3 probe regions');
  });
  it('removes line breaks, control characters and non-ASCII, and trims leading blanks', () => {
    expect(sanitizeSubject('  [DOWN] café\r\n— api\u0007 ✓')).toBe('[DOWN] cafe - api? ?');
  });
  it('cuts to 99 characters with an ellipsis', () => {
    const s = sanitizeSubject(`[DOWN] us: ${'target-'.repeat(30)}`);
    expect(s.length).toBe(99);
    expect(s.endsWith('...')).toBe(true);
  });
  it('falls back when nothing printable is left', () => {
    expect(sanitizeSubject('\n\n', 'fallback')).toBe('fallback');
    expect(toPublishInput(checkerNotification({ subject: '' }), 'arn:aws:sns:us-east-1:1:t').Subject).toBe('[UNKNOWN] regionwatch: the checker needs attention');
  });
});

describe('classifyPublishError', () => {
  const cases: Array<[string, unknown, string, boolean]> = [
    ['throttled', Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException', $metadata: { httpStatusCode: 400 } }), 'throttled', true],
    ['access denied', Object.assign(new Error('not authorized'), { name: 'AuthorizationErrorException', $metadata: { httpStatusCode: 403 } }), 'access-denied', false],
    ['KMS disabled', Object.assign(new Error('key disabled'), { name: 'KMSDisabledException', $metadata: { httpStatusCode: 400 } }), 'kms', false],
    ['KMS throttled', Object.assign(new Error('kms slow'), { name: 'KMSThrottlingException', $metadata: { httpStatusCode: 400 } }), 'kms', true],
    ['unknown KMS', Object.assign(new Error('kms?'), { name: 'KMSSomethingNew' }), 'kms', false],
    ['5xx', Object.assign(new Error('oops'), { name: 'Weird', $metadata: { httpStatusCode: 503 } }), 'service', true],
    ['a string', 'boom', 'unknown', true],
  ];
  it.each(cases)('%s', (_label, error, kind, retryable) => {
    const e = classifyPublishError(error, 'k');
    expect(e).toBeInstanceOf(NotificationPublishError);
    expect(e.kind).toBe(kind);
    expect(e.retryable).toBe(retryable);
    expect(e.message).toContain('k');
  });
});
