// Adapter: the confirmation transport on AWS. A request travels on the probe region's rounds queue (lib/prober.ts: a
// queue of its own would cost its idle long polls); a prober sends a request to every probe region's queue (its own
// too) with one SendMessage, across regions to the other queues.
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ConfirmationRequest } from '../core/confirmation';
import type { ConfirmationTransport } from './confirmations';

/** A transport for a probe region the deployment has no queue for: the config and the stacks disagree. */
export class UnknownConfirmationQueueError extends Error {
  override readonly name = 'UnknownConfirmationQueueError';
}

/**
 * Sends each request as one message (JSON, a few KB: a round asks about at most `probing.concurrency` targets) to the
 * queue of the probe region it is for, with that region's client: SQS takes a message at the queue's own regional
 * endpoint. A rejection is the caller's to log; nothing is retried (a late confirmation is worthless, the rounds go on).
 */
export function sqsConfirmationTransport(options: { queueUrls: Readonly<Record<string, string>>; clientFor: (probeRegion: string) => SQSClient }): ConfirmationTransport {
  return {
    async send(probeRegion: string, request: ConfirmationRequest): Promise<void> {
      const queueUrl = options.queueUrls[probeRegion];
      if (queueUrl === undefined) throw new UnknownConfirmationQueueError(`no queue for confirmation requests to probe region ${probeRegion}`);
      await options.clientFor(probeRegion).send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(request) }));
    },
  };
}

/** The placeholder of CONFIRMATIONS_QUEUE_URL that each probe region's name replaces. */
export const REGION_PLACEHOLDER = '{region}';

/** Each probe region's queue URL for confirmation requests from the CONFIRMATIONS_QUEUE_URL template (`…sqs.{region}…`). */
export function queueUrlsFrom(template: string, probeRegions: readonly string[]): Record<string, string> {
  return Object.fromEntries(probeRegions.map((r) => [r, template.split(REGION_PLACEHOLDER).join(r)]));
}
