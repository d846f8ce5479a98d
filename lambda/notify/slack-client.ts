// Posts a message to a Slack incoming webhook, with the delivery rules every channel shares (lambda/notify/http-delivery.ts).
import { DeliveryError, postJson, type DeliveryFailureKind, type PostOptions } from './http-delivery';

export { parseRetryAfter } from './http-delivery';
export type SlackPostOptions = PostOptions;
export type SlackFailureKind = DeliveryFailureKind;

/** A message Slack did not take (see DeliveryError); the webhook URL never appears in it. */
export class SlackDeliveryError extends DeliveryError {
  override readonly name = 'SlackDeliveryError';
}

const SLACK = { label: 'Slack', error: SlackDeliveryError } as const;

/** Posts `payload` as JSON to `url`; resolves on 2xx, throws `SlackDeliveryError` otherwise. Returns the attempts used. */
export async function postToSlack(url: string, payload: unknown, options: SlackPostOptions = {}): Promise<number> {
  return (await postJson(url, payload, SLACK, options)).attempts;
}
