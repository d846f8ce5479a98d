// The story behind regionwatch, end to end through what `cdk synth` deploys: the bundled prober, aggregator, channel
// notifiers (Slack, PagerDuty, the signed webhook) and status page renderer of all three probe regions' stacks run in
// the Lambda-like harness (test/helpers/lambda/) on DynamoDB Local and fauxqs, triggered as the templates say (the
// notifiers behind their subscriptions' filter policies), against a loopback platform. US goes down, comes back
// read-only after a failover, then recovers; EU and APAC stay fine. The pages that reach a queue subscribed to each
// region's topic, their order, what Slack, PagerDuty and the webhook receive, the incident's minutes and the page's
// files in the bucket are what a user would see. With confirm on failure (the default) the probers ask each other over
// the synthesized rounds queues: every prober's SendMessage to every probe region's rounds queue goes through the
// harness's SQS endpoint, which finds a queue by its region and name and authorizes the call by the prober's role in
// the template, and each queue's event source mapping hands the request to that region's prober.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { ALLOW_LOOPBACK_ENV } from '../../lambda/handlers/env';
import type { PagerDutyEvent, PagerDutyTrigger } from '../../lambda/notify/pagerduty';
import { EVENT_HEADER, SIGNATURE_HEADER, verifyWebhookSignature, type WebhookPayload } from '../../lambda/notify/signed-webhook';
import { statusFilePaths } from '../../lambda/status-page/files';
import { DynamoIncidentStore } from '../../lambda/store/incident-store';
import { ResultsStore } from '../../lambda/store/results-store';
import { shardPlan } from '../../lambda/config/capacity';
import { completeRoundKeys, isConfirmation, roundKey } from '../../lambda/core/results';
import { resourceNames } from '../../lib/names';
import { startFakeReceiver, startFakeSlack, type FakeReceiver, type FakeSlack } from '../notify/fake-receiver';
import { PLATFORM_HOSTS, type Deployment, sharedDeployment } from '../helpers/lambda/deployment';
import type { FunctionLogLine } from '../helpers/lambda/function';
import { LocalAws } from '../helpers/lambda/local-aws';
import { drainQueue } from '../helpers/sqs';
import { useTestStore } from '../helpers/store';

const store = useTestStore();
const INTERVAL_MS = 5_000;

/** What the US platform does in the k-th slot of the story; EU and APAC are always fine. */
function usPhase(k: number): 'up' | 'down' | 'read-only' {
  if (k < 0) return 'up';
  if (k < 2) return 'down';
  if (k < 4) return 'read-only';
  return 'up';
}

/**
 * The platform on loopback, each platform region on its own address (PLATFORM_HOSTS): `/<region>/health` answers
 * `ok`, `/<region>/canary` takes a write, as the phase allows.
 */
async function startPlatform(port: number, firstSlotMs: number): Promise<{ servers: Server[]; requests: string[] }> {
  const requests: string[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const [, region, path] = (req.url ?? '').split('/');
    const slot = Math.floor(Date.now() / INTERVAL_MS) * INTERVAL_MS;
    requests.push(`${(slot - firstSlotMs) / INTERVAL_MS} ${String(req.headers['x-regionwatch-probe-region'])} ${req.method} ${req.url}`);
    const phase = region === 'us' ? usPhase(Math.floor((Date.now() - firstSlotMs) / INTERVAL_MS)) : 'up';
    req.resume();
    if (phase === 'down') {
      res.writeHead(503).end('unavailable');
    } else if (path === 'canary' && phase === 'read-only') {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('read-only: the database failed over');
    } else res.writeHead(200, { 'content-type': 'text/plain' }).end(path === 'health' ? 'ok' : 'written');
  };
  const servers = await Promise.all(
    Object.values(PLATFORM_HOSTS).map(async (host) => {
      const server = createServer(handle);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      return server;
    }),
  );
  return { servers, requests };
}

