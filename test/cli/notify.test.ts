// `regionwatch notify test`: locally through loopback stand-ins for Slack, PagerDuty and a webhook (secrets from a
// local secrets file); and with --aws, the aggregator and the notifier Lambdas invoked (mocked: Lambda has no local
// server) and the topic's subscriptions listed from a real local SNS (fauxqs).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { InvokeCommand, LambdaClient, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { main } from '../../lambda/cli/main';
import { notifyCommand } from '../../lambda/cli/notify';
import type { PagerDutyEvent } from '../../lambda/notify/pagerduty';
import { SIGNATURE_HEADER, verifyWebhookSignature } from '../../lambda/notify/signed-webhook';
import { tempDir } from '../local/harness';
import { startFakeReceiver, startFakeSlack, type FakeReceiver } from '../notify/fake-receiver';

const KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
/** A Lambda answer's payload (the SDK wraps it in a blob adapter; its bytes are what matter). */
const payload = (value: unknown) => Buffer.from(JSON.stringify(value)) as unknown as InvokeCommandOutput['Payload'];
const SIGNING = 's'.repeat(64);
const dir = tempDir('regionwatch-notify-');
let slack: FakeReceiver;
let pd: FakeReceiver;
let hook: FakeReceiver;
let configFile = '';
let secretsFile = '';

const config = {
  platform: 'acme',
  probeRegions: ['us-east-1', 'eu-west-1'],
  homeRegion: 'us-east-1',
  regions: { us: { targets: [{ name: 'api', type: 'http', url: 'https://api.us.acme.example/health' }] } },
  notifications: {
    slackWebhookSecretName: 'regionwatch/slack',
    pagerDuty: [{ name: 'oncall', routingKeySecretName: 'regionwatch/pagerduty' }],
    webhooks: [{ name: 'bridge', secretName: 'regionwatch/webhook-bridge' }],
  },
};

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), cwd: dir.path } };
}

beforeAll(async () => {
  slack = await startFakeSlack();
  pd = await startFakeReceiver('/v2/enqueue', { status: 202, body: '{"status":"success"}' });
  hook = await startFakeReceiver('/hook', { status: 200 });
  configFile = join(dir.path, 'regionwatch.config.json');
  writeFileSync(configFile, JSON.stringify(config));
  secretsFile = join(dir.path, 'regionwatch.secrets.json');
  writeFileSync(
    secretsFile,
    JSON.stringify({
      'regionwatch/slack': slack.url,
      'regionwatch/pagerduty': { routingKey: KEY, eventsUrl: pd.url },
      'regionwatch/webhook-bridge': { url: hook.url, signingSecret: SIGNING },
    }),
  );
});
afterAll(async () => {
  await slack?.close();
  await pd?.close();
  await hook?.close();
  dir.remove();
});

describe('regionwatch notify test, from this machine', () => {
  it('sends the marked test through every channel, resolves the PagerDuty alert at once, and prints each outcome', async () => {
    const c = capture();
    const code = await main(['notify', 'test', '--config', configFile, '--secrets', secretsFile], c.io);
    expect(code, c.err.join('\n')).toBe(0);
    expect(c.out[0]).toMatch(/^ {2}\d\d:\d\d:\d\d \[TEST\] regionwatch acme: test notification from this machine, no action needed$/);
    const testId = /regionwatch notify test (\S+) for acme/.exec(c.out.join('\n'))?.[1] ?? '';
    expect(c.out.slice(1)).toEqual([
      `regionwatch notify test ${testId} for acme, from this machine:`,
      '  ok      local  Slack             posted to Slack (1 attempt)',
      `  ok      local  PagerDuty oncall  triggered and resolved PagerDuty alert regionwatch/acme/test/${testId}`,
      '  ok      local  webhook bridge    delivered to webhook bridge (HTTP 200, signed, 1 attempt)',
      "  SKIPPED local  SNS topics        not on this machine: regionwatch notify test --aws publishes on each probe region's topic",
      'every channel took the test notification',
    ]);
    expect(JSON.stringify(JSON.parse(slack.requests[0]?.body ?? '{}'))).toContain('[TEST] regionwatch acme');
    expect(pd.requests.map((r) => (JSON.parse(r.body) as PagerDutyEvent).event_action)).toEqual(['trigger', 'resolve']);
    const header = hook.requests[0]?.headers[SIGNATURE_HEADER];
    expect(verifyWebhookSignature({ header: typeof header === 'string' ? header : undefined, rawBody: hook.requests[0]?.body ?? '', secret: SIGNING, nowSeconds: Math.floor(Date.now() / 1000) }).ok).toBe(true);
    expect(JSON.parse(hook.requests[0]?.body ?? '{}')).toMatchObject({ test: true, notification: { event: 'test' } });
  });

  it('exits 1 naming the channel that failed and the one it could not try, with how to fix it', async () => {
    pd.script([{ status: 400, body: '{"status":"invalid event","message":"Event object is invalid"}' }]);
    const partial = join(dir.path, 'partial.secrets.json');
    writeFileSync(partial, JSON.stringify({ 'regionwatch/slack': slack.url, 'regionwatch/pagerduty': { routingKey: KEY, eventsUrl: pd.url } }));
    const c = capture();
    const code = await main(['notify', 'test', '--config', configFile, '--secrets', partial, '--json'], c.io);
    pd.script([]);
    expect(code).toBe(1);
    const report = JSON.parse(c.out.join('\n')) as { ok: boolean; outcomes: { channel: string; result: string; detail: string }[] };
    expect(report.ok).toBe(false);
    expect(report.outcomes.map((o) => [o.channel, o.result])).toEqual([
      ['Slack', 'delivered'],
      ['PagerDuty oncall', 'failed'],
      ['webhook bridge', 'skipped'],
      ['SNS topics', 'skipped'],
    ]);
    expect(report.outcomes[1]?.detail).toBe('PagerDutyDeliveryError: PagerDuty rejected the message with 400 ({"status":"invalid event","message":"Event object is invalid"}); not retrying');
    expect(report.outcomes[2]?.detail).toBe(`no secret here: put "regionwatch/webhook-bridge" ({"url": ..., "signingSecret": ...}) in ${partial}`);
  });

  it('refuses bad usage with exit 2', async () => {
    for (const args of [['notify'], ['notify', 'send'], ['notify', 'test', '--region', 'us-east-1']]) {
      const c = capture();
      expect(await main([...args, '--config', configFile], c.io), args.join(' ')).toBe(2);
      expect(c.err[0]).toMatch(/^regionwatch notify: /);
    }
  });
});

