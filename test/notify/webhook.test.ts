// The signed generic webhook against a loopback receiver that verifies like a real one would: the envelope, the
// HMAC-SHA256 signature over timestamp and body, the replay window, rotation, retries signed afresh, and the Lambda
// end to end with its secret from a mocked Secrets Manager.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { NotificationBody } from '../../lambda/core/notification';
import { testNotification } from '../../lambda/core/test-notification';
import { ALLOW_LOOPBACK_ENV, ENV } from '../../lambda/handlers/env';
import { ChannelSecretError } from '../../lambda/notify/channel-secret';
import {
  DEDUP_KEY_HEADER,
  DELIVERY_HEADER,
  EVENT_HEADER,
  parseWebhookSecret,
  SIGNATURE_HEADER,
  signatureHeader,
  verifyWebhookSignature,
  webhookDelivery,
  WebhookDeliveryError,
  type WebhookPayload,
} from '../../lambda/notify/signed-webhook';
import { startFakeReceiver, type FakeReceiver } from './fake-receiver';
import { downNotification } from './fixtures';
import { recordFor } from './sns-event';

const SECRET = 'a'.repeat(32) + 'b'.repeat(32);
const OLD = 'c'.repeat(64);

let hook: FakeReceiver;
beforeAll(async () => {
  hook = await startFakeReceiver('/hooks/regionwatch', { status: 204 });
});
afterAll(async () => {
  await hook?.close();
});
afterEach(() => {
  hook.requests.length = 0;
  hook.script([]);
});

const source = (signingSecrets = [SECRET]) => ({ get: async () => ({ url: hook.url, signingSecrets }), invalidate: () => undefined });
/** What a receiver with `secret` concludes about request n, at its own `nowSeconds`. */
const verify = (n: number, secret: string, nowSeconds: number) => {
  const r = hook.requests[n];
  const header = r?.headers[SIGNATURE_HEADER];
  return verifyWebhookSignature({ header: typeof header === 'string' ? header : undefined, rawBody: r?.body ?? '', secret, nowSeconds });
};

