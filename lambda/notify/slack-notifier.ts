// The Slack notifier's logic, wired by the handler: each SNS record becomes one Block Kit post (the shared channel
// notifier does the rest: skipping what it cannot read, dropping doubles, failing the invocation on a failure).
import type { SNSEvent } from 'aws-lambda';
import type { NotificationBody } from '../core/notification';
import { ChannelNotifierError, createChannelNotifier, type ChannelDelivery, type NotifierLogger, type NotifierOutcome } from './channel-notifier';
import { slackMessage } from './slack-blocks';
import { postToSlack, SlackDeliveryError } from './slack-client';

export type { NotifierLogger, NotifierOutcome } from './channel-notifier';

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
export class SlackNotifierError extends ChannelNotifierError {
  override readonly name = 'SlackNotifierError';
}

/** Slack answers these when a webhook was revoked or its channel removed: read the secret afresh next time. */
const GONE = new Set([403, 404, 410]);

/** The delivery function of the Slack channel (the Lambda's and local mode's). */
export function slackDelivery(deps: Pick<SlackNotifierDeps, 'webhookUrl' | 'post'>): (body: NotificationBody, subject: string | undefined, bounds: { maxTotalMs: number }) => Promise<ChannelDelivery> {
  const post = deps.post ?? ((url: string, payload: unknown, bounds: { maxTotalMs: number }) => postToSlack(url, payload, bounds));
  return async (body, subject, bounds) => {
    const attempts = await post(await deps.webhookUrl.get(), slackMessage(body, subject), bounds);
    return { attempts, detail: `posted to Slack (${attempts} attempt${attempts === 1 ? '' : 's'})` };
  };
}

export function createSlackNotifier(deps: SlackNotifierDeps): (event: SNSEvent, remainingMs?: number) => Promise<NotifierOutcome> {
  return createChannelNotifier({
    channel: 'Slack',
    logger: deps.logger,
    error: SlackNotifierError,
    ...(deps.maxPostMs !== undefined ? { maxPostMs: deps.maxPostMs } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.rememberKeys !== undefined ? { rememberKeys: deps.rememberKeys } : {}),
    deliver: slackDelivery(deps),
    onFailure: (error) => {
      if (error instanceof SlackDeliveryError && error.status !== undefined && GONE.has(error.status)) deps.webhookUrl.invalidate();
    },
  });
}
