// Posts a message to a Slack incoming webhook: per-attempt timeout, backoff on 429 (honouring Retry-After) and 5xx, bounded attempts and total time.
import { setTimeout as delay } from 'node:timers/promises';
import { count } from '../core/words';

export interface SlackPostOptions {
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
  /** Seams for tests. */
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  readonly random?: () => number;
}

export type SlackFailureKind = 'rejected' | 'rate-limited' | 'server' | 'network' | 'timeout';

/**
 * A message Slack did not take. `retryable` false means a 4xx other than 429 (bad payload, webhook revoked, channel
 * archived): trying again will not help until someone fixes it. The webhook URL is a secret and never appears here.
 */
export class SlackDeliveryError extends Error {
  override readonly name = 'SlackDeliveryError';
  constructor(
    message: string,
    readonly kind: SlackFailureKind,
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

/** Slack's short error words (`invalid_payload`, `no_service`, `channel_is_archived`), never more than a line. */
async function responseWord(res: Response): Promise<string> {
  try {
    const text = (await res.text()).replace(/\s+/g, ' ').trim();
    return text.slice(0, 120);
  } catch {
    return '';
  }
}

/** Posts `payload` as JSON to `url`; resolves on 2xx, throws `SlackDeliveryError` otherwise. Returns the attempts used. */
export async function postToSlack(url: string, payload: unknown, options: SlackPostOptions = {}): Promise<number> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 4);
  const maxTotalMs = options.maxTotalMs ?? 20_000;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 10_000;
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const body = JSON.stringify(payload);
  const started = now();

  let last: SlackDeliveryError | undefined;
  for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
    const remaining = maxTotalMs - (now() - started);
    const signal = AbortSignal.timeout(Math.max(1, Math.min(timeoutMs, remaining)));
    let waitMs: number;
    try {
      const res = await doFetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal, redirect: 'error' });
      if (res.ok) {
        await res.body?.cancel();
        return attempt;
      }
      const word = await responseWord(res);
      if (res.status === 429) {
        last = new SlackDeliveryError(`Slack rate-limited the webhook (429${word ? `: ${word}` : ''})`, 'rate-limited', true, 429, attempt);
        const retryAfter = parseRetryAfter(res.headers.get('retry-after'), now());
        waitMs = retryAfter ?? backoff(attempt, baseDelayMs, maxDelayMs, random);
        if (retryAfter !== undefined && retryAfter > maxDelayMs) {
          // Slack asks for longer than we may wait: hand it back to SNS's retries rather than block the Lambda.
          throw new SlackDeliveryError(`${last.message}; Retry-After ${Math.round(retryAfter / 1000)} s exceeds the ${maxDelayMs} ms wait bound`, 'rate-limited', true, 429, attempt);
        }
      } else if (res.status >= 500) {
        last = new SlackDeliveryError(`Slack answered ${res.status}${word ? ` (${word})` : ''}`, 'server', true, res.status, attempt);
        waitMs = backoff(attempt, baseDelayMs, maxDelayMs, random);
      } else {
        throw new SlackDeliveryError(`Slack rejected the message with ${res.status}${word ? ` (${word})` : ''}; not retrying`, 'rejected', false, res.status, attempt);
      }
    } catch (error: unknown) {
      if (error instanceof SlackDeliveryError) throw error;
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      const reason = timedOut ? `no answer within ${timeoutMs} ms` : networkReason(error);
      last = new SlackDeliveryError(`Slack webhook unreachable: ${reason}`, timedOut ? 'timeout' : 'network', true, undefined, attempt, { cause: error });
      waitMs = backoff(attempt, baseDelayMs, maxDelayMs, random);
    }
    if (attempt === maxAttempts) break;
    if (now() - started + waitMs >= maxTotalMs) {
      throw new SlackDeliveryError(`${last.message}; gave up after ${count(attempt, 'attempt')}: the next try would pass the ${maxTotalMs} ms budget`, last.kind, true, last.status, attempt, {
        cause: last.cause,
      });
    }
    await sleep(waitMs);
  }
  const final = last ?? new SlackDeliveryError('Slack delivery failed', 'network', true, undefined, maxAttempts);
  throw new SlackDeliveryError(`${final.message}; gave up after ${maxAttempts} attempts`, final.kind, true, final.status, maxAttempts, { cause: final.cause });
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
