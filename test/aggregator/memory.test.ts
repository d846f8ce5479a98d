// The engine on the in-memory store and rounds, as the simulator runs it: no network, a virtual clock.
import { describe, expect, it } from 'vitest';
import { AggregatorEngine } from '../../lambda/aggregator/engine';
import { MemoryRounds } from '../../lambda/aggregator/memory-rounds';
import type { Notification } from '../../lambda/core/notification';
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

  it('row 10: the checker alert about a failing publish names the failure\'s kind, never the SDK message or an ARN', async () => {
    const config = testConfig();
    const script = faults({ us: [[100, 2000, 'down']] });
    const rounds = new MemoryRounds();
    const incidents = new MemoryIncidentStore();
    const clock = new VirtualClock(T0 * 1000);
    const publisher = new RecordingPublisher();
    // What the SNS adapter throws on AccessDenied: its message carries the SDK's text, with the role and topic ARNs.
    const raw =
      'User: arn:aws:sts::123456789012:assumed-role/acme-aggregator-role/acme-aggregator is not authorized to perform: SNS:Publish on resource: arn:aws:sns:us-east-1:123456789012:acme-regionwatch';
    const denied = new NotificationPublishError(`SNS publish of us/x failed (access-denied, AuthorizationErrorException): ${raw}`, 'access-denied', false, 'AuthorizationErrorException', 'us/x');
    // Only the page fails: the checker alert about it goes out.
    const failing = { publish: (n: Notification) => (n.event === 'checker' ? publisher.publish(n) : Promise.reject(denied)) };
    const engine = new AggregatorEngine({ config, probeRegion: 'us-east-1', rounds, incidents, publisher: failing, clock, sleep: async () => {}, alertAfterAttempts: 3 });
    for (let s = 0; s < 200; s += 10) {
      for (const p of config.probeRegions) rounds.write(roundFor(config, T0 + s, p, script));
      clock.ms = (T0 + s) * 1000 + 3000;
      await engine.run();
    }
    const alerts = publisher.sent.filter((n) => n.event === 'checker');
    expect(alerts).toHaveLength(1);
    const text = JSON.stringify(alerts[0]);
    expect(text).not.toMatch(/arn:aws/);
    expect(text).not.toContain('not authorized');
    expect(text).not.toContain('AuthorizationErrorException');
    expect(alerts[0]?.summary).toMatch(/^Publishing to SNS keeps failing \(access-denied\) since 2026-\d\d-\d\d \d\d:\d\d UTC: /);
    // What is stored is the kind and the code too, not the message.
    const [open] = await incidents.openIncidents();
    expect(open?.outbox.map((o) => o.lastError)).toEqual(['access-denied (AuthorizationErrorException)']);
  });
});