interface Page {
  event: string;
  region: string;
  severity: string;
  subject: string;
  summary: string;
  dedupKey: string;
}

function pagesOf(messages: Message[]): Page[] {
  return messages.map((m) => {
    const envelope = JSON.parse(m.Body ?? '{}') as { Subject: string; Message: string };
    const body = JSON.parse(envelope.Message) as Omit<Page, 'subject'>;
    return { event: body.event, region: body.region, severity: body.severity, summary: body.summary, dedupKey: body.dedupKey, subject: envelope.Subject };
  });
}

/** Waits (bounded) until `done()` holds, polling every 200 ms. */
async function until(done: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done()) && Date.now() < deadline) await delay(200);
}

const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
const SIGNING_SECRET = 'story-signing-secret-0123456789abcdef';

describe('the deployed bundles through the US outage story', () => {
  let deployment: Deployment;
  let aws: LocalAws;
  let slack: FakeSlack;
  let pagerDuty: FakeReceiver;
  let webhook: FakeReceiver;
  let platform: { servers: Server[]; requests: string[] };
  const logs: FunctionLogLine[] = [];
  const inboxes = new Map<string, string>();
  const subjects: string[] = [];
  const pages: Page[] = [];
  let firstSlotMs = 0;
  let openedAtMs = 0;

  beforeAll(async () => {
    deployment = await sharedDeployment();
    slack = await startFakeSlack();
    pagerDuty = await startFakeReceiver('/v2/enqueue', { status: 202, body: '{"status":"success","message":"Event processed"}', headers: { 'content-type': 'application/json' } });
    webhook = await startFakeReceiver('/hooks/regionwatch', { status: 204 });
    const { notifications, platform: name } = deployment.config;
    const [oncall] = notifications.pagerDuty;
    const [hook] = notifications.webhooks;
    if (!oncall || !hook) throw new Error('the harness config has no PagerDuty service or webhook');
    const names = resourceNames(name);
    aws = await LocalAws.start({
      deployment,
      store: store.current,
      secrets: {
        [notifications.slackWebhookSecretName ?? '']: slack.url,
        [oncall.routingKeySecretName]: JSON.stringify({ routingKey: ROUTING_KEY, eventsUrl: pagerDuty.url }),
        [hook.secretName]: JSON.stringify({ url: webhook.url, signingSecret: SIGNING_SECRET }),
      },
      // The one variable the harness adds per notifier: its secret may name a loopback stand-in (the handlers say why).
      extraEnvironment: {
        [names.slackNotifierFunction]: { SLACK_WEBHOOK_ALLOW_LOOPBACK: 'true' },
        [names.pagerDutyFunction(oncall.name)]: { [ALLOW_LOOPBACK_ENV]: 'true' },
        [names.webhookFunction(hook.name)]: { [ALLOW_LOOPBACK_ENV]: 'true' },
      },
      onLog: (line) => logs.push(line),
    });
    for (const region of deployment.config.probeRegions) inboxes.set(region, await aws.subscribeQueue(region, 'NotificationsTopic', `pages-${region}`));
    await aws.startTriggers();
    // Warm each prober first, through its rounds queue, with a confirmation request too old to serve (it probes nothing and
    // leaves the clock estimate alone). A cold first scheduled invocation takes its start-up for clock skew (it cannot
    // tell lateness from skew before it has seen a second one), and its rounds then land up to that much after the
    // slot they are labelled with: a staggered round late in slot -1 would reach the platform in slot 0, as a failure
    // of slot -1. (A scheduled event minutes old would be worse: taken for a clock that far off, it runs that minute.)
    // The rounds queue by its name (its logical id is a prefix of its dead-letter queue's).
    const roundsQueueId = (region: string) =>
      Object.entries(deployment.stacks.find((st) => st.region === region)?.resources ?? {}).find(([, r]) => r.Type === 'AWS::SQS::Queue' && String(r.Properties?.QueueName ?? '').endsWith('-prober-rounds'))?.[0] ?? 'ProberRounds';
    for (const region of deployment.config.probeRegions) {
      const stale = { kind: 'confirm', from: region, slot: 0, batch: 0, targets: [{ region: 'us', target: 'api', at: 0 }] };
      await aws.sqs.send(new SendMessageCommand({ QueueUrl: aws.queueUrl(region, roundsQueueId(region)), MessageBody: JSON.stringify(stale) }));
    }
    for (const region of deployment.config.probeRegions) {
      const prober = aws.fn(region, 'ProberFunction');
      const until = Date.now() + 30_000;
      while (prober.invocations.length === 0 && Date.now() < until) await delay(50);
      expect(prober.invocations, `${region}: the warm-up confirmation was served`).toHaveLength(1);
    }
    // A round fans out over the plan's shards, each its own invocation at the slot's start: warm as many execution
    // environments, as a deployment's are after its first minute (a cold one starting a shard seconds late would put a
    // staggered round's requests in the next slot's stretch of time, which the platform below counts by).
    const shards = shardPlan(deployment.config).shards;
    const stale = { kind: 'confirm', from: 'us-east-1', slot: 0, batch: 0, targets: [{ region: 'us', target: 'api', at: 0 }] };
    const staleEvent = { Records: [{ messageId: 'warm-up', body: JSON.stringify(stale), attributes: { ApproximateReceiveCount: '1' } }] };
    for (const region of deployment.config.probeRegions) {
      const prober = aws.fn(region, 'ProberFunction');
      const outcomes = await Promise.all(Array.from({ length: shards }, () => prober.invoke(staleEvent)));
      expect(outcomes.every((o) => o.ok), `${region}: ${shards} environments warmed`).toBe(true);
    }
    // The story starts on the first slot at least two seconds away; each prober's schedule fires a second before it,
    // as a rule's first trigger does, and from then on every minute.
    firstSlotMs = Math.ceil((Date.now() + 2_000) / INTERVAL_MS) * INTERVAL_MS;
    platform = await startPlatform(deployment.platformPort, firstSlotMs);
    await delay(firstSlotMs - 1_000 - Date.now());
    for (const region of deployment.config.probeRegions) aws.schedule(region, 'ProberEveryMinute').fire();
  }, 240_000);

  afterAll(async () => {
    await aws?.stop();
    await slack?.close();
    await pagerDuty?.close();
    await webhook?.close();
    for (const server of platform?.servers ?? []) server.close();
  });

  it('pages opened (down), de-escalated (read-only) and resolved for US, once each, in order, and nothing for EU or APAC', async () => {
    const home = deployment.config.homeRegion;
    const storyEnds = firstSlotMs + 5 * INTERVAL_MS + 8_000;
    while (!pages.some((p) => p.event === 'resolved') && Date.now() < storyEnds) {
      await delay(250);
      pages.push(...pagesOf(await drainQueue(aws.sqs, inboxes.get(home) ?? '')));
      if (openedAtMs === 0 && pages.length > 0) openedAtMs = Date.now();
    }
    // The notifiers are invoked asynchronously: let the last page's deliveries finish before counting failures.
    await until(() => pagerDuty.requests.length >= 2 && webhook.requests.length >= 2 && slack.requests.length >= 3, 5_000);
    const failures = [...aws.functions.values()].flatMap((f) => f.invocations.filter((i) => !i.outcome.ok).map((i) => `${f.spec.region} ${f.spec.functionName}: ${JSON.stringify(i.outcome)}`));
    expect(failures, logs.filter((l) => l.stream === 'stderr' || l.line.includes('"level":"ERROR"')).map((l) => l.line).join('\n')).toEqual([]);
    expect(pages.map((p) => [p.event, p.region, p.severity])).toEqual([
      ['opened', 'us', 'down'],
      ['deescalated', 'us', 'read-only'],
      ['resolved', 'us', 'up'],
    ]);
    expect(pages[0]?.subject).toBe('[DOWN] us is down: api, write-path failing from 3/3 probe regions');
    expect(pages[1]?.subject).toMatch(/^\[READ-ONLY\] us is read-only now \(was down\): write-path refused from 3\/3 probe regions/);
    subjects.push(...pages.map((p) => p.subject));
    // The other regions' aggregators stood by (the lease): nothing reached their topics.
    await delay(1_000);
    for (const region of deployment.config.probeRegions.filter((r) => r !== home)) expect(pagesOf(await drainQueue(aws.sqs, inboxes.get(region) ?? ''))).toEqual([]);
  }, 60_000);

  it('records the incident with its real minutes: 10 s down, then 10 s read-only (part of degraded)', async () => {
    const incidents = new DynamoIncidentStore({ client: store.current.documentClient, tableName: resourceNames(deployment.config.platform).incidentsTable });
    const [incident, ...others] = await incidents.regionIncidents('us', '2000-01-01T00:00:00Z', '2100-01-01T00:00:00Z');
    expect(others).toEqual([]);
    expect(incident).toMatchObject({ status: 'resolved', severity: 'down', startedAt: firstSlotMs / 1000, endedAt: firstSlotMs / 1000 + 20, downSeconds: 10, readOnlySeconds: 10, degradedSeconds: 10 });
    expect(incident?.outbox).toEqual([]);
    for (const region of ['eu', 'apac']) expect(await incidents.regionIncidents(region, '2000-01-01T00:00:00Z', '2100-01-01T00:00:00Z')).toEqual([]);
  });

  it('posts the same three pages to Slack through the notifier bundle, with the webhook URL read from Secrets Manager', () => {
    expect(slack.requests).toHaveLength(3);
    // Slack's fallback text is the page's subject line.
    expect(slack.requests.map((r) => (JSON.parse(r.body) as { text: string }).text)).toEqual(subjects);
    expect(subjects[2]).toMatch(/^\[RESOLVED\] us /);
  });

  it('confirmed the outage over the rounds queues: every prober asked every probe region, each region\'s prober served it, and the page came within two slots', () => {
    const regions = deployment.config.probeRegions;
    const queueArn = (r: string) => `arn:aws:sqs:${r}:000000000000:${deployment.stacks.find((s) => s.region === r)?.stackName ?? ''}-prober-rounds`;
    // Nothing any function asked of SQS was refused: no queue missing, no action its role does not allow.
    expect(aws.sqsCalls.filter((c) => c.outcome !== 'forwarded')).toEqual([]);
    for (const from of regions) {
      const sent = aws.sqsCalls.filter((c) => c.operation === 'SendMessage' && c.functionName === aws.fn(from, 'ProberFunction').spec.functionName);
      // To every probe region's queue, each with that region's client (the endpoint finds a queue only in its own region).
      expect(new Set(sent.map((c) => c.queue)), from).toEqual(new Set(regions.map(queueArn)));
      for (const c of sent) expect(c.queue, from).toBe(queueArn(c.region));
    }
    for (const region of regions) {
      const served = logs.filter((l) => l.line.includes('"confirmation finished"') && l.line.includes(`"probeRegion":"${region}"`) && l.line.includes('"outcome":"checked"'));
      expect(served.length, `${region} served a confirmation`).toBeGreaterThanOrEqual(1);
    }
    // The page: staggered rounds and confirmations, not two whole slots of rounds and an aggregator batch after them.
    expect(openedAtMs - firstSlotMs).toBeLessThanOrEqual(2 * INTERVAL_MS);
  });

  it('triggers the incident\'s PagerDuty alert with the opened page\'s words, then resolves the same alert; the de-escalation is routed out', () => {
    const [opened, , resolved] = pages;
    const events = pagerDuty.requests.map((r) => JSON.parse(r.body) as PagerDutyEvent);
    // The example config routes opened, escalated and resolved of down and read-only to PagerDuty (its subscription's
    // filter policy), so the read-only de-escalation in between pages nobody there.
    expect(events.map((e) => `${e.event_action} ${e.dedup_key}`)).toEqual(['trigger regionwatch/acme/incident/us-00001', 'resolve regionwatch/acme/incident/us-00001']);
    const trigger = events[0] as PagerDutyTrigger;
    expect(trigger.routing_key).toBe(ROUTING_KEY);
    expect(trigger.payload).toMatchObject({ summary: opened?.summary, severity: 'critical', source: 'regionwatch/acme/us', component: 'us', class: 'down' });
    expect(trigger.payload.custom_details).toMatchObject({ subject: opened?.subject, incidentId: 'us-00001', regionwatchDedupKey: opened?.dedupKey, statusPage: 'https://status.acme.example/#incident-us-00001' });
    expect(resolved?.event).toBe('resolved');
  });

  it('posts the opened and resolved pages to the webhook, each signed over its timestamp and body with the secret', () => {
    expect(webhook.requests.map((r) => r.headers[EVENT_HEADER])).toEqual(['opened', 'resolved']);
    const nowSeconds = Math.floor(Date.now() / 1000);
    for (const r of webhook.requests) {
      const header = r.headers[SIGNATURE_HEADER];
      expect(verifyWebhookSignature({ header: typeof header === 'string' ? header : undefined, rawBody: r.body, secret: SIGNING_SECRET, nowSeconds })).toMatchObject({ ok: true });
    }
    const payloads = webhook.requests.map((r) => JSON.parse(r.body) as WebhookPayload);
    expect(payloads.map((p) => p.notification.dedupKey)).toEqual([pages[0]?.dedupKey, pages[2]?.dedupKey]);
    expect(payloads.every((p) => p.test === false && p.platform === 'acme')).toBe(true);
  });

  it('renders the status page from the incident table\'s stream into the bucket: US up again, its incident resolved', async () => {
    const home = deployment.config.homeRegion;
    const renderer = aws.fn(home, 'StatusPageRendererFunction');
    type Doc = { regions?: { region: string; verdict: string; incident: unknown }[]; recent?: { incidentId: string; status: string }[] };
    const read = async (key: string): Promise<Doc> => JSON.parse((await aws.bucketObjects(home, 'StatusPageFiles')).get(key)?.body ?? '{}') as Doc;
    // The mapping batches the stream for 10 s (the template's window): the render after the resolution follows it.
    await until(async () => (await read('incidents.json')).recent?.some((i) => i.incidentId === 'us-00001' && i.status === 'resolved') === true, 15_000);
    const files = await aws.bucketObjects(home, 'StatusPageFiles');
    expect([...files.keys()].sort()).toEqual(statusFilePaths(['us', 'eu', 'apac']).sort());
    expect(files.get('index.html')?.contentType).toMatch(/^text\/html/);
    expect(files.get('badge/us.svg')?.contentType).toMatch(/^image\/svg\+xml/);
    const status = await read('status.json');
    expect(status.regions?.map((r) => [r.region, r.verdict, r.incident])).toEqual([
      ['us', 'up', null],
      ['eu', 'up', null],
      ['apac', 'up', null],
    ]);
    expect(files.get('feed.atom')?.body).toContain('us-00001');
    expect(renderer.invocations.length).toBeGreaterThanOrEqual(1);
    expect(renderer.invocations.filter((i) => !i.outcome.ok)).toEqual([]);
    // Only the home region renders: the other stacks have no renderer.
    for (const region of deployment.config.probeRegions.filter((r) => r !== home)) expect(() => aws.fn(region, 'StatusPageRendererFunction')).toThrow(/found 0/);
  }, 30_000);

  it('ran every round of the story in the config\'s 2 shards from every probe region, each shard its own hosts, every round complete', async () => {
    const plan = shardPlan(deployment.config);
    expect(plan.shards).toBe(2);
    const results = new ResultsStore({ client: store.current.documentClient, tableName: resourceNames(deployment.config.platform).resultsTable, retentionHours: 48 });
    const first = firstSlotMs / 1000;
    const rounds = (await results.readRounds(first, first + 4 * (INTERVAL_MS / 1000))).filter((r) => !isConfirmation(r));
    const complete = completeRoundKeys(rounds);
    for (let k = 0; k < 5; k++) {
      const slot = first + k * (INTERVAL_MS / 1000);
      for (const p of deployment.config.probeRegions) {
        const shards = rounds.filter((r) => r.slot === slot && r.probeRegion === p).sort((a, b) => (a.shard ?? 0) - (b.shard ?? 0));
        // Shard 0 checks us and apac (127.0.0.1 and .3), shard 1 eu (127.0.0.2): each shard its own part of the round.
        expect(shards.map((r) => [r.shard, r.shards, [...new Set(r.results.map((x) => x.region))]]), `${p} slot ${k}`).toEqual([
          [0, 2, ['us', 'apac']],
          [1, 2, ['eu']],
        ]);
        expect(complete.has(roundKey({ slot, probeRegion: p })), `${p} slot ${k}`).toBe(true);
      }
    }
    // The shards of later slots ran as queued rounds, none dropped as late; the mappings never ran more at once than
    // the template allows, so nothing was throttled.
    const queued = logs.filter((l) => l.line.includes('"queued round finished"')).map((l) => JSON.parse(l.line) as { outcome: string; shard?: number });
    expect(queued.filter((q) => q.shard === 1 && q.outcome === 'ran').length).toBeGreaterThanOrEqual(5 * deployment.config.probeRegions.length);
    expect(queued.filter((q) => q.outcome === 'late')).toEqual([]);
  });

  it('probed every slot of the story once from every probe region, and confirmed only where US started failing: at most two requests per target, probe region and slot', () => {
    const targets = ['GET /us/health', 'POST /us/canary', 'GET /eu/health', 'POST /eu/canary', 'GET /apac/health', 'POST /apac/canary'];
    const story = platform.requests.filter((r) => { const k = Number(r.split(' ')[0]); return k >= 0 && k < 5; });
    const counts = new Map<string, number>();
    for (const r of story) counts.set(r, (counts.get(r) ?? 0) + 1);
    const expected = [0, 1, 2, 3, 4].flatMap((k) => deployment.config.probeRegions.flatMap((p) => targets.map((t) => `${k} ${p} ${t}`)));
    // Every round request, none missed; nothing the story does not name.
    expect([...counts.keys()].sort()).toEqual([...expected].sort());
    for (const [key, n] of counts) {
      const [k, , , url] = key.split(' ');
      // A confirmation is a US target's, in the slots where it started failing (the fault at slot 0, and a request
      // served across the slot's end), and the bound holds: one round request and at most one confirmation.
      const confirmable = (url ?? '').startsWith('/us/') && (k === '0' || k === '1');
      expect(n, key).toBeLessThanOrEqual(confirmable ? 2 : 1);
    }
    const confirmations = [...counts.values()].filter((n) => n === 2).length;
    expect(confirmations).toBeGreaterThanOrEqual(deployment.config.probeRegions.length);
    for (const region of deployment.config.probeRegions) {
      // The minute's first round ran in the scheduled invocation, the others as queued rounds; the scheduled runs
      // succeeded, so their on-success records reached the default bus (the heartbeat the next region watches).
      expect(aws.fn(region, 'ProberFunction').invocations.length, region).toBeGreaterThanOrEqual(5);
      expect(aws.busEvents.filter((e) => e.region === region && e.event['detail-type'] === 'Lambda Function Invocation Result - Success').length, region).toBeGreaterThanOrEqual(1);
    }
  });
});
