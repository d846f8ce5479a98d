import { describe, expect, it } from 'vitest';
import { LeaseKeeper, acquireLease, leaseOrder } from '../../lambda/store/lease';
import { MemoryIncidentStore } from '../../lambda/store/memory-incident-store';
import { DynamoIncidentStore } from '../../lambda/store/incident-store';
import { createIncidentsTable } from '../../lambda/store/create-tables';
import { AggregatorEngine } from '../../lambda/aggregator/engine';
import { MemoryRounds } from '../../lambda/aggregator/memory-rounds';
import { useTestStore } from '../helpers/store';
import { faults, roundFor, T0, testConfig } from '../core/harness';
import { RecordingPublisher, VirtualClock } from '../aggregator/rig';

const store = useTestStore();
const order = leaseOrder('us-east-1', ['eu-west-1', 'us-east-1', 'ap-southeast-1']);
const opts = (probeRegion: string) => ({ probeRegion, order });

describe('aggregator lease', () => {
  it('puts the home region first, then the others in config order', () => {
    expect(order).toEqual(['us-east-1', 'eu-west-1', 'ap-southeast-1']);
  });

  it('home takes a vacancy at once; a standby records the vacancy and waits its rank', async () => {
    const s = new MemoryIncidentStore();
    expect((await acquireLease(s, opts('eu-west-1'), 0)).holder).toBe(false);
    expect((await acquireLease(s, opts('eu-west-1'), 10_000)).holder).toBe(false);
    expect((await acquireLease(s, opts('us-east-1'), 10_000)).holder).toBe(true);
    expect((await acquireLease(s, opts('eu-west-1'), 20_000)).holder).toBe(false);
  });

  it('the holder renews once half the lease has gone, not on every run', async () => {
    const s = new MemoryIncidentStore();
    await acquireLease(s, opts('us-east-1'), 0);
    const writes = s.counters.writes;
    await acquireLease(s, opts('us-east-1'), 10_000);
    expect(s.counters.writes).toBe(writes);
    const renewed = await acquireLease(s, opts('us-east-1'), 31_000);
    expect(renewed).toMatchObject({ holder: true, lease: { expiresAt: 91_000 } });
    expect(s.counters.writes).toBe(writes + 1);
  });

  it('a dead holder is replaced by the next region in order within two minutes, the third waits longer', async () => {
    const s = new MemoryIncidentStore();
    await acquireLease(s, opts('us-east-1'), 0); // expires at 60 s
    expect((await acquireLease(s, opts('eu-west-1'), 70_000)).holder).toBe(false);
    expect((await acquireLease(s, opts('ap-southeast-1'), 85_000)).holder).toBe(false);
    expect((await acquireLease(s, opts('eu-west-1'), 80_000)).holder).toBe(true);
    expect((await acquireLease(s, opts('ap-southeast-1'), 100_000)).holder).toBe(false);
  });

  it('a keeper reads the lease only when it could have changed: the holder once per renewal, a standby when it could take over; the takeover comes when it did', async () => {
    const s = new MemoryIncidentStore();
    const home = new LeaseKeeper(s, opts('us-east-1'));
    const eu = new LeaseKeeper(s, opts('eu-west-1'));
    // A minute of stream batches, three a round every 10 s, in both regions: 18 each.
    const reads = () => s.counters.reads;
    for (let t = 0; t < 60_000; t += 10_000 / 3) {
      const atMs = Math.round(t);
      expect((await home.acquire(atMs)).holder, `home at ${atMs}`).toBe(true);
      expect((await eu.acquire(atMs + 500)).holder, `eu at ${atMs}`).toBe(false);
    }
    // Home: its first read, then one at the renewal (30 s in). EU: its first read, then once the lease it saw (until
    // 60 s) could have been taken by it (60 s + its rank × 20 s) is past the minute: not at all. Without the keeper, 36.
    expect(reads()).toBe(3);
    // Home stops (its process dies): its last renewal (at 30 s) runs until 90 s; EU takes over at 90 + 20 s, as a
    // standby that read on every batch would.
    expect((await eu.acquire(109_000)).holder).toBe(false);
    expect((await eu.acquire(110_000)).holder).toBe(true);
    // A fresh process knows nothing and reads.
    const before = reads();
    expect((await new LeaseKeeper(s, opts('us-east-1')).acquire(111_000)).holder).toBe(false);
    expect(reads()).toBe(before + 1);
  });

  it('two candidates racing on DynamoDB Local produce one holder', async () => {
    await createIncidentsTable(store.current.client, 'lease-race');
    const s = new DynamoIncidentStore({ client: store.current.documentClient, tableName: 'lease-race' });
    await acquireLease(s, opts('us-east-1'), 0);
    const [eu, ap] = await Promise.all([acquireLease(s, opts('eu-west-1'), 200_000), acquireLease(s, opts('ap-southeast-1'), 200_000)]);
    expect([eu.holder, ap.holder].filter(Boolean)).toHaveLength(1);
    expect((await s.readLease())?.holder).toBe(eu.holder ? 'eu-west-1' : 'ap-southeast-1');
  });

  it('takeover during an outage on DynamoDB Local: standbys write nothing, the successor continues the same incident', async () => {
    await createIncidentsTable(store.current.client, 'lease-takeover');
    const incidents = new DynamoIncidentStore({ client: store.current.documentClient, tableName: 'lease-takeover' });
    const config = testConfig();
    const script = faults({ us: [[100, 400, 'down']] });
    const rounds = new MemoryRounds();
    const clock = new VirtualClock(T0 * 1000);
    const publisher = new RecordingPublisher();
    const make = (probeRegion: string) => new AggregatorEngine({ config, probeRegion, rounds, incidents, publisher, clock, tuning: { lateToleranceSeconds: 60 } });
    const home = make('us-east-1');
    const eu = make('eu-west-1');
    const actors: string[] = [];
    for (let s = 0; s < 600; s += 10) {
      for (const p of config.probeRegions) rounds.write(roundFor(config, T0 + s, p, script));
      clock.ms = (T0 + s) * 1000 + 3000;
      // The home aggregator dies at 200 s; eu runs on every batch all along.
      if (s < 200 && (await home.run()).acted) actors.push(`home@${s}`);
      const euRun = await eu.run();
      if (euRun.acted) actors.push(`eu@${s}`);
      else expect(euRun.transitions).toEqual([]);
    }
    const firstEu = actors.find((a) => a.startsWith('eu@'));
    expect(actors.filter((a) => a.startsWith('eu@') && Number(a.slice(3)) < 200)).toEqual([]);
    // Home's last renewal was at most 30 s before it died; eu took over within two minutes of the death.
    expect(Number(firstEu?.slice(3))).toBeLessThanOrEqual(200 + 120);
    expect(publisher.sent.map((n) => n.event)).toEqual(['opened', 'resolved']);
    const history = await incidents.regionIncidents('us', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z');
    expect(history.map((i) => [i.incidentId, i.downSeconds, i.status])).toEqual([['us-00001', 300, 'resolved']]);
  });
});
