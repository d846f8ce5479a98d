// PagerDuty Events API v2 against a loopback "PagerDuty": the events' shapes, severities, the summary's limit,
// retries on 429/5xx, the trigger → resolve pairing over a real lifecycle (a reopened incident re-triggers the same
// alert), the stale-trigger guard, and the Lambda end to end behind a real SNS filter policy (fauxqs).
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { DEFAULT_ROUTE, type RouteConfig } from '../../lambda/config/schema';
import type { Notification, NotificationBody } from '../../lambda/core/notification';
import { testNotification } from '../../lambda/core/test-notification';
import { ALLOW_LOOPBACK_ENV, ENV } from '../../lambda/handlers/env';
import { ChannelSecretError } from '../../lambda/notify/channel-secret';
import { PAGERDUTY_SUMMARY_MAX, PagerDutyDeliveryError, pagerDutyEvent, parsePagerDutySecret, sendPagerDutyEvent, type PagerDutyEvent, type PagerDutyTrigger } from '../../lambda/notify/pagerduty';
import { pagerDutyDelivery } from '../../lambda/notify/pagerduty-notifier';
import { filterPolicyOf, routes } from '../../lambda/notify/route';
import { SnsPublisher } from '../../lambda/notify/sns-publisher';
import { createIncidentsTable } from '../../lambda/store/create-tables';
import { DynamoIncidentStore } from '../../lambda/store/incident-store';
import { faults, PureRun, testConfig } from '../core/harness';
import { drainQueue } from '../helpers/sqs';
import { useTestStore } from '../helpers/store';
import { startFakeReceiver, type FakeReceiver } from './fake-receiver';
import { checkerNotification, degradedNotification, downNotification } from './fixtures';
import { eventFromQueue } from './sns-event';

const KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
const ACCEPTED = { status: 202, body: '{"status":"success","message":"Event processed"}', headers: { 'content-type': 'application/json' } };
const context = { routingKey: KEY, platform: 'acme', statusPageUrl: 'https://status.acme.example/' };

let pd: FakeReceiver;
beforeAll(async () => {
  pd = await startFakeReceiver('/v2/enqueue', ACCEPTED);
});
afterAll(async () => {
  await pd?.close();
});
afterEach(() => {
  pd.requests.length = 0;
  pd.script([]);
});

const sent = () => pd.requests.map((r) => JSON.parse(r.body) as PagerDutyEvent);
/** PagerDuty's alerts as the events left them: triggered (open) or resolved, per dedup_key. */
const alerts = () => {
  const state = new Map<string, string>();
  for (const e of sent()) state.set(e.dedup_key, e.event_action === 'trigger' ? 'triggered' : 'resolved');
  return state;
};
const fixed = { get: async () => ({ routingKey: KEY }), invalidate: () => undefined };

