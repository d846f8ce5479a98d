// The story behind regionwatch, end to end through what `cdk synth` deploys: the bundled prober, aggregator and Slack
// notifier of all three probe regions' stacks run in the Lambda-like harness (test/helpers/lambda/) on DynamoDB Local
// and fauxqs, triggered as the templates say, against a loopback platform. US goes down, comes back read-only after a
// failover, then recovers; EU and APAC stay fine. The pages that reach a queue subscribed to each region's topic, their
// order, Slack's posts and the incident's minutes are what a user would see.
import { createServer, type Server } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '@aws-sdk/client-sqs';
import { DynamoIncidentStore } from '../../lambda/store/incident-store';
import { resourceNames } from '../../lib/names';
import { startFakeSlack, type FakeSlack } from '../notify/fake-slack';
import { type Deployment, sharedDeployment } from '../helpers/lambda/deployment';
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

/** The platform on loopback: `/<region>/health` answers `ok`, `/<region>/canary` takes a write, as the phase allows. */
async function startPlatform(port: number, firstSlotMs: number): Promise<{ server: Server; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
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
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { server, requests };
}

interface Page {
  event: string;
  region: string;
  severity: string;
  subject: string;
  dedupKey: string;
}

function pagesOf(messages: Message[]): Page[] {
  return messages.map((m) => {
    const envelope = JSON.parse(m.Body ?? '{}') as { Subject: string; Message: string };
    const body = JSON.parse(envelope.Message) as Omit<Page, 'subject'>;
    return { event: body.event, region: body.region, severity: body.severity, dedupKey: body.dedupKey, subject: envelope.Subject };
  });
}

describe('the deployed bundles through the US outage story', () => {
  let deployment: Deployment;
  let aws: LocalAws;
  let slack: FakeSlack;
  let platform: { server: Server; requests: string[] };
  const logs: FunctionLogLine[] = [];
  const inboxes = new Map<string, string>();
  const subjects: string[] = [];
  let firstSlotMs = 0;

  beforeAll(async () => {
    deployment = await sharedDeployment();
    slack = await startFakeSlack();
    const secretName = deployment.config.notifications.slackWebhookSecretName ?? '';
    aws = await LocalAws.start({
      deployment,
      store: store.current,
      secrets: { [secretName]: slack.url },
      // The one variable the harness adds: the webhook secret may hold a loopback URL (lambda/handlers/slack-notifier.ts).
      extraEnvironment: { [resourceNames(deployment.config.platform).slackNotifierFunction]: { SLACK_WEBHOOK_ALLOW_LOOPBACK: 'true' } },
      onLog: (line) => logs.push(line),
    });
    for (const region of deployment.config.probeRegions) inboxes.set(region, await aws.subscribeQueue(region, 'NotificationsTopic', `pages-${region}`));
    await aws.startTriggers();
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
    platform?.server.close();
  });

  it('pages opened (down), de-escalated (read-only) and resolved for US, once each, in order, and nothing for EU or APAC', async () => {
    const home = deployment.config.homeRegion;
    const pages: Page[] = [];
    const until = firstSlotMs + 5 * INTERVAL_MS + 8_000;
    while (!pages.some((p) => p.event === 'resolved') && Date.now() < until) {
      await delay(250);
      pages.push(...pagesOf(await drainQueue(aws.sqs, inboxes.get(home) ?? '')));
    }
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

  it('posts the same three pages to Slack through the notifier bundle, with the webhook URL read from Secrets Manager', async () => {
    const until = Date.now() + 5_000;
    while (slack.requests.length < 3 && Date.now() < until) await delay(100);
    expect(slack.requests).toHaveLength(3);
    // Slack's fallback text is the page's subject line.
    expect(slack.requests.map((r) => (JSON.parse(r.body) as { text: string }).text)).toEqual(subjects);
    expect(subjects[2]).toMatch(/^\[RESOLVED\] us /);
  });

  it('probed every slot of the story once from every probe region: one request per target, none missed, none doubled', () => {
    const targets = ['GET /us/health', 'POST /us/canary', 'GET /eu/health', 'POST /eu/canary', 'GET /apac/health', 'POST /apac/canary'];
    const story = platform.requests.filter((r) => { const k = Number(r.split(' ')[0]); return k >= 0 && k < 5; }).sort();
    const expected = [0, 1, 2, 3, 4].flatMap((k) => deployment.config.probeRegions.flatMap((p) => targets.map((t) => `${k} ${p} ${t}`))).sort();
    expect(story).toEqual(expected);
    for (const region of deployment.config.probeRegions) {
      // The minute's first round ran in the scheduled invocation, the others as queued rounds; the scheduled runs
      // succeeded, so their on-success records reached the default bus (the heartbeat the next region watches).
      expect(aws.fn(region, 'ProberFunction').invocations.length, region).toBeGreaterThanOrEqual(5);
      expect(aws.busEvents.filter((e) => e.region === region && e.event['detail-type'] === 'Lambda Function Invocation Result - Success').length, region).toBeGreaterThanOrEqual(1);
    }
  });
});
