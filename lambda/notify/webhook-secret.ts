// Reads the Slack webhook URL from Secrets Manager by secret name, validated, cached for the container's life with a short TTL.
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CachedSecret, ChannelSecretError, DEFAULT_SECRET_TTL_MS } from './channel-secret';

/** How long a read URL is trusted before the secret is read again (so a rotated webhook is picked up). */
export const DEFAULT_WEBHOOK_TTL_MS = DEFAULT_SECRET_TTL_MS;

/** The secret could not be read or does not hold a usable Slack webhook URL. The URL itself never appears in the message. */
export class WebhookSecretError extends ChannelSecretError {
  override readonly name = 'WebhookSecretError';
}

export interface WebhookUrlOptions {
  /** Accept `http://127.0.0.1:PORT/...` as well: local mode and tests only. */
  readonly allowLoopback?: boolean;
}

/**
 * Accepts the secret's text as a plain URL or as JSON `{"url": "..."}` and returns the validated URL: it must be
 * `https://hooks.slack.com/...`, or, when explicitly allowed, `http://127.0.0.1...`. Throws `WebhookSecretError`.
 */
export function parseWebhookUrl(secretText: string, secretName: string, options: WebhookUrlOptions = {}): string {
  const text = secretText.trim();
  let candidate: unknown = text;
  if (text.startsWith('{')) {
    try {
      candidate = (JSON.parse(text) as Record<string, unknown>).url;
    } catch {
      throw new WebhookSecretError(`secret ${secretName} looks like JSON but does not parse; store the webhook URL or {"url": "https://hooks.slack.com/..."}`, false);
    }
    if (typeof candidate !== 'string') throw new WebhookSecretError(`secret ${secretName} is JSON without a string "url" key; store {"url": "https://hooks.slack.com/..."}`, false);
  }
  const raw = String(candidate).trim();
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookSecretError(`secret ${secretName} does not hold a URL; store the Slack webhook URL (https://hooks.slack.com/...)`, false);
  }
  const slack = url.protocol === 'https:' && url.hostname === 'hooks.slack.com' && url.port === '' && url.username === '' && url.password === '' && url.pathname.length > 1;
  const loopback = options.allowLoopback === true && url.protocol === 'http:' && url.hostname === '127.0.0.1';
  if (!slack && !loopback) {
    throw new WebhookSecretError(
      `secret ${secretName} holds a URL on ${url.protocol}//${url.host}, not a Slack incoming webhook; expected https://hooks.slack.com/...`,
      false,
    );
  }
  return url.toString();
}

export interface WebhookUrlReaderProps extends WebhookUrlOptions {
  readonly client: SecretsManagerClient;
  /** The secret's name or ARN (config `notifications.slackWebhookSecretName`). */
  readonly secretName: string;
  readonly ttlMs?: number;
  readonly now?: () => number;
}

/** Reads and caches the Slack webhook URL; concurrent callers share one read. Failures are not cached. */
export class WebhookUrlReader extends CachedSecret<string> {
  constructor(props: WebhookUrlReaderProps) {
    super({ ...props, parse: (text, name) => parseWebhookUrl(text, name, props), error: WebhookSecretError });
  }
}
