// The incident table: incidents, one current-status item per platform region, the checker's item and the aggregator's
// lease. Every write is one conditional Put on one item with a version: no transactions, so dynalite runs it too.
//
// Item layout (keys agreed in tables.ts; docs/aggregator.md shows example queries):
//   pk = region#<region>  sk = incident#<seq, 5 digits>  kind = incident   (+ incidentRegion, openedAt; openKey while open)
//   pk = region#<region>  sk = status                    kind = status
//   pk = checker          sk = status                    kind = checker
//   pk = lease            sk = aggregator                kind = lease
// 'status' sorts after 'incident#…', so one descending Query of a region's partition returns its status item
// and its newest incidents.
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { CheckerRecord } from '../core/checker';
import type { IncidentRecord, RegionStatusRecord } from '../core/incident-record';
import { INCIDENTS_TABLE } from './tables';

/** The aggregator's lease: who acts, until when. `holder` null marks a vacancy seen by a standby (its clock starts the wait). */
export interface LeaseRecord {
  holder: string | null;
  /** Epoch milliseconds. */
  expiresAt: number;
  acquiredAt: number;
  version: number;
}

/** A region's partition read in one Query: its status and its newest incidents, newest first. */
export interface RegionState {
  status: RegionStatusRecord | null;
  /** Newest first: at most INCIDENTS_PER_READ. */
  incidents: IncidentRecord[];
}

/** How many incidents a region read returns: the newest and the one before (whose outbox may still owe a page). */
export const INCIDENTS_PER_READ = 2;

/**
 * What the aggregator needs from the incident table. Both implementations (DynamoDB here, memory for the simulator)
 * have the same semantics: `put*` writes `version = expected + 1` (1 when `expected` is null) only if the stored
 * version is `expected` (absent when null), and returns false instead when it is not.
 */
export interface IncidentStore {
  readRegion(region: string): Promise<RegionState>;
  getIncident(region: string, seq: number): Promise<IncidentRecord | null>;
  putIncident(record: IncidentRecord, expected: number | null): Promise<boolean>;
  putStatus(record: RegionStatusRecord, expected: number | null): Promise<boolean>;
  readChecker(): Promise<CheckerRecord | null>;
  putChecker(record: CheckerRecord, expected: number | null): Promise<boolean>;
  readLease(): Promise<LeaseRecord | null>;
  putLease(record: LeaseRecord, expected: number | null): Promise<boolean>;
  /** Every open incident (the sparse `open-incidents` index), oldest first. */
  openIncidents(): Promise<IncidentRecord[]>;
  /** Incidents of a region opened in [fromIso, toIso] (the `region-incidents` index), oldest first. */
  regionIncidents(region: string, fromIso: string, toIso: string): Promise<IncidentRecord[]>;
  /**
   * The newest incident of a region opened before `beforeIso` (the `region-incidents` index, newest first, one item):
   * a region has one incident at a time, so this is the only earlier one that can still reach past `beforeIso`.
   */
  regionIncidentBefore(region: string, beforeIso: string): Promise<IncidentRecord | null>;
  /** Every platform region's status item. */
  statuses(regions: readonly string[]): Promise<RegionStatusRecord[]>;
}

export const ITEM_KEYS = {
  regionPartition: (region: string) => `region#${region}`,
  incidentSort: (seq: number) => `incident#${String(seq).padStart(5, '0')}`,
  statusSort: 'status',
  checker: { pk: 'checker', sk: 'status' },
  lease: { pk: 'lease', sk: 'aggregator' },
} as const;

type Item = Record<string, unknown>;

/** The stored item of an incident: the record, its keys, and the index attributes (openKey only while open). */
export function incidentItem(record: IncidentRecord, version: number): Item {
  const item: Item = {
    ...record,
    [INCIDENTS_TABLE.partitionKey]: ITEM_KEYS.regionPartition(record.region),
    [INCIDENTS_TABLE.sortKey]: ITEM_KEYS.incidentSort(record.seq),
    kind: 'incident',
    [INCIDENTS_TABLE.regionIncidentsIndex.partitionKey]: record.region,
    version,
  };
  if (record.status === 'open') item[INCIDENTS_TABLE.openIncidentsIndex.partitionKey] = INCIDENTS_TABLE.openKeyValue;
  return item;
}

const KEY_ATTRIBUTES = [INCIDENTS_TABLE.partitionKey, INCIDENTS_TABLE.sortKey, 'kind', INCIDENTS_TABLE.regionIncidentsIndex.partitionKey, INCIDENTS_TABLE.openIncidentsIndex.partitionKey];

function stripKeys<T>(item: Item): T {
  const out: Item = { ...item };
  for (const k of KEY_ATTRIBUTES) delete out[k];
  return out as T;
}

export interface DynamoIncidentStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
}

/** The incident table on DynamoDB (or dynalite). */
export class DynamoIncidentStore implements IncidentStore {
  constructor(private readonly options: DynamoIncidentStoreOptions) {}

  private get table() {
    return this.options.tableName;
  }