describe('regionwatch notify test --aws', () => {
  let sns: FauxqsServer;
  const lambda = mockClient(LambdaClient);
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  let topicArn = '';
  beforeAll(async () => {
    sns = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
    const client = new SNSClient({ region: 'us-east-1', endpoint: sns.address, credentials });
    topicArn = (await client.send(new CreateTopicCommand({ Name: 'acme-notifications' }))).TopicArn ?? '';
    await client.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'email', Endpoint: 'oncall@acme.example' }));
    await client.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'lambda', Endpoint: 'arn:aws:lambda:us-east-1:111111111111:function:acme-regionwatch-pagerduty-oncall' }));
    client.destroy();
  });
  afterAll(async () => {
    lambda.restore();
    await sns?.stop();
  });

  it('has the aggregator publish it, invokes each notifier with it, and prints what each did', async () => {
    lambda.on(InvokeCommand, { FunctionName: 'acme-regionwatch-aggregator' }).callsFake((input: { Payload: Uint8Array }) => {
      const request = JSON.parse(Buffer.from(input.Payload).toString()) as { testId: string };
      return { StatusCode: 200, Payload: payload({ messageId: 'm-1', topicArn, dedupKey: `test/${request.testId}` }) };
    });
    const answer = (detail: string) => ({ StatusCode: 200, Payload: payload({ delivered: 1, skipped: 0, duplicates: 0, deliveries: [{ messageId: 'm-1', dedupKey: 'x', detail }] }) });
    lambda.on(InvokeCommand, { FunctionName: 'acme-regionwatch-slack-notifier' }).resolves(answer('posted to Slack (1 attempt)'));
    lambda.on(InvokeCommand, { FunctionName: 'acme-regionwatch-pagerduty-oncall' }).resolves(answer('triggered and resolved PagerDuty alert regionwatch/acme/test/t'));
    lambda
      .on(InvokeCommand, { FunctionName: 'acme-regionwatch-webhook-bridge' })
      .resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: payload({ errorType: 'ChannelNotifierError', errorMessage: '1 notification not delivered to webhook bridge: could not read secret regionwatch/webhook-bridge (ResourceNotFoundException)' }) });

    const command = notifyCommand((region) => ({
      lambda: new LambdaClient({ region, credentials }),
      sns: new SNSClient({ region, endpoint: sns.address, credentials }),
    }));
    const out: string[] = [];
    const code = await command.run({ values: { config: configFile, aws: true, region: ['us-east-1'], secrets: 'unused', json: false }, positionals: ['test'] }, { out: (l) => out.push(l), err: (l) => out.push(l), cwd: dir.path });
    expect(code).toBe(1);
    expect(out.slice(1)).toEqual([
      '  ok      us-east-1  SNS topic         published (message m-1); oncall@acme.example (confirmed)',
      '  ok      us-east-1  Slack             posted to Slack (1 attempt)',
      '  ok      us-east-1  PagerDuty oncall  triggered and resolved PagerDuty alert regionwatch/acme/test/t',
      '  FAILED  us-east-1  webhook bridge    1 notification not delivered to webhook bridge: could not read secret regionwatch/webhook-bridge (ResourceNotFoundException)',
      '1 failed, 0 not tried: see above',
    ]);
    // What was sent: the aggregator the request; each notifier, synchronously, an SNS event holding the marked test.
    const calls = lambda.commandCalls(InvokeCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => [c.FunctionName, c.InvocationType])).toEqual([
      ['acme-regionwatch-aggregator', 'RequestResponse'],
      ['acme-regionwatch-slack-notifier', 'RequestResponse'],
      ['acme-regionwatch-pagerduty-oncall', 'RequestResponse'],
      ['acme-regionwatch-webhook-bridge', 'RequestResponse'],
    ]);
    const event = JSON.parse(Buffer.from(calls[2]?.Payload as Uint8Array).toString()) as { Records: { Sns: { Message: string; Subject: string; TopicArn: string; MessageAttributes: Record<string, { Value: string }> } }[] };
    expect(event.Records[0]?.Sns).toMatchObject({ TopicArn: topicArn, Subject: '[TEST] regionwatch acme: test notification from us-east-1, no action needed', MessageAttributes: { event: { Value: 'test' } } });
    expect(JSON.parse(event.Records[0]?.Sns.Message ?? '{}')).toMatchObject({ event: 'test', incidentId: null });
  });
});
