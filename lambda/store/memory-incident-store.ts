// The incident table in memory, with the same conditional-write semantics as DynamoIncidentStore: for the simulator
// (no network) and for tests. Every read and write copies, so callers can never share state by reference, and a read
// returns every object's keys in another order than written, as DynamoDB may (FAULTS row 21): the simulator then
// exercises the same order-blind change detection as a real table.
import type { CheckerRecord } from '../core/checker';
import type { IncidentRecord, RegionStatusRecord } from '../core/incident-record';
import { INCIDENTS_PER_READ, ITEM_KEYS, type IncidentStore, type LeaseRecord, type RegionState } from './incident-store';

interface Versioned {
  version: number;
}

/** Counts calls the way the DynamoDB store would make them, so the simulator can report them. */
export interface MemoryStoreCounters {
  reads: number;
  writes: number;
  conflicts: number;
}

/** A deep copy of a stored item with every object's keys reversed: DynamoDB keeps no attribute or map-entry order. */
function unordered<T>(value: T): T {
  if (Array.isArray(value)) return value.map(unordered) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  const keys = Object.keys(value);
  for (let n = keys.length - 1; n >= 0; n--) {
    const k = keys[n] as string;
    out[k] = unordered((value as Record<string, unknown>)[k]);
  }
  return out as T;
}

export class MemoryIncidentStore implements IncidentStore {
  private readonly items = new Map<string, Versioned>();
  readonly counters: MemoryStoreCounters = { reads: 0, writes: 0, conflicts: 0 };

  private key(pk: string, sk: string): string {
    return `${pk}\u0000${sk}`;
  }

  private read<T extends Versioned>(pk: string, sk: string): T | null {
    const item = this.items.get(this.key(pk, sk));
    return item ? unordered(item as T) : null;
  }

  private write<T extends Versioned>(pk: string, sk: string, record: T, expected: number | null): boolean {
    this.counters.writes++;
    const k = this.key(pk, sk);
    const have = this.items.get(k);
    if (expected === null ? have !== undefined : have?.version !== expected) {
      this.counters.conflicts++;
      return false;
    }
    this.items.set(k, { ...structuredClone(record), version: (expected ?? 0) + 1 });
    return true;
  }

  async readRegion(region: string): Promise<RegionState> {
    this.counters.reads++;
    const pk = ITEM_KEYS.regionPartition(region);
    const incidents: IncidentRecord[] = [];
    const prefix = `${pk}\u0000incident#`;
    const keys = [...this.items.keys()].filter((k) => k.startsWith(prefix)).sort().reverse().slice(0, INCIDENTS_PER_READ);
    for (const k of keys) {
      const item = this.items.get(k);
      if (item) incidents.push(unordered(item) as IncidentRecord);
    }
    return { status: this.read<RegionStatusRecord>(pk, ITEM_KEYS.statusSort), incidents };
  }

  async getIncident(region: string, seq: number): Promise<IncidentRecord | null> {
    this.counters.reads++;
    return this.read<IncidentRecord>(ITEM_KEYS.regionPartition(region), ITEM_KEYS.incidentSort(seq));
  }

  async putIncident(record: IncidentRecord, expected: number | null): Promise<boolean> {
    return this.write(ITEM_KEYS.regionPartition(record.region), ITEM_KEYS.incidentSort(record.seq), record, expected);
  }

  async putStatus(record: RegionStatusRecord, expected: number | null): Promise<boolean> {
    return this.write(ITEM_KEYS.regionPartition(record.region), ITEM_KEYS.statusSort, record, expected);
  }

  async readChecker(): Promise<CheckerRecord | null> {
    this.counters.reads++;
    return this.read<CheckerRecord>(ITEM_KEYS.checker.pk, ITEM_KEYS.checker.sk);
  }

  async putChecker(record: CheckerRecord, expected: number | null): Promise<boolean> {
    return this.write(ITEM_KEYS.checker.pk, ITEM_KEYS.checker.sk, record, expected);
  }

  async readLease(): Promise<LeaseRecord | null> {
    this.counters.reads++;
    return this.read<LeaseRecord>(ITEM_KEYS.lease.pk, ITEM_KEYS.lease.sk);
  }

  async putLease(record: LeaseRecord, expected: number | null): Promise<boolean> {
    return this.write(ITEM_KEYS.lease.pk, ITEM_KEYS.lease.sk, record, expected);
  }

  private allIncidents(): IncidentRecord[] {
    const out: IncidentRecord[] = [];
    for (const [k, item] of this.items) if (k.includes('\u0000incident#')) out.push(unordered(item) as IncidentRecord);
    return out.sort((a, b) => a.openedAt.localeCompare(b.openedAt));
  }

  async openIncidents(): Promise<IncidentRecord[]> {
    this.counters.reads++;
    return this.allIncidents().filter((i) => i.status === 'open');
  }

  async regionIncidents(region: string, fromIso: string, toIso: string): Promise<IncidentRecord[]> {
    this.counters.reads++;
    return this.allIncidents().filter((i) => i.region === region && i.openedAt >= fromIso && i.openedAt <= toIso);
  }

  async regionIncidentBefore(region: string, beforeIso: string): Promise<IncidentRecord | null> {
    this.counters.reads++;
    return this.allIncidents().filter((i) => i.region === region && i.openedAt < beforeIso).pop() ?? null;
  }

  async statuses(regions: readonly string[]): Promise<RegionStatusRecord[]> {
    this.counters.reads++;
    const out: RegionStatusRecord[] = [];
    for (const region of regions) {
      const s = this.read<RegionStatusRecord>(ITEM_KEYS.regionPartition(region), ITEM_KEYS.statusSort);
      if (s) out.push(s);
    }
    return out;
  }
}
