// Adapter: hands a minute's later rounds to the rounds queue, each message delayed to its slot's start.
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { silentLogger, type ProbeLogger } from './context';
import type { RoundEnqueuer } from './invocation';
import type { QueuedRound, RoundMessage } from './scheduling';

/** SQS takes at most 10 entries per SendMessageBatch; a 5 s or 6 s interval queues 11 or 9 rounds a minute. */
export const SEND_BATCH_LIMIT = 10;

/** `items` in consecutive groups of at most `size`. */
export function inBatches<T>(items: readonly T[], size = SEND_BATCH_LIMIT): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}

/** The batch entry id of a round message: unique per slot and shard among a minute's messages. */
const entryId = (m: RoundMessage): string => (m.shard === undefined ? `slot-${m.slot}` : `slot-${m.slot}-shard-${m.shard}`);

/**
 * One SendMessageBatch per 10 round messages (one at intervals of 6 s and up, two at 5 s, more when rounds fan out
 * over shards: one message per shard). Entries SQS refuses, and every entry of a batch whose call fails, come back as
 * failed messages: the caller runs those itself.
 */
export function sqsRoundEnqueuer(options: { client: SQSClient; queueUrl: string; logger?: ProbeLogger }): RoundEnqueuer {
  const logger = options.logger ?? silentLogger;
  return async (rounds: readonly QueuedRound[]) => {
    const failed: RoundMessage[] = [];
    for (const batch of inBatches(rounds)) {
      const byId = new Map(batch.map((round) => [entryId(round.message), round.message]));
      try {
        const response = await options.client.send(
          new SendMessageBatchCommand({
            QueueUrl: options.queueUrl,
            Entries: batch.map((round) => ({ Id: entryId(round.message), MessageBody: JSON.stringify(round.message), DelaySeconds: round.delaySeconds })),
          }),
        );
        for (const entry of response.Failed ?? []) {
          const message = entry.Id === undefined ? undefined : byId.get(entry.Id);
          if (message !== undefined) failed.push(message);
          logger.error('the rounds queue refused a round', { event: 'enqueue-refused', slot: message?.slot, shard: message?.shard, code: entry.Code, senderFault: entry.SenderFault });
        }
      } catch (error: unknown) {
        failed.push(...byId.values());
        logger.error('sending rounds to the queue failed', { event: 'enqueue-failed', slots: [...new Set([...byId.values()].map((m) => m.slot))], error: error instanceof Error ? error.name : String(error) });
      }
    }
    return { failed };
  };
}
