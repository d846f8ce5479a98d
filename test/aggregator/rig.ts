// A DynamoDB Local-backed aggregator rig: real tables, real conditional writes, a virtual clock and a recording publisher.
import type { AttributeValue, DynamoDBStreamEvent } from 'aws-lambda';
import type { RegionwatchConfig } from '../../lambda/config/schema';
import { AggregatorEngine, type AggregatorEngineOptions } from '../../lambda/aggregator/engine';
import type { Notification, NotificationPublisher } from '../../lambda/core/notification';
import { createIncidentsTable, createResultsTable } from '../../lambda/store/create-tables';
import type { EmbeddedStore } from '../../lambda/store/embedded';
import { DynamoIncidentStore } from '../../lambda/store/incident-store';
import { ResultsStore, toRoundItems } from '../../lambda/store/results-store';
import { roundFor, T0, type Script } from '../core/harness';

export class RecordingPublisher implements NotificationPublisher {
  readonly sent: Notification[] = [];
  /** While set, publish throws this (a typed SNS-like failure). */
  failWith: Error | null = null;
  calls = 0;
  async publish(notification: Notification): Promise<void> {
    this.calls++;
    if (this.failWith) throw this.failWith;
    this.sent.push(structuredClone(notification));
  }
}

export class VirtualClock {
  constructor(public ms: number) {}
  now = () => this.ms;
}

let tableCounter = 0;

export async function rig(store: EmbeddedStore, config: RegionwatchConfig, script: Script) {
  tableCounter++;
  const resultsTable = `results-${tableCounter}`;
  const incidentsTable = `incidents-${tableCounter}`;
  await createResultsTable(store.client, resultsTable);
  await createIncidentsTable(store.client, incidentsTable);
  const results = new ResultsStore({ client: store.documentClient, tableName: resultsTable, retentionHours: 48 });
  const incidents = new DynamoIncidentStore({ client: store.documentClient, tableName: incidentsTable });
  const clock = new VirtualClock(T0 * 1000);
  const publisher = new RecordingPublisher();
  const engine = (overrides: Partial<AggregatorEngineOptions> = {}) =>
    new AggregatorEngine({
      config,
      probeRegion: config.homeRegion,
      rounds: results,
      incidents,
      publisher,
      clock,
      sleep: async () => {},
      ...overrides,
      // A shorter re-derivation window keeps each run's Query small.
      tuning: { lateToleranceSeconds: 30, ...overrides.tuning },
    });

  /** Writes every probe region's round for slot T0 + second (unless silenced) and returns stream records for them. */
  const writeSlot = async (second: number, silent: (p: string) => boolean = () => false): Promise<DynamoDBStreamEvent['Records']> => {
    const records: DynamoDBStreamEvent['Records'] = [];
    for (const p of config.probeRegions) {
      if (silent(p)) continue;
      const round = roundFor(config, T0 + second, p, script);
      await results.writeRound(round);
      for (const item of toRoundItems(round, 48)) records.push(streamRecord(item, `${second}-${p}-${item.part}`));
    }
    return records;
  };

  return { results, incidents, clock, publisher, engine, writeSlot, incidentsTable, resultsTable };
}

/** A stream record as Lambda delivers it (NEW_IMAGE, binary as base64). */
export function streamRecord(item: object, sequenceNumber: string): DynamoDBStreamEvent['Records'][number] {
  const image: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(item)) {
    if (typeof v === 'string') image[k] = { S: v };
    else if (typeof v === 'number') image[k] = { N: String(v) };
    else if (v instanceof Uint8Array) image[k] = { B: Buffer.from(v).toString('base64') };
  }
  return { eventID: sequenceNumber, eventName: 'INSERT', dynamodb: { SequenceNumber: sequenceNumber, NewImage: image } };
}
