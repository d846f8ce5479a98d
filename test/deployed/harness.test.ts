// The Lambda-like harness fails a deployment the way Lambda would, so the end-to-end story cannot pass on a bundle that
// would not run: a bundle whose imports do not resolve from its task root, a handler name the bundle does not export,
// an environment variable the template forgot, an invocation past its timeout. And SNS's async delivery to the Slack
// notifier bundle follows the template's EventInvokeConfig: retried, then parked in its dead-letter queue.
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PublishCommand } from '@aws-sdk/client-sns';
import { ENV } from '../../lambda/handlers/env';
import { toPublishInput } from '../../lambda/notify/sns-publisher';
import { resourceNames } from '../../lib/names';
import { sharedDeployment, type Deployment } from '../helpers/lambda/deployment';
import { ASYNC_RETRY_DELAYS_MS, scheduledEvent } from '../helpers/lambda/event-sources';
import { environmentProblems, type FunctionSpec } from '../helpers/lambda/function';
import { LocalAws, type LocalAwsOptions } from '../helpers/lambda/local-aws';
import { drainQueue } from '../helpers/sqs';
import { useTestStore } from '../helpers/store';
import { downNotification } from '../notify/fixtures';
import { startFakeSlack } from '../notify/fake-receiver';

const store = useTestStore();
let deployment: Deployment;
let aws: LocalAws | undefined;

beforeAll(async () => {
  deployment = await sharedDeployment();
}, 240_000);

afterEach(async () => {
  await aws?.stop();
  aws = undefined;
});

/** The home stack in the harness, with one function's spec changed as a broken deployment would have it. */
async function homeStack(tamper?: (spec: FunctionSpec, logicalId: string) => void, options: Partial<LocalAwsOptions> = {}): Promise<LocalAws> {
  aws = await LocalAws.start({
    deployment,
    store: store.current,
    regions: [deployment.config.homeRegion],
    tamper: (spec, _stack, logicalId) => tamper?.(spec, logicalId),
    ...options,
  });
  return aws;
}

describe('the harness runs a deployed function as Lambda does', () => {
  it('refuses, as Lambda\'s deploy does, variables Lambda reserves or more than 4 KB of them; every deployed function passes', async () => {
    expect(environmentProblems({ AWS_REGION: 'eu-west-1', PROBE_REGION: 'eu-west-1' })).toEqual(['AWS_REGION is reserved by Lambda']);
    expect(environmentProblems({ BIG: 'x'.repeat(4096) })).toEqual(['the variables take 4099 bytes; Lambda allows 4096']);
    const local = await LocalAws.start({ deployment, store: store.current });
    aws = local;
    for (const fn of local.functions.values()) expect(environmentProblems(fn.spec.environment), fn.spec.functionName).toEqual([]);
  });

  it('fails the cold start of a bundle that imports what its task root does not have (Runtime.ImportModuleError)', async () => {
    const local = await homeStack((spec, id) => {
      if (!id.startsWith('AggregatorFunction')) return;
      // The same bundle, but with the SDK left out as if the runtime provided it: ESM never resolves it from the runtime.
      const root = mkdtempSync(join(tmpdir(), 'regionwatch-broken-bundle-'));
      cpSync(spec.taskRoot, root, { recursive: true });
      writeFileSync(join(root, 'index.mjs'), "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nexport const handler = async () => new DynamoDBClient({});\n");
      spec.taskRoot = root;
    });
    const outcome = await local.fn(deployment.config.homeRegion, 'AggregatorFunction').invoke({ Records: [] });
    expect(outcome).toMatchObject({ ok: false, errorType: 'Runtime.ImportModuleError', errorMessage: expect.stringContaining("'@aws-sdk/client-dynamodb'") });
  });

  it('fails a handler name the bundle does not export (Runtime.HandlerNotFound)', async () => {
    const local = await homeStack((spec, id) => {
      if (id.startsWith('AggregatorFunction')) spec.handler = 'index.main';
    });
    expect(await local.fn(deployment.config.homeRegion, 'AggregatorFunction').invoke({ Records: [] })).toEqual({ ok: false, errorType: 'Runtime.HandlerNotFound', errorMessage: 'index.main is undefined or not exported' });
  });

  it('fails the cold start naming an environment variable the template did not set', async () => {
    const local = await homeStack((spec, id) => {
      if (id.startsWith('AggregatorFunction')) delete spec.environment[ENV.failureQueueUrl];
    });
    const fn = local.fn(deployment.config.homeRegion, 'AggregatorFunction');
    expect(await fn.invoke({ Records: [] })).toEqual({ ok: false, errorType: 'Error', errorMessage: `environment variable ${ENV.failureQueueUrl} is not set; the CDK binding should have set it` });
    // A failed init leaves nothing warm: the next invocation is a cold start again, and fails again.
    expect((await fn.invoke({ Records: [] })).ok).toBe(false);
    expect(fn.coldStarts).toBe(2);
  });

  it('ends an invocation at the function\'s timeout (Sandbox.Timedout) and starts the next one cold', async () => {
    const local = await homeStack((spec, id) => {
      if (!id.startsWith('AggregatorFunction')) return;
      const root = mkdtempSync(join(tmpdir(), 'regionwatch-hanging-bundle-'));
      writeFileSync(join(root, 'index.mjs'), 'export const handler = () => new Promise(() => {});\n');
      spec.taskRoot = root;
      spec.timeoutSeconds = 0.3;
    });
    const fn = local.fn(deployment.config.homeRegion, 'AggregatorFunction');
    expect(await fn.invoke({ Records: [] })).toMatchObject({ ok: false, errorType: 'Sandbox.Timedout', errorMessage: expect.stringMatching(/Task timed out after 0\.30 seconds$/) });
    await fn.invoke({ Records: [] });
    expect(fn.coldStarts).toBe(2);
  });

  it('delivers a page published to the topic to the Slack notifier bundle, and parks it in the region\'s parked-messages queue after the template\'s retries', async () => {
    const slack = await startFakeSlack();
    try {
      const secretName = deployment.config.notifications.slackWebhookSecretName ?? '';
      const local = await homeStack(undefined, {
        secrets: { [secretName]: slack.url },
        extraEnvironment: { [resourceNames(deployment.config.platform).slackNotifierFunction]: { SLACK_WEBHOOK_ALLOW_LOOPBACK: 'true' } },
      });
      await local.startTriggers({ schedules: false });
      const home = deployment.config.homeRegion;
      const topicArn = local.resolve(home, { Ref: Object.keys(local.stack(home).resources).find((id) => id.startsWith('NotificationsTopic')) });
      slack.script([{ status: 500, body: 'internal_error' }]);
      await local.sns.send(new PublishCommand(toPublishInput(downNotification(), topicArn)));
      const deadLetters = local.queueUrl(home, 'ParkedMessages');
      const notifier = local.fn(home, 'NotificationsSlackNotifierFunction');
      let parked: { requestContext?: { condition?: string; approximateInvokeCount?: number; functionArn?: string }; requestPayload?: { Records?: { Sns?: { Subject?: string } }[] } }[] = [];
      const all: string[] = [];
      const until = Date.now() + ASYNC_RETRY_DELAYS_MS.reduce((a, b) => a + b, 0) + 20_000;
      while (parked.length === 0 && Date.now() < until) {
        await delay(200);
        // The region's one parked-messages queue: the Slack notifier's failure record names its function.
        for (const m of await drainQueue(local.sqs, deadLetters)) all.push(m.Body ?? '{}');
        parked = all.map((b) => JSON.parse(b) as (typeof parked)[number]).filter((p) => p.requestContext?.functionArn?.includes('slack-notifier'));
      }
      const [, notifierResource] = Object.entries(local.stack(home).resources).find(([, r]) => r.Type === 'AWS::Lambda::EventInvokeConfig' && JSON.stringify(r.Properties).includes('SlackNotifier')) ?? [];
      const retries = Number(notifierResource?.Properties?.MaximumRetryAttempts);
      expect(parked, all.join('\n')).toHaveLength(1);
      expect(parked[0]?.requestContext).toMatchObject({ condition: 'RetriesExhausted', approximateInvokeCount: retries + 1 });
      expect(parked[0]?.requestPayload?.Records?.[0]?.Sns?.Subject).toBe(downNotification().subject);
      // Each attempt posted once (the notifier does its own bounded retries inside an attempt).
      expect(notifier.invocations).toHaveLength(retries + 1);
      expect(slack.requests.length).toBeGreaterThanOrEqual(retries + 1);
    } finally {
      await slack.close();
    }
  }, 60_000);
});

