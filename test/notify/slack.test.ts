// Slack delivery: Block Kit payload, the webhook client against a loopback "Slack" with real 429s, 5xx and hangs, and the secret reader.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SEVERITY_COLOR, escapeMrkdwn, slackMessage, type SlackBlock } from '../../lambda/notify/slack-blocks';
import { SlackDeliveryError, parseRetryAfter, postToSlack } from '../../lambda/notify/slack-client';
import { WebhookSecretError, WebhookUrlReader, parseWebhookUrl } from '../../lambda/notify/webhook-secret';
import { parseNotificationBody } from '../../lambda/notify/parse-body';
import { checkerNotification, degradedNotification, downNotification } from './fixtures';
import { startFakeSlack, type FakeSlack } from './fake-receiver';

let slack: FakeSlack;
beforeAll(async () => {
  slack = await startFakeSlack();
});
afterAll(async () => {
  await slack?.close();
});
afterEach(() => {
  slack.requests.length = 0;
  slack.script([]);
});

function texts(blocks: SlackBlock[]): string {
  return blocks
    .map((b) => {
      if (b.type === 'header') return b.text.text;
      if (b.type === 'section') return [b.text?.text ?? '', ...(b.fields ?? []).map((f) => f.text)].join('\n');
      if (b.type === 'context') return b.elements.map((e) => e.text).join('\n');
      return '';
    })
    .join('\n');
}

describe('slackMessage', () => {
  it('shows severity colour, region, failing targets and from where, incident id and dedupKey', () => {
    const n = downNotification();
    const msg = slackMessage(n, n.subject);
    expect(msg.text).toBe(n.subject);
    expect(msg.attachments).toHaveLength(1);
    const [att] = msg.attachments;
    expect(att?.color).toBe(SEVERITY_COLOR.down);
    expect(att?.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: n.subject } });
    const all = texts(att?.blocks ?? []);
    expect(all).toContain('*Region*\nus');
    expect(all).toContain('*Severity*\ndown');
    expect(all).toContain(`*Incident*\n\`${n.incidentId}\``);
    expect(all).toContain('*api* — down, failing from us-east-1, eu-west-1, ap-southeast-1 (3/3)');
    expect(all).toContain('• us-east-1: down, HTTP 503, status, 41 ms');
    expect(all).toContain('• ap-southeast-1: down, timeout, 3000 ms — no response in 3000 ms');
    const context = att?.blocks.at(-1);
    expect(context?.type).toBe('context');
    expect(texts(context ? [context] : [])).toContain(`dedupKey \`${n.dedupKey}\``);
  });

  it('shows durations and uses the read-only colour', () => {
    const msg = slackMessage({ ...degradedNotification(), evidence: { ...degradedNotification().evidence, degradedSeconds: 3720, readOnlySeconds: 3720 } });
    expect(msg.attachments[0]?.color).toBe(SEVERITY_COLOR['read-only']);
    expect(texts(msg.attachments[0]?.blocks ?? [])).toContain('*So far:* 20 min down, 1 h 2 min degraded, all of it read-only');
    // No subject given: a fallback first line.
    expect(msg.text).toBe('[READ-ONLY] us: incident de-escalated');
  });

  it('handles checker notifications with no region or incident, and escapes mrkdwn', () => {
    const msg = slackMessage(checkerNotification({ summary: 'a <b> & c' }));
    const all = texts(msg.attachments[0]?.blocks ?? []);
    expect(all).toContain('*Region*\nchecker');
    expect(all).not.toContain('*Incident*');
    expect(all).toContain('a &lt;b&gt; &amp; c');
    expect(all).toContain('impaired: ap-southeast-1');
    expect(msg.attachments[0]?.color).toBe(SEVERITY_COLOR.unknown);
  });

  it('stays inside Slack limits with many targets', () => {
    const n = downNotification();
    const t = n.evidence.targets[0];
    if (t === undefined) throw new Error('fixture');
    const many = { ...n, evidence: { ...n.evidence, targets: Array.from({ length: 60 }, (_, i) => ({ ...t, target: `t${i}` })) } };
    const blocks = slackMessage(many).attachments[0]?.blocks ?? [];
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(texts(blocks)).toContain('…and 50 more: t10, t11');
  });

  it('escapes', () => {
    expect(escapeMrkdwn('<@here>')).toBe('&lt;@here&gt;');
  });
});