describe('the signed webhook', () => {
  it('posts the notification in its envelope, signed over timestamp and body, with the event and dedupKey in headers', async () => {
    const n = downNotification({ incidentId: 'us-00001' });
    const deliver = webhookDelivery({ name: 'bridge', secret: source(), platform: 'acme', statusPageUrl: 'https://status.acme.example/', nowSeconds: () => 1_776_000_000 });
    const done = await deliver(n, n.subject, { maxTotalMs: 5_000 });
    expect(done).toEqual({ attempts: 1, detail: 'delivered to webhook bridge (HTTP 204, signed, 1 attempt)' });
    const [request] = hook.requests;
    const payload = JSON.parse(request?.body ?? '') as WebhookPayload;
    expect(payload).toEqual({
      type: 'regionwatch.notification',
      version: 1,
      platform: 'acme',
      test: false,
      subject: n.subject,
      statusPageUrl: 'https://status.acme.example/#incident-us-00001',
      notification: { event: 'opened', incidentId: 'us-00001', region: 'us', severity: 'down', at: n.at, summary: n.summary, evidence: n.evidence, dedupKey: n.dedupKey },
    });
    expect(Object.keys(payload.notification)).toEqual(['event', 'incidentId', 'region', 'severity', 'at', 'summary', 'evidence', 'dedupKey']);
    expect(request?.headers[EVENT_HEADER]).toBe('opened');
    expect(request?.headers[DEDUP_KEY_HEADER]).toBe(n.dedupKey);
    expect(request?.headers[DELIVERY_HEADER]).toMatch(/^[0-9a-f-]{36}$/);
    expect(request?.headers[SIGNATURE_HEADER]).toMatch(/^t=1776000000,v1=[0-9a-f]{64}$/);
    expect(verify(0, SECRET, 1_776_000_010)).toEqual({ ok: true, timestamp: 1_776_000_000 });
  });

  it('is refused by a receiver with another secret, with a changed body, outside the replay window, or unsigned', async () => {
    const deliver = webhookDelivery({ name: 'bridge', secret: source(), platform: 'acme', nowSeconds: () => 1_776_000_000 });
    await deliver(downNotification(), undefined, { maxTotalMs: 5_000 });
    expect(verify(0, 'x'.repeat(64), 1_776_000_000)).toEqual({ ok: false, reason: 'no signature matches' });
    const header = hook.requests[0]?.headers[SIGNATURE_HEADER] as string;
    const tampered = (hook.requests[0]?.body ?? '').replace('"down"', '"up"');
    expect(verifyWebhookSignature({ header, rawBody: tampered, secret: SECRET, nowSeconds: 1_776_000_000 })).toEqual({ ok: false, reason: 'no signature matches' });
    // Replayed six minutes later: outside the default five-minute window.
    expect(verify(0, SECRET, 1_776_000_000 + 360)).toEqual({ ok: false, reason: 'timestamp 1776000000 is more than 300 s from now' });
    expect(verifyWebhookSignature({ header: undefined, rawBody: '{}', secret: SECRET, nowSeconds: 0 })).toEqual({ ok: false, reason: 'no signature header' });
    expect(verifyWebhookSignature({ header: 'v1=zz', rawBody: '{}', secret: SECRET, nowSeconds: 0 })).toEqual({ ok: false, reason: 'malformed signature header' });
  });

  it('signs with both secrets while rotating, so receivers on either verify', async () => {
    const deliver = webhookDelivery({ name: 'bridge', secret: source([SECRET, OLD]), platform: 'acme', nowSeconds: () => 1_776_000_000 });
    await deliver(downNotification(), undefined, { maxTotalMs: 5_000 });
    expect(hook.requests[0]?.headers[SIGNATURE_HEADER]).toMatch(/^t=1776000000,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    expect(verify(0, SECRET, 1_776_000_000).ok).toBe(true);
    expect(verify(0, OLD, 1_776_000_000).ok).toBe(true);
  });

  it('retries 429 and 5xx, each attempt signed with its own timestamp and the same delivery id', async () => {
    hook.script([{ status: 503 }, { status: 429, headers: { 'retry-after': '0' } }, { status: 200 }]);
    let clock = 1_776_000_000;
    const deliver = webhookDelivery({ name: 'bridge', secret: source(), platform: 'acme', nowSeconds: () => (clock += 100), post: { baseDelayMs: 10 } });
    const done = await deliver(downNotification(), undefined, { maxTotalMs: 5_000 });
    expect(done.attempts).toBe(3);
    expect(hook.requests.map((r) => (r.headers[SIGNATURE_HEADER] as string).split(',')[0])).toEqual(['t=1776000100', 't=1776000200', 't=1776000300']);
    expect(new Set(hook.requests.map((r) => r.headers[DELIVERY_HEADER])).size).toBe(1);
    expect(verify(2, SECRET, 1_776_000_300).ok).toBe(true);
  });

  it('fails on 4xx without retrying and without the URL in the message', async () => {
    hook.script([{ status: 401, body: 'bad signature' }]);
    const deliver = webhookDelivery({ name: 'bridge', secret: source(), platform: 'acme' });
    const error = await deliver(downNotification(), undefined, { maxTotalMs: 5_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookDeliveryError);
    expect(error).toMatchObject({ kind: 'rejected', retryable: false, status: 401 });
    expect((error as Error).message).toBe('webhook bridge rejected the message with 401 (bad signature); not retrying');
    expect(hook.requests).toHaveLength(1);
  });

  it('marks a test notification as a test', async () => {
    const n = testNotification({ platform: 'acme', testId: 't', from: 'this machine', nowMs: 0 });
    await webhookDelivery({ name: 'bridge', secret: source(), platform: 'acme' })(n, n.subject, { maxTotalMs: 5_000 });
    expect(JSON.parse(hook.requests[0]?.body ?? '')).toMatchObject({ test: true, subject: expect.stringMatching(/^\[TEST\] /), notification: { event: 'test', incidentId: null } });
  });

  it('reads its secret: an https URL and a signing secret of 32 characters at least', () => {
    expect(parseWebhookSecret(JSON.stringify({ url: 'https://hooks.example/x?token=1', signingSecret: SECRET }), 's')).toEqual({ url: 'https://hooks.example/x?token=1', signingSecrets: [SECRET] });
    expect(parseWebhookSecret(JSON.stringify({ url: 'https://h.example/', signingSecret: SECRET, previousSigningSecret: OLD }), 's').signingSecrets).toEqual([SECRET, OLD]);
    expect(() => parseWebhookSecret(JSON.stringify({ url: 'http://h.example/', signingSecret: SECRET }), 's')).toThrow(/must use https/);
    expect(() => parseWebhookSecret(JSON.stringify({ url: 'https://h.example/', signingSecret: 'short' }), 's')).toThrow(/at least 32 characters/);
    expect(() => parseWebhookSecret('https://h.example/', 's')).toThrow(ChannelSecretError);
    expect(() => parseWebhookSecret(JSON.stringify({ url: 'https://user:pw@h.example/', signingSecret: SECRET }), 's')).toThrow(/credentials/);
    expect(() => parseWebhookSecret(JSON.stringify({ url: 'http://127.0.0.1:9/x', signingSecret: SECRET }), 's')).toThrow(/must use https/);
    expect(parseWebhookSecret(JSON.stringify({ url: 'http://127.0.0.1:9/x', signingSecret: SECRET }), 's', { allowLoopback: true }).url).toBe('http://127.0.0.1:9/x');
    // Neither the URL's secret parts nor the signing secret appear in an error.
    expect(() => parseWebhookSecret(JSON.stringify({ url: 'http://h.example/tok3n', signingSecret: SECRET }), 's')).toThrow(expect.objectContaining({ message: expect.not.stringContaining('tok3n') }));
  });

  it('signs exactly as documented: HMAC-SHA256 of "<t>.<body>"', () => {
    // docs/notifications.md's example, computed by hand with `printf '%s' '1776000000.{"a":1}' | openssl dgst -sha256 -hmac <secret>`.
    expect(signatureHeader(['whsec_example_secret_for_the_docs_0001'], 1_776_000_000, '{"a":1}')).toBe(
      't=1776000000,v1=363b162c6f9bb466343cdec81b0569e4b789254cfcb75d58eb0e6304abd8a555',
    );
  });
});

describe('the webhook notifier Lambda', () => {
  const sm = mockClient(SecretsManagerClient);
  const saved = { ...process.env };
  afterAll(() => {
    sm.restore();
    process.env = { ...saved };
    vi.resetModules();
  });

  it('reads its secret by name once and delivers each SNS record, signed', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ url: hook.url, signingSecret: SECRET }) });
    Object.assign(process.env, {
      [ENV.channelName]: 'bridge',
      [ENV.channelSecretName]: 'regionwatch/webhook-bridge',
      [ENV.configPath]: 'test/notify/channels.config.json',
      [ALLOW_LOOPBACK_ENV]: 'true',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    vi.resetModules();
    const { handler } = await import('../../lambda/handlers/webhook-notifier');
    const a = downNotification({ dedupKey: 'k1' });
    const b = downNotification({ dedupKey: 'k2', event: 'resolved', severity: 'up' });
    const outcome = await handler({ Records: [recordFor(a, 'm1'), recordFor(b, 'm2')] });
    expect(outcome).toMatchObject({ delivered: 2, skipped: 0 });
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: 'regionwatch/webhook-bridge' }]);
    const now = Math.floor(Date.now() / 1000);
    expect([verify(0, SECRET, now).ok, verify(1, SECRET, now).ok]).toEqual([true, true]);
    expect(hook.requests.map((r) => (JSON.parse(r.body) as { notification: NotificationBody }).notification.dedupKey)).toEqual(['k1', 'k2']);
  });
});
