// Reads the Slack webhook URL from Secrets Manager by secret name, validated, cached for the container's life with a short TTL.
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** How long a read URL is trusted before the secret is read again (so a rotated webhook is picked up). */
export const DEFAULT_WEBHOOK_TTL_MS = 5 * 60_000;

/** The secret could not be read or does not hold a usable webhook URL. The URL itself never appears in the message. */
export class WebhookSecretError extends Error {
  override readonly name = 'WebhookSecretError';
  constructor(
    message: string,
    /** False when someone must fix the secret (missing, malformed, not a Slack URL); true for throttling and outages. */
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
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

/** Reads and caches the webhook URL; concurrent callers share one read. Failures are not cached. */
export class WebhookUrlReader {
  private cached: { url: string; until: number } | undefined;
  private inFlight: Promise<string> | undefined;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(private readonly props: WebhookUrlReaderProps) {
    this.ttlMs = props.ttlMs ?? DEFAULT_WEBHOOK_TTL_MS;
    this.now = props.now ?? Date.now;
  }

  async get(): Promise<string> {
    if (this.cached !== undefined && this.now() < this.cached.until) return this.cached.url;
    this.inFlight ??= this.read().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Forget the cached URL, e.g. after Slack said the webhook is gone, so the next call reads a rotated secret. */
  invalidate(): void {
    this.cached = undefined;
  }

  private async read(): Promise<string> {
    const { client, secretName } = this.props;
    let text: string | undefined;
    try {
      const out = await client.send(new GetSecretValueCommand({ SecretId: secretName }));
      text = out.SecretString ?? (out.SecretBinary !== undefined ? Buffer.from(out.SecretBinary).toString('utf8') : undefined);
    } catch (error: unknown) {
      const name = error instanceof Error ? error.name : 'Error';
      const fixable = ['ResourceNotFoundException', 'AccessDeniedException', 'DecryptionFailure', 'InvalidRequestException', 'InvalidParameterException'].includes(name);
      throw new WebhookSecretError(`could not read secret ${secretName} (${name})`, !fixable, { cause: error });
    }
    if (text === undefined || text.trim() === '') throw new WebhookSecretError(`secret ${secretName} is empty; store the Slack webhook URL in it`, false);
    const url = parseWebhookUrl(text, secretName, this.props);
    this.cached = { url, until: this.now() + this.ttlMs };
    return url;
  }
}