describe('parseNotificationBody', () => {
  it('reads back what the SNS publisher sends', () => {
    const n = downNotification();
    const { subject: _subject, ...body } = n;
    expect(parseNotificationBody(JSON.stringify(body))).toEqual({ ok: true, body });
  });
  it('refuses garbage with a reason and never throws', () => {
    expect(parseNotificationBody('not json')).toEqual({ ok: false, reason: 'not JSON' });
    expect(parseNotificationBody('{"hello":1}')).toMatchObject({ ok: false });
    expect(parseNotificationBody('null')).toMatchObject({ ok: false });
    expect(parseNotificationBody(JSON.stringify({ ...downNotification(), event: 'exploded' }))).toMatchObject({ ok: false, reason: expect.stringContaining('event') });
  });
  it('tolerates damaged evidence', () => {
    const r = parseNotificationBody(JSON.stringify({ ...downNotification(), evidence: { targets: [{ target: 'api', seenBy: [1, { probeRegion: 'x', status: 'down' }] }] } }));
    expect(r.ok && r.body.evidence.targets[0]?.seenBy).toEqual([{ probeRegion: 'x', status: 'down' }]);
  });
});

describe('postToSlack against a loopback Slack', () => {
  it('posts the JSON payload once on 200', async () => {
    const payload = slackMessage(downNotification());
    const attempts = await postToSlack(slack.url, payload);
    expect(attempts).toBe(1);
    expect(slack.requests).toHaveLength(1);
    expect(slack.requests[0]?.method).toBe('POST');
    expect(slack.requests[0]?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(slack.requests[0]?.body ?? '')).toEqual(payload);
  });

  it('on 429 waits for Retry-After, then succeeds', async () => {
    slack.script([{ status: 429, body: 'rate_limited', headers: { 'retry-after': '1' } }, { status: 200, body: 'ok' }]);
    const started = Date.now();
    const attempts = await postToSlack(slack.url, { text: 'x' }, { baseDelayMs: 10 });
    expect(attempts).toBe(2);
    expect(slack.requests).toHaveLength(2);
    const gap = (slack.requests[1]?.at ?? 0) - (slack.requests[0]?.at ?? 0);
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('hands a Retry-After longer than it may wait back as a retryable error instead of blocking', async () => {
    slack.script([{ status: 429, headers: { 'retry-after': '60' } }]);
    const error = await postToSlack(slack.url, { text: 'x' }, { maxDelayMs: 2_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlackDeliveryError);
    expect(error).toMatchObject({ kind: 'rate-limited', retryable: true, status: 429, attempts: 1 });
    expect(slack.requests).toHaveLength(1);
  });

  it('backs off on 5xx and gives up after maxAttempts, within bounds', async () => {
    slack.script([{ status: 500, body: 'internal_error' }]);
    const started = Date.now();
    const error = await postToSlack(slack.url, { text: 'x' }, { maxAttempts: 3, baseDelayMs: 50 }).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(SlackDeliveryError);
    expect(error).toMatchObject({ name: 'SlackDeliveryError', kind: 'server', retryable: true, status: 500, attempts: 3 });
    expect((error as Error).message).toContain('internal_error');
    expect(slack.requests).toHaveLength(3);
    // Waits of [25,50) + [50,100) ms between the three attempts.
    expect(elapsed).toBeGreaterThanOrEqual(70);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('stops when the total time budget would be passed, even with attempts left', async () => {
    slack.script([{ status: 503 }]);
    const started = Date.now();
    const error = await postToSlack(slack.url, { text: 'x' }, { maxAttempts: 50, baseDelayMs: 200, maxTotalMs: 700 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'server', retryable: true });
    expect((error as Error).message).toContain('700 ms budget');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(slack.requests.length).toBeLessThan(6);
  });

  it('gives up at once on a 4xx other than 429, not retryable', async () => {
    slack.script([{ status: 404, body: 'no_service' }]);
    const error = await postToSlack(slack.url, { text: 'x' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'rejected', retryable: false, status: 404, attempts: 1 });
    expect((error as Error).message).toContain('no_service');
    expect((error as Error).message).not.toContain(slack.url);
    expect(slack.requests).toHaveLength(1);
  });

  it('times out a hung webhook and retries within the budget', async () => {
    slack.script([{ status: 0, hang: true }]);
    const started = Date.now();
    const error = await postToSlack(slack.url, { text: 'x' }, { timeoutMs: 150, maxAttempts: 2, baseDelayMs: 10 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'timeout', retryable: true, attempts: 2 });
    expect(slack.requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('2', 0)).toBe(2000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter(null, 0)).toBeUndefined();
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
});

describe('webhook secret', () => {
  const sm = mockClient(SecretsManagerClient);
  afterEach(() => {
    sm.reset();
  });

  it('reads the secret by name with exactly one GetSecretValue, then serves the cache until the TTL passes', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'https://hooks.slack.com/services/T1/B2/abc' });
    let now = 1_000;
    const reader = new WebhookUrlReader({ client: new SecretsManagerClient({ region: 'us-east-1' }), secretName: 'regionwatch/slack', ttlMs: 60_000, now: () => now });
    const [a, b] = await Promise.all([reader.get(), reader.get()]);
    expect(a).toBe('https://hooks.slack.com/services/T1/B2/abc');
    expect(b).toBe(a);
    now += 59_000;
    await reader.get();
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(sm.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({ SecretId: 'regionwatch/slack' });
    now += 2_000;
    await reader.get();
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    reader.invalidate();
    await reader.get();
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(3);
  });

  it('accepts JSON {"url": ...}', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ url: 'https://hooks.slack.com/services/T1/B2/xyz' }) });
    const reader = new WebhookUrlReader({ client: new SecretsManagerClient({ region: 'us-east-1' }), secretName: 's' });
    expect(await reader.get()).toBe('https://hooks.slack.com/services/T1/B2/xyz');
  });

  it('does not cache a failure, and types it', async () => {
    sm.on(GetSecretValueCommand)
      .rejectsOnce(new ResourceNotFoundException({ message: 'no such secret', $metadata: {} }))
      .resolves({ SecretString: 'https://hooks.slack.com/services/T1/B2/abc' });
    const reader = new WebhookUrlReader({ client: new SecretsManagerClient({ region: 'us-east-1' }), secretName: 'missing' });
    const error = await reader.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookSecretError);
    expect(error).toMatchObject({ name: 'WebhookSecretError', retryable: false });
    expect((error as Error).message).toContain('ResourceNotFoundException');
    expect(await reader.get()).toBe('https://hooks.slack.com/services/T1/B2/abc');
  });

  it('refuses anything but a Slack webhook, and loopback unless allowed', () => {
    expect(() => parseWebhookUrl('https://evil.example/services/x', 's')).toThrow(/not a Slack incoming webhook/);
    expect(() => parseWebhookUrl('http://hooks.slack.com/services/x', 's')).toThrow(WebhookSecretError);
    expect(() => parseWebhookUrl('https://hooks.slack.com.evil.example/x', 's')).toThrow(WebhookSecretError);
    expect(() => parseWebhookUrl('https://hooks.slack.com/', 's')).toThrow(WebhookSecretError);
    expect(() => parseWebhookUrl('http://127.0.0.1:9999/x', 's')).toThrow(WebhookSecretError);
    expect(parseWebhookUrl('http://127.0.0.1:9999/x', 's', { allowLoopback: true })).toBe('http://127.0.0.1:9999/x');
    expect(() => parseWebhookUrl('http://localhost:9999/x', 's', { allowLoopback: true })).toThrow(WebhookSecretError);
    expect(() => parseWebhookUrl('{"link": "x"}', 's')).toThrow(/"url"/);
    expect(() => parseWebhookUrl('{broken', 's')).toThrow(/does not parse/);
    expect(() => parseWebhookUrl('not a url', 's')).toThrow(/does not hold a URL/);
    // The URL is a secret: errors name the host at most.
    expect(() => parseWebhookUrl('https://evil.example/services/T/B/secretpart', 's')).toThrow(expect.objectContaining({ message: expect.not.stringContaining('secretpart') }));
  });
});
