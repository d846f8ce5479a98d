// Adapter: hands a minute's later rounds to the rounds queue, each message delayed to its slot's start.
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { silentLogger, type ProbeLogger } from './context';
import type { RoundEnqueuer } from './invocation';
import type { QueuedRound } from './scheduling';

/** SQS takes at most 10 entries per SendMessageBatch; a 5 s or 6 s interval queues 11 or 9 rounds a minute. */
export const SEND_BATCH_LIMIT = 10;

/** `items` in consecutive groups of at most `size`. */
export function inBatches<T>(items: readonly T[], size = SEND_BATCH_LIMIT): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}

/**
 * One SendMessageBatch per 10 rounds (one at intervals of 6 s and up, two at 5 s). Entries SQS refuses, and
 * every entry of a batch whose call fails, come back as failed slots: the caller runs those itself.
 */
export function sqsRoundEnqueuer(options: { client: SQSClient; queueUrl: string; logger?: ProbeLogger }): RoundEnqueuer {
  const logger = options.logger ?? silentLogger;
  return async (rounds: readonly QueuedRound[]) => {
    const failed: number[] = [];
    for (const batch of inBatches(rounds)) {
      const bySlotId = new Map(batch.map((round) => [`slot-${round.message.slot}`, round.message.slot]));
      try {
        const response = await options.client.send(
          new SendMessageBatchCommand({
            QueueUrl: options.queueUrl,
            Entries: batch.map((round) => ({ Id: `slot-${round.message.slot}`, MessageBody: JSON.stringify(round.message), DelaySeconds: round.delaySeconds })),
          }),
        );
        for (const entry of response.Failed ?? []) {
          const slot = entry.Id === undefined ? undefined : bySlotId.get(entry.Id);
          if (slot !== undefined) failed.push(slot);
          logger.error('the rounds queue refused a round', { event: 'enqueue-refused', slot, code: entry.Code, senderFault: entry.SenderFault });
        }
      } catch (error: unknown) {
        failed.push(...bySlotId.values());
        logger.error('sending rounds to the queue failed', { event: 'enqueue-failed', slots: [...bySlotId.values()], error: error instanceof Error ? error.name : String(error) });
      }
    }
    return { failed };
  };
}