  async readRegion(region: string): Promise<RegionState> {
    const page = await this.options.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': INCIDENTS_TABLE.partitionKey },
        ExpressionAttributeValues: { ':pk': ITEM_KEYS.regionPartition(region) },
        ScanIndexForward: false,
        Limit: 1 + INCIDENTS_PER_READ,
        ConsistentRead: true,
      }),
    );
    let status: RegionStatusRecord | null = null;
    const incidents: IncidentRecord[] = [];
    for (const item of page.Items ?? []) {
      if (item.kind === 'status') status = stripKeys<RegionStatusRecord>(item);
      else if (item.kind === 'incident') incidents.push(stripKeys<IncidentRecord>(item));
    }
    return { status, incidents };
  }

  async getIncident(region: string, seq: number): Promise<IncidentRecord | null> {
    const item = await this.get(ITEM_KEYS.regionPartition(region), ITEM_KEYS.incidentSort(seq));
    return item ? stripKeys<IncidentRecord>(item) : null;
  }

  putIncident(record: IncidentRecord, expected: number | null): Promise<boolean> {
    return this.put(incidentItem(record, (expected ?? 0) + 1), expected);
  }

  putStatus(record: RegionStatusRecord, expected: number | null): Promise<boolean> {
    return this.put(
      { ...record, pk: ITEM_KEYS.regionPartition(record.region), sk: ITEM_KEYS.statusSort, kind: 'status', version: (expected ?? 0) + 1 },
      expected,
    );
  }

  async readChecker(): Promise<CheckerRecord | null> {
    const item = await this.get(ITEM_KEYS.checker.pk, ITEM_KEYS.checker.sk);
    return item ? stripKeys<CheckerRecord>(item) : null;
  }

  putChecker(record: CheckerRecord, expected: number | null): Promise<boolean> {
    return this.put({ ...record, ...ITEM_KEYS.checker, kind: 'checker', version: (expected ?? 0) + 1 }, expected);
  }

  async readLease(): Promise<LeaseRecord | null> {
    const item = await this.get(ITEM_KEYS.lease.pk, ITEM_KEYS.lease.sk);
    return item ? stripKeys<LeaseRecord>(item) : null;
  }

  putLease(record: LeaseRecord, expected: number | null): Promise<boolean> {
    return this.put({ ...record, ...ITEM_KEYS.lease, kind: 'lease', version: (expected ?? 0) + 1 }, expected);
  }

  async openIncidents(): Promise<IncidentRecord[]> {
    const index = INCIDENTS_TABLE.openIncidentsIndex;
    return this.queryAll({
      IndexName: index.name,
      KeyConditionExpression: '#k = :open',
      ExpressionAttributeNames: { '#k': index.partitionKey },
      ExpressionAttributeValues: { ':open': INCIDENTS_TABLE.openKeyValue },
    });
  }

  async regionIncidents(region: string, fromIso: string, toIso: string): Promise<IncidentRecord[]> {
    const index = INCIDENTS_TABLE.regionIncidentsIndex;
    return this.queryAll({
      IndexName: index.name,
      KeyConditionExpression: '#r = :r AND #o BETWEEN :from AND :to',
      ExpressionAttributeNames: { '#r': index.partitionKey, '#o': index.sortKey },
      ExpressionAttributeValues: { ':r': region, ':from': fromIso, ':to': toIso },
    });
  }

  async regionIncidentBefore(region: string, beforeIso: string): Promise<IncidentRecord | null> {
    const index = INCIDENTS_TABLE.regionIncidentsIndex;
    const result = await this.options.client.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: index.name,
        KeyConditionExpression: '#r = :r AND #o < :before',
        ExpressionAttributeNames: { '#r': index.partitionKey, '#o': index.sortKey },
        ExpressionAttributeValues: { ':r': region, ':before': beforeIso },
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    const item = result.Items?.[0];
    return item ? stripKeys<IncidentRecord>(item) : null;
  }

  async statuses(regions: readonly string[]): Promise<RegionStatusRecord[]> {
    const out: RegionStatusRecord[] = [];
    for (const region of regions) {
      const item = await this.get(ITEM_KEYS.regionPartition(region), ITEM_KEYS.statusSort);
      if (item) out.push(stripKeys<RegionStatusRecord>(item));
    }
    return out;
  }

  private async queryAll(input: {
    IndexName: string;
    KeyConditionExpression: string;
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues: Record<string, string>;
  }): Promise<IncidentRecord[]> {
    const out: IncidentRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    // Bounded: an index page is at most 1 MB; 1,000 pages is far beyond any incident history.
    for (let page = 0; page < 1000; page++) {
      const result = await this.options.client.send(new QueryCommand({ TableName: this.table, ...input, ExclusiveStartKey: startKey }));
      for (const item of result.Items ?? []) out.push(stripKeys<IncidentRecord>(item));
      startKey = result.LastEvaluatedKey;
      if (!startKey) break;
    }
    return out;
  }

  private async get(pk: string, sk: string): Promise<Item | null> {
    const result = await this.options.client.send(
      new GetCommand({ TableName: this.table, Key: { [INCIDENTS_TABLE.partitionKey]: pk, [INCIDENTS_TABLE.sortKey]: sk }, ConsistentRead: true }),
    );
    return result.Item ?? null;
  }

  private async put(item: Item, expected: number | null): Promise<boolean> {
    try {
      await this.options.client.send(
        new PutCommand(
          expected === null
            ? { TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': INCIDENTS_TABLE.partitionKey } }
            : {
                TableName: this.table,
                Item: item,
                ConditionExpression: '#v = :v',
                ExpressionAttributeNames: { '#v': 'version' },
                ExpressionAttributeValues: { ':v': expected },
              },
        ),
      );
      return true;
    } catch (error: unknown) {
      if (error instanceof ConditionalCheckFailedException || (error instanceof Error && error.name === 'ConditionalCheckFailedException')) return false;
      throw error;
    }
  }
}
