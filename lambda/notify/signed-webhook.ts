// The signed generic webhook: the notification (DESIGN's body) in a small JSON envelope, POSTed with an HMAC-SHA256
// signature over the timestamp and the exact body bytes, so any tool (Opsgenie, Teams, a chat bot) can be fed and
// can tell a real regionwatch delivery from a forged or replayed one. docs/notifications.md shows a receiver.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { NotificationBody } from '../core/notification';
import type { ChannelDelivery } from './channel-notifier';
import { ChannelSecretError, type SecretSource } from './channel-secret';
import { DeliveryError, postJson, type PostOptions } from './http-delivery';
import { notificationBody } from './sns-publisher';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (one v1 per signing secret while rotating). */
export const SIGNATURE_HEADER = 'x-regionwatch-signature';
/** The same for every attempt of one delivery, so a receiver can drop a retried copy. */
export const DELIVERY_HEADER = 'x-regionwatch-delivery';
export const EVENT_HEADER = 'x-regionwatch-event';
export const DEDUP_KEY_HEADER = 'x-regionwatch-dedup-key';
/** How far a receiver should accept a timestamp from its own clock. */
export const DEFAULT_TOLERANCE_SECONDS = 300;
/** Shortest signing secret accepted: 32 characters (say, `openssl rand -hex 32` gives 64). */
const MIN_SECRET_LENGTH = 32;

export interface WebhookSecret {
  url: string;
  /** The current secret first, then the previous one while rotating: each signs the body. */
  signingSecrets: string[];
}

export interface WebhookSecretOptions {
  /** Accept `http://127.0.0.1…` (local mode and tests). */
  allowLoopback?: boolean;
}

/** The webhook's secret: `{"url": "https://…", "signingSecret": "…", "previousSigningSecret": "…"?}`. */
export function parseWebhookSecret(secretText: string, secretName: string, options: WebhookSecretOptions = {}): WebhookSecret {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(secretText) as Record<string, unknown>;
  } catch {
    throw new ChannelSecretError(`secret ${secretName} is not JSON; store {"url": "https://...", "signingSecret": "..."}`, false);
  }
  if (value === null || typeof value !== 'object') throw new ChannelSecretError(`secret ${secretName} must be a JSON object with "url" and "signingSecret"`, false);
  const rawUrl = value.url;
  let url: URL;
  try {
    url = new URL(typeof rawUrl === 'string' ? rawUrl : '');
  } catch {
    throw new ChannelSecretError(`secret ${secretName} has no "url" that is a URL; store the receiver's https:// address`, false);
  }
  const loopback = options.allowLoopback === true && url.protocol === 'http:' && url.hostname === '127.0.0.1';
  if (url.protocol !== 'https:' && !loopback) throw new ChannelSecretError(`secret ${secretName} has a url on ${url.protocol}//${url.host}; a webhook must use https://`, false);
  if (url.username !== '' || url.password !== '') throw new ChannelSecretError(`secret ${secretName} has a url with credentials in it; put them in the receiver's path or query instead`, false);
  const secrets = [value.signingSecret, value.previousSigningSecret].filter((s) => s !== undefined && s !== null);
  if (secrets.length === 0 || !secrets.every((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH)) {
    throw new ChannelSecretError(`secret ${secretName} needs a "signingSecret" of at least ${MIN_SECRET_LENGTH} characters (openssl rand -hex 32)`, false);
  }
  return { url: url.toString(), signingSecrets: secrets };
}

/** What a webhook receives: the notification as the SNS body carries it, with the subject and where to look. */
export interface WebhookPayload {
  type: 'regionwatch.notification';
  version: 1;
  platform: string;
  /** True only for `regionwatch notify test`. */
  test: boolean;
  subject: string | null;
  statusPageUrl: string | null;
  notification: NotificationBody;
}

export function webhookPayload(body: NotificationBody, subject: string | undefined, context: { platform: string; statusPageUrl?: string }): WebhookPayload {
  const anchor = body.incidentId !== null ? `#incident-${body.incidentId}` : '';
  return {
    type: 'regionwatch.notification',
    version: 1,
    platform: context.platform,
    test: body.event === 'test',
    subject: subject ?? null,
    statusPageUrl: context.statusPageUrl ? `${context.statusPageUrl}${anchor}` : null,
    notification: notificationBody(body),
  };
}