describe('PagerDuty events', () => {
  it('triggers an opened incident with the incident as dedup_key, the evidence and the status page link', () => {
    const n = downNotification({ incidentId: 'us-00001', evidence: { ...downNotification().evidence, downSeconds: 60, degradedSeconds: 0, readOnlySeconds: 0 } });
    const event = pagerDutyEvent(n, n.subject, context) as PagerDutyTrigger;
    expect(event).toEqual({
      routing_key: KEY,
      event_action: 'trigger',
      dedup_key: 'regionwatch/acme/incident/us-00001',
      payload: {
        summary: n.summary,
        source: 'regionwatch/acme/us',
        severity: 'critical',
        timestamp: '2026-04-11T12:04:10.000Z',
        component: 'us',
        group: 'acme',
        class: 'down',
        custom_details: {
          subject: n.subject,
          event: 'opened',
          incidentId: 'us-00001',
          region: 'us',
          severity: 'down',
          at: n.at,
          targets: [
            {
              target: 'api',
              verdict: 'down',
              failingFrom: ['us-east-1', 'eu-west-1', 'ap-southeast-1'],
              seenBy: ['us-east-1 · down · 503 · status · 41 ms', 'eu-west-1 · down · 503 · status · 95 ms', 'ap-southeast-1 · down · timeout · 3000 ms'],
            },
            {
              target: 'write-path',
              verdict: 'down',
              failingFrom: ['us-east-1', 'eu-west-1', 'ap-southeast-1'],
              seenBy: ['us-east-1 · down · refused · 2 ms', 'eu-west-1 · down · refused · 80 ms', 'ap-southeast-1 · down · refused · 170 ms'],
            },
          ],
          probeRegions: { fresh: ['us-east-1', 'eu-west-1', 'ap-southeast-1'], stale: [], impaired: [] },
          downMinutes: 1,
          degradedMinutes: 0,
          readOnlyMinutes: 0,
          statusPage: 'https://status.acme.example/#incident-us-00001',
          regionwatchDedupKey: n.dedupKey,
        },
      },
      links: [{ href: 'https://status.acme.example/#incident-us-00001', text: 'Status page' }],
      client: 'regionwatch acme',
      client_url: 'https://status.acme.example/',
    });
  });

  it('maps severities (down critical, read-only error, degraded warning) and resolves on resolved', () => {
    const severity = (n: Notification) => (pagerDutyEvent(n, n.subject, context) as PagerDutyTrigger).payload.severity;
    expect(severity(downNotification())).toBe('critical');
    expect(severity(degradedNotification())).toBe('error');
    expect(severity(downNotification({ severity: 'degraded' }))).toBe('warning');
    expect(pagerDutyEvent(downNotification({ incidentId: 'us-00001', event: 'resolved', severity: 'up' }), undefined, context)).toEqual({
      routing_key: KEY,
      event_action: 'resolve',
      dedup_key: 'regionwatch/acme/incident/us-00001',
    });
    // A checker component has its own alert: triggered when impaired or silent, resolved when healthy again.
    expect(pagerDutyEvent(checkerNotification(), undefined, context)).toMatchObject({ event_action: 'trigger', dedup_key: 'regionwatch/acme/checker/ap-southeast-1' });
    expect(pagerDutyEvent(checkerNotification({ severity: 'up' }), undefined, context)).toMatchObject({ event_action: 'resolve', dedup_key: 'regionwatch/acme/checker/ap-southeast-1' });
  });

  it('keeps the summary within PagerDuty 1,024 characters', () => {
    const n = downNotification({ summary: `us is down: ${'a-very-long-target-name, '.repeat(200)}` });
    const summary = (pagerDutyEvent(n, n.subject, context) as PagerDutyTrigger).payload.summary;
    expect([...summary]).toHaveLength(PAGERDUTY_SUMMARY_MAX);
    expect(summary.endsWith('…')).toBe(true);
  });

  it('reads the routing key as text or JSON, and a loopback eventsUrl only where allowed', () => {
    expect(parsePagerDutySecret(` ${KEY}\n`, 's')).toEqual({ routingKey: KEY });
    expect(parsePagerDutySecret(JSON.stringify({ routingKey: KEY }), 's')).toEqual({ routingKey: KEY });
    expect(() => parsePagerDutySecret('not a key!', 's')).toThrow(ChannelSecretError);
    expect(() => parsePagerDutySecret('{oops', 's')).toThrow(/does not parse/);
    const local = JSON.stringify({ routingKey: KEY, eventsUrl: 'http://127.0.0.1:9/v2/enqueue' });
    expect(() => parsePagerDutySecret(local, 's')).toThrow(/only a loopback stand-in/);
    expect(parsePagerDutySecret(local, 's', { allowLoopback: true })).toEqual({ routingKey: KEY, eventsUrl: 'http://127.0.0.1:9/v2/enqueue' });
    expect(() => parsePagerDutySecret(JSON.stringify({ routingKey: KEY, eventsUrl: 'https://evil.example/' }), 's', { allowLoopback: true })).toThrow(ChannelSecretError);
    // The key is a secret: no error carries it.
    expect(() => parsePagerDutySecret(`${KEY}!`, 's')).toThrow(expect.objectContaining({ message: expect.not.stringContaining(KEY) }));
  });
});

describe('sending to a loopback PagerDuty', () => {
  it('posts JSON with the user agent, and retries 429 and 5xx with backoff', async () => {
    pd.script([{ status: 429, body: '{"status":"throttle"}' }, { status: 503 }, ACCEPTED]);
    const event = pagerDutyEvent(downNotification(), undefined, context);
    const attempts = await sendPagerDutyEvent(pd.url, event, { baseDelayMs: 20 });
    expect(attempts).toBe(3);
    expect(pd.requests.map((r) => [r.method, r.headers['content-type'], r.headers['user-agent']])).toEqual(Array(3).fill(['POST', 'application/json', 'regionwatch/0.1.0']));
    expect(sent()).toEqual([event, event, event]);
  });

  it('gives up at once on 400 (an invalid event), not retryable, without the routing key in the message', async () => {
    pd.script([{ status: 400, body: '{"status":"invalid event","errors":["payload.summary is missing"]}' }]);
    const error = await sendPagerDutyEvent(pd.url, pagerDutyEvent(downNotification(), undefined, context)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PagerDutyDeliveryError);
    expect(error).toMatchObject({ name: 'PagerDutyDeliveryError', kind: 'rejected', retryable: false, status: 400, attempts: 1 });
    expect((error as Error).message).toContain('payload.summary is missing');
    expect((error as Error).message).not.toContain(KEY);
  });

  it('sends a test as a trigger and its resolve at once', async () => {
    const deliver = pagerDutyDelivery({ secret: fixed, eventsUrl: pd.url, platform: 'acme' });
    const n = testNotification({ platform: 'acme', testId: 't1', from: 'this machine', nowMs: Date.parse('2026-04-11T12:00:00Z') });
    const done = await deliver(n, n.subject, { maxTotalMs: 5_000 });
    expect(done.detail).toBe('triggered and resolved PagerDuty alert regionwatch/acme/test/t1');
    expect(sent().map((e) => [e.event_action, e.dedup_key])).toEqual([
      ['trigger', 'regionwatch/acme/test/t1'],
      ['resolve', 'regionwatch/acme/test/t1'],
    ]);
    expect((sent()[0] as PagerDutyTrigger).payload).toMatchObject({ severity: 'info', class: 'test', summary: expect.stringMatching(/^TEST ONLY: /) });
  });
});

