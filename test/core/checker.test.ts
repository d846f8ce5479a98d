// Checker alerts about failing publishes: what an operator's email and Slack may read.
import { describe, expect, it } from 'vitest';
import { decideChecker, emptyChecker, publishFailureAlert, type CheckerRecord } from '../../lambda/core/checker';
import { evaluateWindow, evaluationSettings } from '../../lambda/core/evaluate';
import type { OutboxEntry } from '../../lambda/core/lifecycle';
import type { Notification } from '../../lambda/core/notification';
import { PROBES, roundFor, T0, testConfig } from './harness';

const page: Notification = {
  event: 'opened',
  incidentId: 'us-00001',
  region: 'us',
  severity: 'down',
  at: '2026-04-14T10:02:13.000Z',
  summary: 'us is down',
  evidence: { targets: [], probeRegions: { fresh: [], stale: [], impaired: [] } },
  dedupKey: 'us/us-00001/opened/1776160930',
  subject: '[DOWN] us: api failing from 3/3 probe regions',
};

describe('publishFailureAlert', () => {
  it('shows the failure kind and since when, not the error code', () => {
    const stuck: OutboxEntry = { notification: page, attempts: 3, lastError: 'access-denied (AuthorizationErrorException)' };
    const alert = publishFailureAlert(emptyChecker(), stuck, Date.parse('2026-04-14T10:03:00Z'))?.outbox[0]?.notification;
    expect(alert?.summary).toBe(
      'Publishing to SNS keeps failing (access-denied) since 2026-04-14 10:02 UTC: the notification "[DOWN] us: api failing from 3/3 probe regions" could not be published after 3 attempts. It stays pending and is retried on every run.',
    );
  });

  it('never shows a raw SDK message an item stored before errors were stored by kind', () => {
    const raw = 'NotificationPublishError: User: arn:aws:sts::123456789012:assumed-role/acme-aggregator-role/x is not authorized to perform: SNS:Publish on resource: arn:aws:sns:us-east-1:123456789012:acme';
    const alert = publishFailureAlert(emptyChecker(), { notification: page, attempts: 3, lastError: raw }, Date.parse('2026-04-14T10:03:00Z'))?.outbox[0]?.notification;
    expect(alert?.summary).toContain('keeps failing (unknown)');
    expect(JSON.stringify(alert)).not.toMatch(/arn:aws|not authorized/);
  });
});

describe('decideChecker', () => {
  it('leaves the stored record untouched and copies only what it changes (the sent log is shared)', () => {
    const config = testConfig();
    const settings = evaluationSettings(config);
    // ap-southeast-1 wrote rounds, then stopped: silent at the decision slot.
    const rounds = [];
    for (let s = 0; s < 120; s += 10) for (const p of PROBES) if (p !== 'ap-southeast-1' || s < 40) rounds.push(roundFor(config, T0 + s, p, () => 'up'));
    const nowMs = (T0 + 110) * 1000 + 3000;
    const evaluation = evaluateWindow(settings, rounds, nowMs);
    const stored: CheckerRecord = {
      ...emptyChecker(),
      probeRegions: Object.fromEntries(PROBES.map((p) => [p, { state: 'ok' as const, since: T0 }])),
      notifications: [{ event: 'checker', severity: 'up', dedupKey: 'checker/eu-west-1/ok/1', subject: 's', at: 'a', publishedAt: 'b' }],
      version: 4,
    };
    const before = JSON.stringify(stored);
    // The first run that sees it behind records a suspicion; one interval later it is silent for the threshold in time too.
    const first = decideChecker({ settings, evaluation, nowMs: nowMs - 10_000, checker: stored });
    expect(first.transitions).toEqual([]);
    expect(first.record?.probeRegions['ap-southeast-1']).toEqual({ state: 'ok', since: T0, suspect: { state: 'silent', sinceMs: nowMs - 10_000 } });
    const suspected = first.record ?? stored;
    const { record, transitions } = decideChecker({ settings, evaluation, nowMs, checker: suspected });
    expect(transitions).toEqual(['ap-southeast-1:silent']);
    expect(record?.probeRegions['ap-southeast-1']).toEqual({ state: 'silent', since: expect.any(Number) });
    expect(record?.outbox).toHaveLength(1);
    expect(JSON.stringify(stored)).toBe(before);
    expect(record?.notifications).toBe(stored.notifications);
    expect(record?.probeRegions['us-east-1']).toBe(stored.probeRegions['us-east-1']);
  });

  it('does not call a probe region silent for seconds behind: a replication backlog that drains later than the others\' (FAULTS 5)', () => {
    const config = testConfig();
    const settings = evaluationSettings(config);
    // eu-west-1's results of the last three minutes have not arrived yet; the other two are current.
    const rounds = [];
    for (let s = 0; s < 300; s += 10) for (const p of PROBES) if (p !== 'eu-west-1' || s < 100) rounds.push(roundFor(config, T0 + s, p, () => 'up'));
    const nowMs = (T0 + 290) * 1000 + 3000;
    const stored: CheckerRecord = { ...emptyChecker(), probeRegions: Object.fromEntries(PROBES.map((p) => [p, { state: 'ok' as const, since: T0 }])) };
    const early = decideChecker({ settings, evaluation: evaluateWindow(settings, rounds, nowMs), nowMs, checker: stored });
    expect(early.transitions).toEqual([]);
    // Its backlog arrives 6 s later: it is current again, the suspicion is dropped, nothing was sent.
    for (let s = 100; s < 300; s += 10) rounds.push(roundFor(config, T0 + s, 'eu-west-1', () => 'up'));
    const later = decideChecker({ settings, evaluation: evaluateWindow(settings, rounds, nowMs + 6000), nowMs: nowMs + 6000, checker: early.record });
    expect(later.transitions).toEqual([]);
    expect(later.record?.probeRegions['eu-west-1']).toEqual({ state: 'ok', since: T0 });
    expect(later.record?.outbox ?? []).toEqual([]);
  });
});
