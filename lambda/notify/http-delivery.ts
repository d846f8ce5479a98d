// Posts JSON to a notification channel (Slack, PagerDuty, a webhook): per-attempt timeout, backoff on 429 (honouring
// Retry-After) and 5xx, bounded attempts and total time. The channel's URL may be a secret and never appears in an error.
import { setTimeout as delay } from 'node:timers/promises';
import { count } from '../core/words';
import { USER_AGENT } from '../version';

export interface PostOptions {
  /** Per-attempt timeout. Default 5000 ms. */
  readonly timeoutMs?: number;
  /** Attempts in all, the first included. Default 4. */
  readonly maxAttempts?: number;
  /** Give up when the next wait would end after this much time since the first attempt. Default 20000 ms (keep the Lambda timeout above it). */
  readonly maxTotalMs?: number;
  /** First backoff after a 5xx or a network failure; doubled each time, with jitter. Default 500 ms. */
  readonly baseDelayMs?: number;
  /** Upper bound on one wait, Retry-After included. Default 10000 ms. */
  readonly maxDelayMs?: number;
  /** Headers per attempt (a webhook signs each attempt with its own timestamp). */
  readonly headers?: (attempt: number) => Record<string, string>;
  /** Seams for tests. */
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  readonly random?: () => number;
}

export type DeliveryFailureKind = 'rejected' | 'rate-limited' | 'server' | 'network' | 'timeout';

/**
 * A message a channel did not take. `retryable` false means a 4xx other than 429 (bad payload, key or webhook revoked):
 * trying again will not help until someone fixes it. The channel's URL is a secret and never appears here.
 */
export class DeliveryError extends Error {
  override readonly name: string = 'DeliveryError';
  constructor(
    message: string,
    readonly kind: DeliveryFailureKind,
    readonly retryable: boolean,
    /** The last HTTP status, when there was a response. */
    readonly status: number | undefined,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Seconds or an HTTP date, as Retry-After allows; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Most bytes of a response read: channels answer a line or a small JSON object. */
const MAX_RESPONSE_BYTES = 4096;

/** The response's text, cut at MAX_RESPONSE_BYTES. */
async function responseText(res: Response): Promise<string> {
  try {
    const reader = res.body?.getReader();
    if (!reader) return '';
    const chunks: Uint8Array[] = [];
    let size = 0;
    // Bounded by MAX_RESPONSE_BYTES.
    while (size < MAX_RESPONSE_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
    await reader.cancel().catch(() => undefined);
    return Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8');
  } catch {
    return '';
  }
}

/** A channel's short error words (`invalid_payload`, `no_service`, a JSON error), never more than a line. */
function responseWord(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 120);
}

export interface Delivered {
  /** Attempts used, the first included. */
  attempts: number;
  status: number;
  /** The response body (at most 4 KB). */
  body: string;
}

/** How a channel is named in errors, and the error class it throws. */
export interface Channel {
  /** `Slack`, `PagerDuty`, `webhook opsgenie`. */
  readonly label: string;
  readonly error?: new (...args: ConstructorParameters<typeof DeliveryError>) => DeliveryError;
}

/** Posts `payload` as JSON to `url`; resolves on 2xx, throws the channel's `DeliveryError` otherwise. */
export async function postJson(url: string, payload: unknown, channel: Channel, options: PostOptions = {}): Promise<Delivered> {
  const { label } = channel;
  const Failure = channel.error ?? DeliveryError;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 4);
  const maxTotalMs = options.maxTotalMs ?? 20_000;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 10_000;
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  // A string is sent as it is (a signed body must be the exact bytes signed).
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const started = now();

  let last: DeliveryError | undefined;
  for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
    const remaining = maxTotalMs - (now() - started);
    const signal = AbortSignal.timeout(Math.max(1, Math.min(timeoutMs, remaining)));
    let waitMs: number;
    try {
      const headers = { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...options.headers?.(attempt) };
      const res = await doFetch(url, { method: 'POST', headers, body, signal, redirect: 'error' });
      const text = await responseText(res);
      if (res.ok) return { attempts: attempt, status: res.status, body: text };
      const word = responseWord(text);
      if (res.status === 429) {
        last = new Failure(`${label} rate-limited the request (429${word ? `: ${word}` : ''})`, 'rate-limited', true, 429, attempt);
        const retryAfter = parseRetryAfter(res.headers.get('retry-after'), now());
        waitMs = retryAfter ?? backoff(attempt, baseDelayMs, maxDelayMs, random);
        if (retryAfter !== undefined && retryAfter > maxDelayMs) {
          // The channel asks for longer than we may wait: hand it back to SNS's retries rather than block the Lambda.
          throw new Failure(`${last.message}; Retry-After ${Math.round(retryAfter / 1000)} s exceeds the ${maxDelayMs} ms wait bound`, 'rate-limited', true, 429, attempt);
        }
      } else if (res.status >= 500) {
        last = new Failure(`${label} answered ${res.status}${word ? ` (${word})` : ''}`, 'server', true, res.status, attempt);
        waitMs = backoff(attempt, baseDelayMs, maxDelayMs, random);
      } else {
        throw new Failure(`${label} rejected the message with ${res.status}${word ? ` (${word})` : ''}; not retrying`, 'rejected', false, res.status, attempt);
      }
    } catch (error: unknown) {
      if (error instanceof DeliveryError) throw error;
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      const reason = timedOut ? `no answer within ${timeoutMs} ms` : networkReason(error);
      last = new Failure(`${label} unreachable: ${reason}`, timedOut ? 'timeout' : 'network', true, undefined, attempt, { cause: error });
      waitMs = backoff(attempt, baseDelayMs, maxDelayMs, random);
    }
    if (attempt === maxAttempts) break;
    if (now() - started + waitMs >= maxTotalMs) {
      throw new Failure(`${last.message}; gave up after ${count(attempt, 'attempt')}: the next try would pass the ${maxTotalMs} ms budget`, last.kind, true, last.status, attempt, {
        cause: last.cause,
      });
    }
    await sleep(waitMs);
  }
  const final = last ?? new Failure(`${label} delivery failed`, 'network', true, undefined, maxAttempts);
  throw new Failure(`${final.message}; gave up after ${count(maxAttempts, 'attempt')}`, final.kind, true, final.status, maxAttempts, { cause: final.cause });
}

/** Exponential backoff with full jitter over the upper half: base·2^(n-1) · [0.5, 1), capped. */
function backoff(attempt: number, baseMs: number, capMs: number, random: () => number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling * (0.5 + random() / 2));
}

/** The system error code (ECONNREFUSED, ...) of a fetch failure, without the URL it carried. */
function networkReason(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string') return cause.code;
  return error instanceof Error ? error.name : 'unknown error';
}
