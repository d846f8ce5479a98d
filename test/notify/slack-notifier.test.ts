// The Slack notifier Lambda end to end: SNS event in, Block Kit post to a loopback "Slack", the secret from a mocked Secrets Manager.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SNSEvent } from 'aws-lambda';
import { createSlackNotifier, SlackNotifierError, type NotifierLogger } from '../../lambda/notify/slack-notifier';
import { SEVERITY_COLOR } from '../../lambda/notify/slack-blocks';
import { checkerNotification, downNotification } from './fixtures';
import { startFakeSlack, type FakeSlack } from './fake-receiver';
import { recordFor, snsRecord } from './sns-event';

function captureLogger(): NotifierLogger & { lines: Array<{ level: string; message: string; extra: unknown[] }> } {
  const lines: Array<{ level: string; message: string; extra: unknown[] }> = [];
  const at =
    (level: string) =>
    (message: unknown, ...extra: unknown[]) => {
      lines.push({ level, message: String(message), extra });
    };
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

let slack: FakeSlack;
const sm = mockClient(SecretsManagerClient);

beforeAll(async () => {
  slack = await startFakeSlack();
});
afterAll(async () => {
  sm.restore();
  await slack?.close();
});
afterEach(() => {
  slack.requests.length = 0;
  slack.script([]);
});

describe('handler (module wiring: env, Secrets Manager, Powertools Logger)', () => {
  it('reads the secret named by SLACK_WEBHOOK_SECRET_NAME, posts the notification, skips garbage', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ url: slack.url }) });
    process.env.SLACK_WEBHOOK_SECRET_NAME = 'regionwatch/slack-webhook';
    process.env.SLACK_WEBHOOK_ALLOW_LOOPBACK = 'true';
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    const { handler } = await import('../../lambda/handlers/slack-notifier');
    const n = downNotification();
    const event: SNSEvent = { Records: [snsRecord('{"totally": "unrelated"}', 'm-garbage'), snsRecord('<<<not json', 'm-garbage-2'), recordFor(n, 'm-1')] };
    const outcome = await handler(event);
    expect(outcome).toMatchObject({ delivered: 1, skipped: 2, duplicates: 0 });
    expect(outcome.deliveries.map((d) => d.detail)).toEqual(['posted to Slack (1 attempt)']);
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: 'regionwatch/slack-webhook' }]);
    expect(slack.requests).toHaveLength(1);
    const payload = JSON.parse(slack.requests[0]?.body ?? '{}') as { text: string; attachments: Array<{ color: string }> };
    expect(payload.text).toBe(n.subject);
    expect(payload.attachments[0]?.color).toBe(SEVERITY_COLOR.down);

    // A delivery failure throws, so SNS retries and the DLQ keeps it.
    slack.script([{ status: 400, body: 'invalid_payload' }]);
    await expect(handler({ Records: [recordFor(checkerNotification(), 'm-2')] })).rejects.toBeInstanceOf(SlackNotifierError);
  });
});

describe('createSlackNotifier', () => {
  const urlSource = (url: string) => ({ reads: 0, invalidated: 0, async get() { this.reads += 1; return url; }, invalidate() { this.invalidated += 1; } });

  it('never crashes on messages it does not understand, and logs each one', async () => {
    const logger = captureLogger();
    const notify = createSlackNotifier({ webhookUrl: urlSource(slack.url), logger });
    const outcome = await notify({ Records: [snsRecord('', 'a'), snsRecord('[]', 'b'), snsRecord('{"event":"opened"}', 'c')] });
    expect(outcome).toEqual({ delivered: 0, skipped: 3, duplicates: 0, deliveries: [] });
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(3);
    expect(slack.requests).toHaveLength(0);
    // An event without Records at all is no crash either.
    await expect(notify({} as SNSEvent)).resolves.toEqual({ delivered: 0, skipped: 0, duplicates: 0, deliveries: [] });
  });

  it('posts a double of the same transition once per container', async () => {
    const notify = createSlackNotifier({ webhookUrl: urlSource(slack.url), logger: captureLogger() });
    const n = downNotification();
    const outcome = await notify({ Records: [recordFor(n, 'x1'), recordFor({ ...n, at: '2026-04-11T12:04:12.000Z' }, 'x2')] });
    expect(outcome).toMatchObject({ delivered: 1, skipped: 0, duplicates: 1 });
    expect(slack.requests).toHaveLength(1);
  });

  it('delivers the others, then throws for the one that failed; a gone webhook makes it re-read the secret', async () => {
    const source = urlSource(slack.url);
    const logger = captureLogger();
    const notify = createSlackNotifier({ webhookUrl: source, logger });
    slack.script([{ status: 200 }, { status: 410, body: 'channel_is_archived' }, { status: 200 }]);
    const error = await notify({
      Records: [recordFor(downNotification({ dedupKey: 'k1' }), 'ok-1'), recordFor(downNotification({ dedupKey: 'k2' }), 'bad'), recordFor(downNotification({ dedupKey: 'k3' }), 'ok-2')],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlackNotifierError);
    expect((error as SlackNotifierError).failedMessageIds).toEqual(['bad']);
    expect((error as Error).message).toContain('channel_is_archived');
    expect(slack.requests).toHaveLength(3);
    expect(source.invalidated).toBe(1);
    expect(logger.lines.some((l) => l.level === 'error' && JSON.stringify(l.extra).includes('k2'))).toBe(true);
    // Nothing in the logs carries the webhook URL.
    expect(JSON.stringify(logger.lines)).not.toContain(slack.url);
  });
});

describe('time budget', () => {
  it('bounds each post by what the invocation has left, minus a margin', async () => {
    const budgets: number[] = [];
    let clock = 0;
    const notify = createSlackNotifier({
      webhookUrl: { get: async () => slack.url, invalidate: () => undefined },
      logger: captureLogger(),
      now: () => clock,
      post: async (_url, _payload, bounds) => {
        budgets.push(bounds.maxTotalMs);
        clock += 4_000;
        return 1;
      },
    });
    await notify({ Records: [recordFor(downNotification({ dedupKey: 'b1' }), 'b1'), recordFor(downNotification({ dedupKey: 'b2' }), 'b2')] }, 15_000);
    // 15 s left, 1.5 s kept back: 13.5 s for the first post; the second gets what the first left.
    expect(budgets).toEqual([13_500, 9_500]);
    budgets.length = 0;
    await notify({ Records: [recordFor(downNotification({ dedupKey: 'b3' }), 'b3')] });
    expect(budgets).toEqual([20_000]);
  });
});