function hmac(secret: string, timestamp: number, rawBody: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
}

/** The signature header's value for a body sent at `timestamp` (unix seconds). */
export function signatureHeader(signingSecrets: readonly string[], timestamp: number, rawBody: string): string {
  return [`t=${timestamp}`, ...signingSecrets.map((s) => `v1=${hmac(s, timestamp, rawBody)}`)].join(',');
}

export type Verification = { ok: true; timestamp: number } | { ok: false; reason: string };

/**
 * What a receiver does (and what the tests do): take `t` and every `v1` from the header, refuse a timestamp further
 * than `toleranceSeconds` from its own clock (a replayed delivery), and accept when any `v1` equals the HMAC-SHA256 of
 * `<t>.<raw body>` under its secret, compared in constant time. The raw body, byte for byte: not re-serialised JSON.
 */
export function verifyWebhookSignature(input: { header: string | undefined; rawBody: string; secret: string; nowSeconds: number; toleranceSeconds?: number }): Verification {
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!input.header) return { ok: false, reason: 'no signature header' };
  const parts = input.header.split(',').map((p) => p.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  const signatures = parts.filter(([k, v]) => k === 'v1' && v !== undefined).map(([, v]) => v as string);
  if (!Number.isInteger(t) || signatures.length === 0) return { ok: false, reason: 'malformed signature header' };
  if (Math.abs(input.nowSeconds - t) > tolerance) return { ok: false, reason: `timestamp ${t} is more than ${tolerance} s from now` };
  const expected = Buffer.from(hmac(input.secret, t, input.rawBody), 'hex');
  const match = signatures.some((s) => {
    const given = Buffer.from(s, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return match ? { ok: true, timestamp: t } : { ok: false, reason: 'no signature matches' };
}

/** A delivery the webhook did not take (see DeliveryError); its URL never appears in it. */
export class WebhookDeliveryError extends DeliveryError {
  override readonly name = 'WebhookDeliveryError';
}

export interface WebhookDeliveryDeps {
  /** The webhook's name (config), for messages. */
  readonly name: string;
  readonly secret: SecretSource<WebhookSecret>;
  readonly platform: string;
  readonly statusPageUrl?: string;
  /** Seconds clock for the signature's timestamp. */
  readonly nowSeconds?: () => number;
  readonly post?: PostOptions;
}

/** The delivery function of a webhook channel (the Lambda's and local mode's): each attempt signed afresh. */
export function webhookDelivery(deps: WebhookDeliveryDeps): (body: NotificationBody, subject: string | undefined, bounds: { maxTotalMs: number }) => Promise<ChannelDelivery> {
  const nowSeconds = deps.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  return async (body, subject, bounds) => {
    const secret = await deps.secret.get();
    const payload = webhookPayload(body, subject, { platform: deps.platform, ...(deps.statusPageUrl ? { statusPageUrl: deps.statusPageUrl } : {}) });
    const raw = JSON.stringify(payload);
    const delivery = randomUUID();
    const delivered = await postJson(
      secret.url,
      raw,
      { label: `webhook ${deps.name}`, error: WebhookDeliveryError },
      {
        ...deps.post,
        maxTotalMs: Math.min(bounds.maxTotalMs, deps.post?.maxTotalMs ?? bounds.maxTotalMs),
        // A retry minutes later still lands inside the receiver's replay window: each attempt has its own timestamp.
        headers: () => ({
          [SIGNATURE_HEADER]: signatureHeader(secret.signingSecrets, nowSeconds(), raw),
          [DELIVERY_HEADER]: delivery,
          [EVENT_HEADER]: body.event,
          [DEDUP_KEY_HEADER]: body.dedupKey,
        }),
      },
    );
    return { attempts: delivered.attempts, detail: `delivered to webhook ${deps.name} (HTTP ${delivered.status}, signed, ${delivered.attempts} attempt${delivered.attempts === 1 ? '' : 's'})` };
  };
}
