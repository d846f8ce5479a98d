// Adapter: claims (probe region, minute) and (probe region, slot) in the probe region's claims table with one conditional
// put each, so a doubled scheduled delivery or a duplicated rounds-queue message probes once.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { CLAIMS_TABLE } from '../store/tables';
import { silentLogger, type ProbeLogger } from './context';
import type { ConfirmationClaim } from './confirmations';
import type { MinuteClaim, SlotClaim } from './invocation';

/**
 * Claim items live in their own partition with their own kind, as when they shared the results table (a table holding
 * both, as local mode's may, still keeps them out of round queries and the aggregator's stream filter).
 */
export const CLAIM_PARTITION = CLAIMS_TABLE.claimsPartition;
export const CLAIM_KIND = 'claim';
/** Claims only need to outlive the minute; TTL removes them. */
const CLAIM_TTL_SECONDS = 3600;
/** A slot claim only needs to outlive its slot (a late redelivery is dropped before it claims); TTL removes it. */
const SLOT_CLAIM_TTL_SECONDS = 900;

export function claimSortKey(minute: number, probeRegion: string): string {
  return `${String(minute).padStart(10, '0')}#${probeRegion}`;
}

/** A slot's confirmation claim: the targets a probe region confirmed in it, one set per slot. */
export function confirmationClaimSortKey(slot: number, probeRegion: string): string {
  return `confirm#${String(slot).padStart(10, '0')}#${probeRegion}`;
}

/**
 * Prefixed: a slot can be a minute's first second, and its claim must not collide with that minute's claim. A shard of
 * a round that fans out claims its own (slot, shard): the slot's other shards are other invocations' work.
 */
export function slotClaimSortKey(slot: number, probeRegion: string, shard?: number): string {
  return `slot#${String(slot).padStart(10, '0')}#${probeRegion}${shard === undefined ? '' : `#s${String(shard).padStart(3, '0')}`}`;
}

interface ClaimOptions {
  client: DynamoDBDocumentClient;
  /** The probe region's claims table (CLAIMS_TABLE; lib/claims-table.ts). */
  tableName: string;
  logger?: ProbeLogger;
}

/** One conditional put; false if the item exists. A failing store answers true: a lost claim risks a duplicate round, a failed claim must not risk silence. */
async function claim(options: ClaimOptions, sortKey: string, expiresAt: number, attributes: Record<string, unknown>): Promise<boolean> {
  try {
    await options.client.send(
      new PutCommand({
        TableName: options.tableName,
        Item: {
          [CLAIMS_TABLE.partitionKey]: CLAIM_PARTITION,
          [CLAIMS_TABLE.sortKey]: sortKey,
          kind: CLAIM_KIND,
          ...attributes,
          [CLAIMS_TABLE.ttlAttribute]: expiresAt,
        },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': CLAIMS_TABLE.partitionKey },
      }),
    );
    return true;
  } catch (error: unknown) {
    if (error instanceof ConditionalCheckFailedException) return false;
    (options.logger ?? silentLogger).warn('claim failed; probing anyway', { event: 'claim-failed', ...attributes, error: error instanceof Error ? error.name : String(error) });
    return true;
  }
}

/** One write per probe region per minute (a sixth of the round writes at a 10 s interval). */
export function dynamoMinuteClaim(options: ClaimOptions): MinuteClaim {
  return (probeRegion, minute) => claim(options, claimSortKey(minute, probeRegion), minute + CLAIM_TTL_SECONDS, { probeRegion, minute });
}

/**
 * One write per slot (and shard) probed: a duplicated rounds-queue delivery, or a slot two scheduled events' windows
 * both planned, finds the claim and probes nothing.
 */
export function dynamoSlotClaim(options: ClaimOptions): SlotClaim {
  return (probeRegion, slot, shard) => claim(options, slotClaimSortKey(slot, probeRegion, shard), slot + SLOT_CLAIM_TTL_SECONDS, { probeRegion, slot, ...(shard === undefined ? {} : { shard }) });
}

/**
 * One UpdateItem per confirmation request: adds the request's targets to the slot's set (`targets`, a string set) and
 * returns the set as it was, so each target is confirmed by exactly one request per probe region and slot, however
 * many origins ask and however often a request is delivered (updates of one item are serialised). Unlike the round
 * claims, a failing store rejects: a confirmation is extra load, and without the claim its bound cannot be kept.
 */
export function dynamoConfirmationClaim(options: Omit<ClaimOptions, 'logger'>): ConfirmationClaim {
  return async (probeRegion, slot, keys) => {
    if (keys.length === 0) return [];
    const response = await options.client.send(
      new UpdateCommand({
        TableName: options.tableName,
        Key: { [CLAIMS_TABLE.partitionKey]: CLAIM_PARTITION, [CLAIMS_TABLE.sortKey]: confirmationClaimSortKey(slot, probeRegion) },
        UpdateExpression: 'ADD #targets :keys SET #kind = :kind, #ttl = :ttl, probeRegion = :probeRegion, slot = :slot',
        ExpressionAttributeNames: { '#targets': 'targets', '#kind': 'kind', '#ttl': CLAIMS_TABLE.ttlAttribute },
        ExpressionAttributeValues: { ':keys': new Set(keys), ':kind': CLAIM_KIND, ':ttl': slot + SLOT_CLAIM_TTL_SECONDS, ':probeRegion': probeRegion, ':slot': slot },
        ReturnValues: 'UPDATED_OLD',
      }),
    );
    const before = response.Attributes?.targets;
    const had = before instanceof Set ? (before as Set<unknown>) : new Set<unknown>();
    return [...new Set(keys)].filter((k) => !had.has(k));
  };
}