describe('trigger and resolve over a real lifecycle', () => {
  // Down 100–300 s (resolved), down again 500–620 s (reopened: same incident), read-only to 900 s, then up (resolved
  // after the 10 minutes a flapped incident needs).
  const run = new PureRun(testConfig(), faults({ us: [[100, 300, 'down'], [500, 620, 'down'], [620, 900, 'read-only']] })).run(0, 1700);

  it('pairs every trigger with a resolve on the same alert, and a reopened incident re-triggers it', async () => {
    const deliver = pagerDutyDelivery({ secret: fixed, eventsUrl: pd.url, platform: 'acme' });
    const defaults: RouteConfig = { events: [...DEFAULT_ROUTE.events], severities: [...DEFAULT_ROUTE.severities] };
    for (const n of run.published.filter((p) => routes(defaults, p))) await deliver(n, n.subject, { maxTotalMs: 5_000 });
    expect(run.published.filter((n) => n.region === 'us').map((n) => n.event)).toEqual(['opened', 'resolved', 'opened', 'resolved']);
    expect(new Set(run.published.filter((n) => n.region === 'us').map((n) => n.incidentId))).toEqual(new Set(['us-00001']));
    expect(sent().map((e) => `${e.event_action} ${e.dedup_key}`)).toEqual([
      'trigger regionwatch/acme/incident/us-00001',
      'resolve regionwatch/acme/incident/us-00001',
      'trigger regionwatch/acme/incident/us-00001',
      'resolve regionwatch/acme/incident/us-00001',
    ]);
    expect([...alerts().values()]).toEqual(['resolved']);
  });

  it('resolves instead of triggering when the trigger arrives after its incident resolved (a retried invocation)', async () => {
    const [opened, resolved] = run.published.filter((n) => n.region === 'us');
    if (!opened || !resolved) throw new Error('no pages');
    const lookups: [string, number][] = [];
    const deliver = pagerDutyDelivery({
      secret: fixed,
      eventsUrl: pd.url,
      platform: 'acme',
      incidents: async (region, seq) => {
        lookups.push([region, seq]);
        return { status: 'resolved', resolvedAt: resolved.at };
      },
    });
    await deliver(resolved, resolved.subject, { maxTotalMs: 5_000 });
    const late = await deliver(opened, opened.subject, { maxTotalMs: 5_000 });
    expect(late.detail).toMatch(/^resolved PagerDuty alert regionwatch\/acme\/incident\/us-00001 instead of triggering it: the incident resolved at /);
    expect(lookups).toEqual([['us', 1]]);
    expect(sent().map((e) => e.event_action)).toEqual(['resolve', 'resolve']);
    expect([...alerts().values()]).toEqual(['resolved']);
  });

  it('still triggers when the incident cannot be read (the page does not wait for the table)', async () => {
    const [opened] = run.published;
    if (!opened) throw new Error('no page');
    const deliver = pagerDutyDelivery({ secret: fixed, eventsUrl: pd.url, platform: 'acme', incidents: () => Promise.reject(new Error('throttled')) });
    await deliver(opened, opened.subject, { maxTotalMs: 5_000 });
    expect(sent().map((e) => e.event_action)).toEqual(['trigger']);
  });
});

