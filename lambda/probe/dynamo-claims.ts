// Adapter: claims (probe region, minute) in the results table with one conditional put, so a doubled scheduled delivery probes once.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { RESULTS_TABLE } from '../store/tables';
import { silentLogger, type ProbeLogger } from './context';
import type { MinuteClaim } from './invocation';

/** Claim items live in their own partition with their own kind: round queries and the aggregator's stream filter skip them. */
export const CLAIM_PARTITION = 'prober-claims';
export const CLAIM_KIND = 'claim';
/** Claims only need to outlive the minute; TTL removes them. */
const CLAIM_TTL_SECONDS = 3600;

export function claimSortKey(minute: number, probeRegion: string): string {
  return `${String(minute).padStart(10, '0')}#${probeRegion}`;
}

/**
 * One write per probe region per minute (a sixth of the round writes at a 10 s interval). When the claim store
 * fails the prober probes anyway: a lost claim risks a duplicate round, a failed claim must not risk silence.
 */
export function dynamoMinuteClaim(options: { client: DynamoDBDocumentClient; tableName: string; logger?: ProbeLogger }): MinuteClaim {
  const logger = options.logger ?? silentLogger;
  return async (probeRegion, minute) => {
    try {
      await options.client.send(
        new PutCommand({
          TableName: options.tableName,
          Item: {
            [RESULTS_TABLE.partitionKey]: CLAIM_PARTITION,
            [RESULTS_TABLE.sortKey]: claimSortKey(minute, probeRegion),
            [RESULTS_TABLE.kindAttribute]: CLAIM_KIND,
            probeRegion,
            minute,
            [RESULTS_TABLE.ttlAttribute]: minute + CLAIM_TTL_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': RESULTS_TABLE.partitionKey },
        }),
      );
      return true;
    } catch (error: unknown) {
      if (error instanceof ConditionalCheckFailedException) return false;
      logger.warn('minute claim failed; probing anyway', { event: 'claim-failed', probeRegion, minute, error: error instanceof Error ? error.name : String(error) });
      return true;
    }
  };
}
