// A channel's secret (a Slack webhook URL, a PagerDuty routing key, a webhook's URL and signing secret), read by name
// from Secrets Manager and cached with a short TTL; or, in local mode (no Secrets Manager), from a local secrets file.
import { readFileSync } from 'node:fs';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** How long a read secret is trusted before it is read again (so a rotated secret is picked up). */
export const DEFAULT_SECRET_TTL_MS = 5 * 60_000;

/** A secret that could not be read or does not hold what its channel needs. The secret's value never appears in it. */
export class ChannelSecretError extends Error {
  override readonly name: string = 'ChannelSecretError';
  constructor(
    message: string,
    /** False when someone must fix the secret (missing, malformed, denied); true for throttling and outages. */
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Turns a secret's text into what the channel needs, or throws a ChannelSecretError naming the secret and the fix. */
export type SecretParser<T> = (secretText: string, secretName: string) => T;

/** Where a channel gets its secret: the cache over Secrets Manager, or the local secrets file. */
export interface SecretSource<T> {
  get(): Promise<T>;
  /** Forget a cached value (the channel said it was revoked), so the next get reads it afresh. */
  invalidate(): void;
}

type SecretErrorClass = new (message: string, retryable: boolean, options?: { cause?: unknown }) => ChannelSecretError;

export interface CachedSecretProps<T> {
  readonly client: SecretsManagerClient;
  /** The secret's name or ARN (from the config). */
  readonly secretName: string;
  readonly parse: SecretParser<T>;
  readonly ttlMs?: number;
  readonly now?: () => number;
  /** The error class read failures are thrown as. Default ChannelSecretError. */
  readonly error?: SecretErrorClass;
}

const FIXABLE = new Set(['ResourceNotFoundException', 'AccessDeniedException', 'DecryptionFailure', 'InvalidRequestException', 'InvalidParameterException']);

/** Reads and caches a secret; concurrent callers share one read. Failures are not cached. */
export class CachedSecret<T> implements SecretSource<T> {
  private cached: { value: T; until: number } | undefined;
  private inFlight: Promise<T> | undefined;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(private readonly props: CachedSecretProps<T>) {
    this.ttlMs = props.ttlMs ?? DEFAULT_SECRET_TTL_MS;
    this.now = props.now ?? Date.now;
  }

  async get(): Promise<T> {
    if (this.cached !== undefined && this.now() < this.cached.until) return this.cached.value;
    this.inFlight ??= this.read().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  private async read(): Promise<T> {
    const { client, secretName } = this.props;
    const Failure = this.props.error ?? ChannelSecretError;
    let text: string | undefined;
    try {
      const out = await client.send(new GetSecretValueCommand({ SecretId: secretName }));
      text = out.SecretString ?? (out.SecretBinary !== undefined ? Buffer.from(out.SecretBinary).toString('utf8') : undefined);
    } catch (error: unknown) {
      const name = error instanceof Error ? error.name : 'Error';
      throw new Failure(`could not read secret ${secretName} (${name})`, !FIXABLE.has(name), { cause: error });
    }
    if (text === undefined || text.trim() === '') throw new Failure(`secret ${secretName} is empty`, false);
    const value = this.props.parse(text, secretName);
    this.cached = { value, until: this.now() + this.ttlMs };
    return value;
  }
}

/**
 * Local mode's stand-in for Secrets Manager: a JSON file mapping secret names to their values (a string, or an object
 * stored as its JSON text), so the same config works on this machine. Keep it out of version control.
 */
export class LocalSecretsFile {
  private readonly values: Record<string, unknown>;

  constructor(readonly path: string | null) {
    this.values = {};
    if (path === null) return;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error: unknown) {
      const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'error';
      if (code === 'ENOENT') return;
      throw new ChannelSecretError(`cannot read the local secrets file ${path} (${code})`, false, { cause: error });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ChannelSecretError(`the local secrets file ${path} is not JSON; write {"<secret name>": "<value>", ...}`, false);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ChannelSecretError(`the local secrets file ${path} must be a JSON object: {"<secret name>": "<value>", ...}`, false);
    }
    this.values = parsed as Record<string, unknown>;
  }

  has(secretName: string): boolean {
    return this.values[secretName] !== undefined;
  }

  /** The secret as a source, parsed like the Lambda parses it. */
  source<T>(secretName: string, parse: SecretParser<T>): SecretSource<T> {
    const value = this.values[secretName];
    const where = this.path ?? 'the local secrets file';
    return {
      get: async () => {
        if (value === undefined) throw new ChannelSecretError(`secret ${secretName} is not in ${where}; add "${secretName}": ... to it`, false);
        return parse(typeof value === 'string' ? value : JSON.stringify(value), secretName);
      },
      invalidate: () => undefined,
    };
  }
}