describe('the PagerDuty notifier Lambda behind its SNS subscription (fauxqs)', () => {
  const store = useTestStore();
  const sm = mockClient(SecretsManagerClient);
  const saved = { ...process.env };
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  let sns: FauxqsServer;
  let snsClient: SNSClient;
  let sqs: SQSClient;

  beforeAll(async () => {
    sns = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
    snsClient = new SNSClient({ region: 'us-east-1', endpoint: sns.address, credentials, maxAttempts: 1 });
    sqs = new SQSClient({ region: 'us-east-1', endpoint: sns.address, credentials, maxAttempts: 1 });
  });
  afterAll(async () => {
    sm.restore();
    snsClient?.destroy();
    sqs?.destroy();
    await sns?.stop();
    process.env = { ...saved };
    vi.resetModules();
  });

  it('gets only what its route pages, reads the routing key by name, and triggers then resolves the incident', async () => {
    const incidentsTable = 'acme-regionwatch-incidents';
    await createIncidentsTable(store.current.client, incidentsTable);
    const incidents = new DynamoIncidentStore({ client: store.current.documentClient, tableName: incidentsTable });
    // The subscription the CDK app makes: the route as a filter policy.
    const route: RouteConfig = { events: [...DEFAULT_ROUTE.events], severities: ['down'] };
    const { TopicArn } = await snsClient.send(new CreateTopicCommand({ Name: 'notifications-pd' }));
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'pd-subscription' }));
    const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
    if (!TopicArn || !QueueUrl || !arn) throw new Error('no topic or queue');
    await snsClient.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: arn, Attributes: { FilterPolicy: JSON.stringify(filterPolicyOf(route)) } }));
    const publisher = new SnsPublisher({ client: snsClient, topicArn: TopicArn });
    const opened = downNotification({ incidentId: 'us-00001', dedupKey: 'us/us-00001/opened/1' });
    const readOnly = degradedNotification({ incidentId: 'us-00001', event: 'escalated', dedupKey: 'us/us-00001/escalated/2' });
    const reminder = downNotification({ incidentId: 'us-00001', event: 'reminder', dedupKey: 'us/us-00001/reminder/1' });
    const resolved = downNotification({ incidentId: 'us-00001', event: 'resolved', severity: 'up', dedupKey: 'us/us-00001/resolved/3', at: '2026-04-11T12:30:00.000Z' });
    const test = testNotification({ platform: 'acme', testId: 'x', from: 'us-east-1', nowMs: Date.parse('2026-04-11T12:00:00Z') });
    for (const n of [opened, readOnly, reminder, checkerNotification(), test, resolved] as Notification[]) await publisher.publish(n);
    const event = eventFromQueue(await drainQueue(sqs, QueueUrl));
    expect(event.Records.map((r) => (JSON.parse(r.Sns.Message) as NotificationBody).dedupKey)).toEqual([opened.dedupKey, resolved.dedupKey]);

    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ routingKey: KEY, eventsUrl: pd.url }) });
    Object.assign(process.env, {
      [ENV.channelName]: 'oncall',
      [ENV.channelSecretName]: 'regionwatch/pagerduty',
      [ENV.incidentsTable]: incidentsTable,
      [ENV.statusPageUrl]: 'https://status.acme.example/',
      [ENV.configPath]: 'test/notify/channels.config.json',
      [ALLOW_LOOPBACK_ENV]: 'true',
      // The test store's database: the handler reads the incident where the test wrote it.
      ...store.current.env,
    });
    vi.resetModules();
    const { handler } = await import('../../lambda/handlers/pagerduty-notifier');
    // The incident is still open when its trigger is delivered: it goes out as a trigger. (An incident the lifecycle
    // decided, as the aggregator would have written it.)
    const decided = new PureRun(testConfig(), faults({ us: [[0, 600, 'down']] })).run(0, 300).latest('us');
    if (!decided) throw new Error('no incident');
    await incidents.putIncident(decided, null);
    await expect(handler({ Records: event.Records.slice(0, 1) })).resolves.toMatchObject({ delivered: 1, deliveries: [{ detail: 'triggered PagerDuty alert regionwatch/acme/incident/us-00001 (critical)' }] });
    await expect(handler({ Records: event.Records.slice(1) })).resolves.toMatchObject({ delivered: 1, deliveries: [{ detail: 'resolved PagerDuty alert regionwatch/acme/incident/us-00001' }] });
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: 'regionwatch/pagerduty' }]);
    expect(sent().map((e) => e.event_action)).toEqual(['trigger', 'resolve']);
    expect((sent()[0] as PagerDutyTrigger).links).toEqual([{ href: 'https://status.acme.example/#incident-us-00001', text: 'Status page' }]);
    // The opened page delivered again after the table says the incident resolved (SNS or Lambda retrying, in another
    // execution environment, which has not seen it): the Lambda reads the incident there and resolves instead of
    // reopening an alert nothing would resolve.
    await incidents.putIncident({ ...decided, status: 'resolved', resolvedAt: resolved.at, endedAt: Date.parse(resolved.at) / 1000 }, 1);
    vi.resetModules();
    const { handler: another } = await import('../../lambda/handlers/pagerduty-notifier');
    await expect(another({ Records: event.Records.slice(0, 1) })).resolves.toMatchObject({
      delivered: 1,
      deliveries: [{ detail: `resolved PagerDuty alert regionwatch/acme/incident/us-00001 instead of triggering it: the incident resolved at ${resolved.at}, after this opened` }],
    });
    expect(sent().map((e) => e.event_action)).toEqual(['trigger', 'resolve', 'resolve']);
  });
});
