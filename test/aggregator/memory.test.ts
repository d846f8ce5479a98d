// The engine on the in-memory store and rounds, as the simulator runs it: no network, a virtual clock.
import { describe, expect, it } from 'vitest';
import { AggregatorEngine } from '../../lambda/aggregator/engine';
import { MemoryRounds } from '../../lambda/aggregator/memory-rounds';
import { NotificationPublishError } from '../../lambda/notify/sns-publisher';
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

  it('row 10: a resolved page held back by failing SNS goes out before the next incident\'s opened page', async () => {
    const config = testConfig();
    // us-00002 opens more than reopenWindowSeconds after us-00001 resolved: a new incident, not a reopen.
    const script = faults({ us: [[100, 200, 'down'], [1300, 1400, 'down']] });
    const rounds = new MemoryRounds();
    const incidents = new MemoryIncidentStore();
    const clock = new VirtualClock(T0 * 1000);
    const publisher = new RecordingPublisher();
    const engine = new AggregatorEngine({ config, probeRegion: 'us-east-1', rounds, incidents, publisher, clock, sleep: async () => {} });
    let openedAt: number | null = null;
    for (let s = 0; s < 1500; s += 10) {
      for (const p of config.probeRegions) rounds.write(roundFor(config, T0 + s, p, script));
      clock.ms = (T0 + s) * 1000 + 3000;
      // SNS fails from us-00001's resolve until the run before us-00002 opens.
      publisher.failWith = s >= 200 && s <= 1300 ? new NotificationPublishError('Rate exceeded', 'throttled', true, 'ThrottledException', 'x') : null;
      const run = await engine.run();
      if (openedAt === null && run.transitions.some((t) => t.incidentId === 'us-00002')) openedAt = s;
    }
    expect(openedAt).toBe(1310);
    const pages = publisher.sent.filter((n) => n.event !== 'checker').map((n) => `${n.event} ${n.incidentId}`);
    expect(pages).toEqual(['opened us-00001', 'resolved us-00001', 'opened us-00002', 'resolved us-00002']);
    // The held-back resolve and the new incident's opening went out in the same run, oldest first.
    const [resolved1, opened2] = publisher.sent.filter((n) => n.event !== 'checker').slice(1, 3);
    expect(resolved1?.incidentId).toBe('us-00001');
    expect(opened2?.incidentId).toBe('us-00002');
    const history = await incidents.regionIncidents('us', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z');
    expect(history.map((i) => [i.incidentId, i.outbox.length])).toEqual([['us-00001', 0], ['us-00002', 0]]);
    const sentAt = (id: string, event: string) => history.find((i) => i.incidentId === id)?.notifications.find((n) => n.event === event)?.publishedAt;
    expect(sentAt('us-00001', 'resolved')).toBe(sentAt('us-00002', 'opened'));
  });
});
