// What every notifier Lambda subscribed to the topic does (Slack, PagerDuty, signed webhooks): each SNS record's body
// is read back, a double already delivered by this container is dropped, the channel delivers it within the time the
// invocation has left, and any failure makes the invocation throw so SNS/Lambda retry it and, at last, the DLQ keeps it.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SNSEvent } from 'aws-lambda';
import type { NotificationBody } from '../core/notification';
import { count } from '../core/words';
import { parseNotificationBody } from './parse-body';

/** The part of Powertools' Logger the notifiers use; tests pass their own. */
export type NotifierLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

/** What a channel did with one notification, in one line (for the log and `regionwatch notify test`). */
export interface ChannelDelivery {
  attempts: number;
  detail: string;
}

export interface DeliveryOutcome {
  messageId: string;
  dedupKey: string;
  detail: string;
}

export interface NotifierOutcome {
  delivered: number;
  skipped: number;
  duplicates: number;
  /** One line per delivered notification. */
  deliveries: DeliveryOutcome[];
}

/** Some records could not be delivered: thrown so SNS retries the invocation and, in the end, the DLQ keeps it. */
export class ChannelNotifierError extends Error {
  override readonly name: string = 'ChannelNotifierError';
  constructor(
    message: string,
    readonly failedMessageIds: string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ChannelNotifierDeps {
  /** `Slack`, `PagerDuty oncall`, `webhook opsgenie`: how the logs and errors name the channel. */
  readonly channel: string;
  readonly logger: NotifierLogger;
  /** Delivers one notification within `maxTotalMs`, throwing a typed error when it cannot. */
  readonly deliver: (body: NotificationBody, subject: string | undefined, bounds: { maxTotalMs: number }) => Promise<ChannelDelivery>;
  /** Called with each delivery failure (say, to forget a revoked secret). */
  readonly onFailure?: (error: unknown) => void;
  /** Upper bound on one delivery's retries, in ms. Default 20000; never more than the invocation has left. */
  readonly maxPostMs?: number;
  readonly now?: () => number;
  /** How many delivered dedupKeys this container remembers, to drop a double it already delivered. Default 500. */
  readonly rememberKeys?: number;
  /** The error class a failed invocation throws. Default ChannelNotifierError. */
  readonly error?: new (message: string, failedMessageIds: string[], options?: { cause?: unknown }) => ChannelNotifierError;
}

/** Kept free at the end of an invocation, so a give-up is logged and thrown before Lambda's timeout kills it. */
const END_MARGIN_MS = 1_500;

/**
 * Returns the notifier; call it with the event and, in Lambda, the time the invocation has left
 * (`context.getRemainingTimeInMillis()`), so retries towards the channel end before the function's timeout.
 */
export function createChannelNotifier(deps: ChannelNotifierDeps): (event: SNSEvent, remainingMs?: number) => Promise<NotifierOutcome> {
  const now = deps.now ?? Date.now;
  const maxPostMs = deps.maxPostMs ?? 20_000;
  const limit = deps.rememberKeys ?? 500;
  const Failure = deps.error ?? ChannelNotifierError;
  const delivered = new Set<string>();
  const remember = (key: string) => {
    delivered.add(key);
    if (delivered.size > limit) {
      const oldest = delivered.values().next();
      if (oldest.done !== true) delivered.delete(oldest.value);
    }
  };

  return async (event: SNSEvent, remainingMs?: number) => {
    const deadline = remainingMs !== undefined ? now() + remainingMs - END_MARGIN_MS : undefined;
    const outcome: NotifierOutcome = { delivered: 0, skipped: 0, duplicates: 0, deliveries: [] };
    const failures: Array<{ messageId: string; error: unknown }> = [];
    for (const record of event.Records ?? []) {
      const sns = record.Sns;
      const messageId = sns?.MessageId ?? 'unknown';
      const parsed = parseNotificationBody(typeof sns?.Message === 'string' ? sns.Message : '');
      if (!parsed.ok) {
        deps.logger.warn('skipping an SNS message that is not a regionwatch notification', { messageId, reason: parsed.reason });
        outcome.skipped += 1;
        continue;
      }
      const { body } = parsed;
      if (delivered.has(body.dedupKey)) {
        deps.logger.info(`dropping a notification this container already delivered to ${deps.channel}`, { messageId, dedupKey: body.dedupKey });
        outcome.duplicates += 1;
        continue;
      }
      try {
        const maxTotalMs = Math.max(1, deadline === undefined ? maxPostMs : Math.min(maxPostMs, deadline - now()));
        const done = await deps.deliver(body, sns.Subject ?? undefined, { maxTotalMs });
        remember(body.dedupKey);
        outcome.delivered += 1;
        outcome.deliveries.push({ messageId, dedupKey: body.dedupKey, detail: done.detail });
        deps.logger.info(`delivered to ${deps.channel}`, { messageId, dedupKey: body.dedupKey, event: body.event, region: body.region, severity: body.severity, attempts: done.attempts, detail: done.detail });
      } catch (error: unknown) {
        deps.onFailure?.(error);
        deps.logger.error(`could not deliver to ${deps.channel}`, {
          messageId,
          dedupKey: body.dedupKey,
          error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
        });
        failures.push({ messageId, error });
      }
    }
    if (failures.length > 0) {
      const first = failures[0]?.error;
      throw new Failure(
        `${count(failures.length, 'notification')} not delivered to ${deps.channel}: ${first instanceof Error ? first.message : String(first)}`,
        failures.map((f) => f.messageId),
        { cause: first },
      );
    }
    return outcome;
  };
}
