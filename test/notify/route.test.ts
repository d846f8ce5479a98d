// A channel's route as an SNS filter policy: what a real SNS (fauxqs) delivers through it is exactly what local mode's
// evaluation of the same policy lets through, for every kind of notification; and resolves always pair with triggers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import type { RouteConfig } from '../../lambda/config/schema';
import type { Notification, NotificationBody } from '../../lambda/core/notification';
import { testNotification } from '../../lambda/core/test-notification';
import { ALL_BUT_TESTS, filterPolicyOf, matchesFilterPolicy, routes, type FilterPolicy } from '../../lambda/notify/route';
import { notificationAttributes, SnsPublisher } from '../../lambda/notify/sns-publisher';
import { drainQueue } from '../helpers/sqs';
import { checkerNotification, downNotification } from './fixtures';

const ROUTES: Record<string, RouteConfig> = {
  defaults: { events: ['opened', 'escalated', 'resolved'], severities: ['down', 'read-only', 'degraded'] },
  downOnlyUs: { events: ['opened', 'escalated', 'resolved'], severities: ['down'], regions: ['us'] },
  everything: { events: ['opened', 'escalated', 'deescalated', 'reminder', 'resolved', 'checker'], severities: ['down', 'read-only', 'degraded'] },
  checkerOnly: { events: ['checker'], severities: ['down'] },
  remindersToo: { events: ['opened', 'reminder', 'resolved'], severities: ['read-only'] },
};

/** One of each: events × severities × regions, a checker alert and its recovery, and a test. */
function catalogue(): Notification[] {
  const out: Notification[] = [];
  let n = 0;
  for (const region of ['us', 'eu']) {
    for (const event of ['opened', 'escalated', 'deescalated', 'reminder'] as const) {
      for (const severity of ['down', 'read-only', 'degraded'] as const) out.push(downNotification({ region, event, severity, dedupKey: `k${n++}` }));
    }
    out.push(downNotification({ region, event: 'resolved', severity: 'up', dedupKey: `k${n++}` }));
  }
  out.push(checkerNotification({ dedupKey: `k${n++}` }), checkerNotification({ severity: 'up', dedupKey: `k${n++}` }));
  out.push(testNotification({ platform: 'acme', testId: 't', from: 'here', nowMs: 0 }));
  return out;
}

describe('routes as SNS filter policies', () => {
  let server: FauxqsServer;
  let sns: SNSClient;
  let sqs: SQSClient;
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  beforeAll(async () => {
    server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
    sns = new SNSClient({ region: 'us-east-1', endpoint: server.address, credentials, maxAttempts: 1 });
    sqs = new SQSClient({ region: 'us-east-1', endpoint: server.address, credentials, maxAttempts: 1 });
  });
  afterAll(async () => {
    sns?.destroy();
    sqs?.destroy();
    await server?.stop();
  });

  it('are what the policies say', () => {
    expect(filterPolicyOf(ROUTES.defaults as RouteConfig)).toEqual({
      $or: [{ event: ['opened', 'escalated'], severity: ['down', 'read-only', 'degraded'] }, { event: ['resolved'] }],
    });
    expect(filterPolicyOf(ROUTES.downOnlyUs as RouteConfig)).toEqual({
      $or: [{ event: ['opened', 'escalated'], severity: ['down'], region: ['us'] }, { event: ['resolved'], region: ['us'] }],
    });
    expect(filterPolicyOf(ROUTES.checkerOnly as RouteConfig)).toEqual({ event: ['checker'] });
  });

  it('deliver through a real SNS exactly what local mode lets through, for every route and notification', async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'routes' }));
    if (!TopicArn) throw new Error('no topic');
    const policies: Record<string, FilterPolicy> = { ...Object.fromEntries(Object.entries(ROUTES).map(([k, r]) => [k, filterPolicyOf(r)])), allButTests: ALL_BUT_TESTS };
    const queues: Record<string, string> = {};
    for (const [name, policy] of Object.entries(policies)) {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `route-${name}` }));
      const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
      if (!QueueUrl || !arn) throw new Error('no queue');
      queues[name] = QueueUrl;
      await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: arn, Attributes: { FilterPolicy: JSON.stringify(policy) } }));
    }
    const all = catalogue();
    const publisher = new SnsPublisher({ client: sns, topicArn: TopicArn });
    for (const n of all) await publisher.publish(n);
    for (const [name, policy] of Object.entries(policies)) {
      const got = (await drainQueue(sqs, queues[name] ?? '')).map((m) => (JSON.parse(JSON.parse(m.Body ?? '{}').Message) as NotificationBody).dedupKey).sort();
      const expected = all.filter((n) => matchesFilterPolicy(policy, notificationAttributes(n))).map((n) => n.dedupKey).sort();
      expect(got, name).toEqual(expected);
      expect(got.length, name).toBeGreaterThan(0);
    }
  });

  it('always let the resolve through where the trigger went, and never a test', () => {
    for (const [name, route] of Object.entries(ROUTES)) {
      const sent = catalogue().filter((n) => routes(route, n));
      for (const region of ['us', 'eu']) {
        const triggered = sent.some((n) => n.region === region && n.event !== 'resolved');
        const resolved = sent.some((n) => n.region === region && n.event === 'resolved');
        if (triggered && route.events.includes('resolved')) expect(resolved, `${name} ${region}`).toBe(true);
      }
      expect(sent.some((n) => n.event === 'test'), name).toBe(false);
    }
    expect(catalogue().filter((n) => matchesFilterPolicy(ALL_BUT_TESTS, notificationAttributes(n))).map((n) => n.event)).not.toContain('test');
  });
});
