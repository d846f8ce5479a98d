// The engine on the in-memory store and rounds, as the simulator runs it: no network, a virtual clock.
import { describe, expect, it } from 'vitest';
import { AggregatorEngine } from '../../lambda/aggregator/engine';
import { MemoryRounds } from '../../lambda/aggregator/memory-rounds';
import { MemoryIncidentStore } from '../../lambda/store/memory-incident-store';
import { faults, roundFor, T0, testConfig } from '../core/harness';
import { RecordingPublisher, VirtualClock } from './rig';

describe('engine on memory stores', () => {
  it('runs the DESIGN example with crashes after every other write and duplicate runs: same incident, each page once', async () => {
    const config = testConfig();
    const script = faults({ us: [[600, 1800, 'down'], [1800, 5520, 'read-only']] });
    const rounds = new MemoryRounds();
    const incidents = new MemoryIncidentStore();
    const clock = new VirtualClock(T0 * 1000);
    const publisher = new RecordingPublisher();
    let writes = 0;
    const engine = new AggregatorEngine({
      config, probeRegion: 'us-east-1', rounds, incidents, publisher, clock, sleep: async () => {},
      crash: (point) => {
        if (point === 'after-write' && writes++ % 2 === 0) throw new Error('crash-after-write');
      },
    });
    let crashes = 0;
    for (let s = 0; s < 6000; s += 10) {
      for (const p of config.probeRegions) rounds.write(roundFor(config, T0 + s, p, script));
      clock.ms = (T0 + s) * 1000 + 3000;
      for (let k = 0; k < 2; k++) await engine.run().catch(() => crashes++);
      rounds.expireBefore(T0 + s - 3600);
    }
    expect(crashes).toBeGreaterThan(0);
    const [incident] = await incidents.regionIncidents('us', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z');
    expect(incident).toMatchObject({ downSeconds: 1200, readOnlySeconds: 3720, degradedSeconds: 3720, status: 'resolved', outbox: [] });
    const events = publisher.sent.map((n) => n.event);
    expect(events).toEqual(['opened', 'deescalated', 'reminder', 'reminder', 'resolved']);
    expect(new Set(publisher.sent.map((n) => n.dedupKey)).size).toBe(publisher.sent.length);
    expect(incidents.counters.conflicts).toBe(0);
  });
});
