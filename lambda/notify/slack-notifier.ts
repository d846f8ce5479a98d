// The Slack notifier's logic, wired by the handler: each SNS record becomes one Block Kit post; what it cannot read it skips.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SNSEvent } from 'aws-lambda';
import { count } from '../core/words';
import { parseNotificationBody } from './parse-body';
import { slackMessage } from './slack-blocks';
import { postToSlack, SlackDeliveryError } from './slack-client';

/** The part of Powertools' Logger the notifier uses; tests pass their own. */
export type NotifierLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

export interface SlackNotifierDeps {
  /** Where the webhook URL comes from (a `WebhookUrlReader`). */
  readonly webhookUrl: { get(): Promise<string>; invalidate(): void };
  readonly logger: NotifierLogger;
  /** Posts one payload within `maxTotalMs`; defaults to `postToSlack`. */
  readonly post?: (url: string, payload: unknown, bounds: { maxTotalMs: number }) => Promise<number>;
  /** Upper bound on one post's retries, in ms. Default 20000; never more than the invocation has left. */
  readonly maxPostMs?: number;
  readonly now?: () => number;
  /** How many delivered dedupKeys this container remembers, to drop a double it already posted. Default 500. */
  readonly rememberKeys?: number;
}

/** Some records could not be delivered: thrown so SNS retries the invocation and, in the end, the DLQ keeps it. */
export class SlackNotifierError extends Error {
  override readonly name = 'SlackNotifierError';
  constructor(
    message: string,
    readonly failedMessageIds: string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface NotifierOutcome {
  delivered: number;
  skipped: number;
  duplicates: number;
}

/** Slack answers these when a webhook was revoked or its channel removed: read the secret afresh next time. */
const GONE = new Set([403, 404, 410]);

/** Kept free at the end of an invocation, so a give-up is logged and thrown before Lambda's timeout kills it. */
const END_MARGIN_MS = 1_500;

/**
 * Returns the notifier; call it with the event and, in Lambda, the time the invocation has left
 * (`context.getRemainingTimeInMillis()`), so retries towards Slack end before the function's timeout.
 */
export function createSlackNotifier(deps: SlackNotifierDeps): (event: SNSEvent, remainingMs?: number) => Promise<NotifierOutcome> {
  const post = deps.post ?? ((url: string, payload: unknown, bounds: { maxTotalMs: number }) => postToSlack(url, payload, bounds));
  const now = deps.now ?? Date.now;
  const maxPostMs = deps.maxPostMs ?? 20_000;
  const limit = deps.rememberKeys ?? 500;
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
    const outcome: NotifierOutcome = { delivered: 0, skipped: 0, duplicates: 0 };
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
        deps.logger.info('dropping a notification this container already posted', { messageId, dedupKey: body.dedupKey });
        outcome.duplicates += 1;
        continue;
      }
      try {
        const url = await deps.webhookUrl.get();
        const maxTotalMs = Math.max(1, deadline === undefined ? maxPostMs : Math.min(maxPostMs, deadline - now()));
        const attempts = await post(url, slackMessage(body, sns.Subject ?? undefined), { maxTotalMs });
        remember(body.dedupKey);
        outcome.delivered += 1;
        deps.logger.info('posted to Slack', { messageId, dedupKey: body.dedupKey, event: body.event, region: body.region, severity: body.severity, attempts });
      } catch (error: unknown) {
        if (error instanceof SlackDeliveryError && error.status !== undefined && GONE.has(error.status)) deps.webhookUrl.invalidate();
        deps.logger.error('could not post to Slack', {
          messageId,
          dedupKey: body.dedupKey,
          error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
        });
        failures.push({ messageId, error });
      }
    }
    if (failures.length > 0) {
      const first = failures[0]?.error;
      throw new SlackNotifierError(
        `${count(failures.length, 'notification')} not posted to Slack: ${first instanceof Error ? first.message : String(first)}`,
        failures.map((f) => f.messageId),
        { cause: first },
      );
    }
    return outcome;
  };
}