describe('the harness authorizes SQS as AWS does, by the template', () => {
  it('refuses a confirmation request sent where the prober\'s role does not allow it (AccessDenied), and to a queue of another region than the client\'s (QueueDoesNotExist); the prober logs it and goes on', async () => {
    const home = deployment.config.homeRegion;
    const logs: string[] = [];
    // The confirmation requests' queue URL pointed at the parked-messages queue: it exists in every region, and the
    // prober's role may not send to it.
    const local = await homeStack(
      (spec, id) => {
        if (id.startsWith('ProberFunction')) spec.environment[ENV.confirmationQueueUrl] = 'https://sqs.{region}.amazonaws.com/000000000000/RegionWatch-{region}-ParkedMessages';
      },
      { onLog: (line) => logs.push(line.line) },
    );
    const prober = local.fn(home, 'ProberFunction');
    // Nothing listens on the platform's port: every check fails at once, and the round asks for confirmations. The
    // event names the minute's start, so a first invocation (no clock estimate yet) runs that minute's first round now.
    const rule = `arn:aws:events:${home}:000000000000:rule/harness`;
    const outcome = await prober.invoke(scheduledEvent(home, rule, Math.floor(Date.now() / 60_000) * 60_000));
    expect(outcome.ok, JSON.stringify(outcome)).toBe(true);
    const sends = local.sqsCalls.filter((c) => c.operation === 'SendMessage' && c.functionName === prober.spec.functionName);
    expect(sends.find((c) => c.region === home)).toMatchObject({ outcome: 'access-denied', queue: `arn:aws:sqs:${home}:000000000000:RegionWatch-${home}-ParkedMessages` });
    // Only the home stack runs here: the other regions' queues do not exist.
    expect(new Set(sends.filter((c) => c.region !== home).map((c) => c.outcome))).toEqual(new Set(['no-such-queue']));
    const failed = logs.filter((l) => l.includes('"event":"confirm-send-failed"'));
    expect(failed.some((l) => l.includes('"error":"AccessDenied"')), failed.join('\n')).toBe(true);
    // The rounds queue, which the role does allow, took the minute's later rounds.
    const batches = local.sqsCalls.filter((c) => c.operation === 'SendMessageBatch');
    expect(batches.length).toBeGreaterThan(0);
    expect(new Set(batches.map((c) => c.outcome))).toEqual(new Set(['forwarded']));
  });
});
