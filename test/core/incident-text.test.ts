// The words on-call reads at 3 a.m.: every subject per transition, as the lifecycle writes it, pinned as a table;
// and no count in a subject, summary or terminal line that disagrees with its noun ("1 targets", "1/1 probe regions").
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyChecker, publishFailureAlert } from '../../lambda/core/checker';
import type { IncidentRecord } from '../../lambda/core/incident-record';
import { fallbackSubject, incidentNotification, type NotificationDraft } from '../../lambda/core/incident-text';
import type { TargetEvidence } from '../../lambda/core/notification';
import { count, listOf, spokenDuration } from '../../lambda/core/words';
import { formatReport } from '../../lambda/local/format';
import { formatNotificationLine } from '../../lambda/notify/local-sinks';
import { slackMessage } from '../../lambda/notify/slack-blocks';
import { wrongPlurals } from '../helpers/words';
import { faults, PureRun, testConfig, T0 } from './harness';

/** The subject of each page a run sent about `us`, as `event: subject`. */
const subjects = (run: PureRun) => run.published.filter((n) => n.region === 'us').map((n) => `${n.event}: ${n.subject}`);

describe('subjects per transition, as the lifecycle writes them', () => {
  it('opened, de-escalated, reminded, resolved (the DESIGN example)', () => {
    const run = new PureRun(testConfig(), faults({ us: [[600, 1800, 'down'], [1800, 5520, 'read-only']] })).run(0, 7200);
    expect(subjects(run)).toEqual([
      'opened: [DOWN] us is down: api, write-path failing from 3/3 probe regions',
      'deescalated: [READ-ONLY] us is read-only now (was down): write-path refused from 3/3 probe regions',
      'reminder: [REMINDER] [READ-ONLY] us is still read-only after 30 min: write-path refused',
      'reminder: [REMINDER] [READ-ONLY] us is still read-only after 1 h: write-path refused from 3/3 probe regions',
      'resolved: [RESOLVED] us is up again after 1 h 22 min (20 min of it down)',
    ]);
    const summaries = run.published.filter((n) => n.region === 'us').map((n) => n.summary);
    expect(summaries[0]).toBe('us is down since 2026-04-14 14:10:00 UTC: api, write-path failing from 3/3 probe regions. Incident us-00001 opened.');
    expect(summaries[1]).toBe('us is read-only now, better than down: write-path refused from 3/3 probe regions. Incident us-00001 stays open.');
    expect(summaries[4]).toBe(
      'us is up again. Incident us-00001 resolved after 1 h 22 min, from 2026-04-14 14:10:00 UTC to 2026-04-14 15:32:00 UTC: 20 min down, 1 h 2 min degraded, all of it read-only.',
    );
  });

  it('escalated, from degraded to down', () => {
    const run = new PureRun(testConfig(), faults({ us: [[100, 300, 'degraded'], [300, 500, 'down']] })).run(0, 800);
    expect(subjects(run)).toEqual([
      'opened: [DEGRADED] us is degraded: api, write-path failing from 3/3 probe regions',
      'escalated: [DOWN] us is down now (was degraded): api, write-path failing from 3/3 probe regions',
      'resolved: [RESOLVED] us is up again after 6 min (3 min of it down)',
    ]);
    expect(run.published[1]?.summary).toBe('us is down now, worse than degraded: api, write-path failing from 3/3 probe regions. Incident us-00001 is open since 2026-04-14 14:01:53 UTC.');
  });

  it('reopened within minutes of recovering: the same incident, and how long it was up', () => {
    const run = new PureRun(testConfig(), faults({ us: [[100, 300, 'down'], [480, 700, 'down']] })).run(0, 1500);
    expect(subjects(run)).toEqual([
      'opened: [DOWN] us is down: api, write-path failing from 3/3 probe regions',
      'resolved: [RESOLVED] us is up again after 3 min (3 min of it down)',
      'opened: [DOWN] us is down again, 3 min after recovering: incident us-00001 reopened',
      'resolved: [RESOLVED] us is up again after 10 min (7 min of it down)',
    ]);
    expect(run.published[2]?.summary).toBe('us is down again, 3 min after recovering: api, write-path failing from 3/3 probe regions. Incident us-00001 reopened; so far 3 min down.');
  });

  it('checker alerts read as sentences too', () => {
    const stuck = { notification: { ...incidentDraftNotification(), subject: '[DOWN] us is down: api failing from 3/3 probe regions' }, attempts: 1 };
    const alert = publishFailureAlert(emptyChecker(), stuck, Date.parse('2026-04-14T10:03:00Z'))?.outbox[0]?.notification;
    expect(alert?.subject).toBe('[CHECKER] notifications are failing to publish: 1 attempt so far');
    expect(alert?.summary).toContain('could not be published after 1 attempt.');
  });

  it('a notification without a subject still gets one line: tag, region, what happened', () => {
    expect(fallbackSubject({ severity: 'down', region: 'us', event: 'opened' })).toBe('[DOWN] us: incident opened');
    expect(fallbackSubject({ severity: 'unknown', region: null, event: 'checker' })).toBe('[UNKNOWN] regionwatch: the checker needs attention');
  });
});

describe('words', () => {
  it('counts agree with their nouns, durations read as spoken, lists end with "and"', () => {
    expect([count(0, 'target'), count(1, 'target'), count(2, 'target'), count(1, 'replayed batch', 'replayed batches'), count(3, 'replayed batch', 'replayed batches')]).toEqual([
      '0 targets',
      '1 target',
      '2 targets',
      '1 replayed batch',
      '3 replayed batches',
    ]);
    expect([0, 45, 60, 230, 3600, 3720, 86_400, 90_000, 2 * 86_400].map(spokenDuration)).toEqual(['0 s', '45 s', '1 min', '3 min', '1 h', '1 h 2 min', '1 day', '1 day 1 h', '2 days']);
    expect([listOf([]), listOf(['api']), listOf(['api', 'cert']), listOf(['a', 'b', 'c']), listOf(['a', 'b', 'c', 'd'], 2)]).toEqual(['', 'api', 'api and cert', 'a, b and c', 'a, b and 2 more']);
  });
});

function incidentDraftNotification() {
  return incidentNotification(draft({ event: 'opened', severity: 'down', evidence: [target('api', 3)] }));
}

function target(name: string, failing: number, verdict: TargetEvidence['verdict'] = 'down'): TargetEvidence {
  const from = ['us-east-1', 'eu-west-1', 'ap-southeast-1'].slice(0, failing);
  return { target: name, verdict, failingFrom: from, seenBy: from.map((p) => ({ probeRegion: p, status: 'down', errorClass: 'timeout' })) };
}

function draft(over: Partial<NotificationDraft> & Pick<NotificationDraft, 'event' | 'severity' | 'evidence'>): NotificationDraft {
  const incident: IncidentRecord = {
    incidentId: 'us-00001',
    region: 'us',
    seq: 1,
    status: 'open',
    severity: 'down',
    currentSeverity: 'down',
    openedAt: new Date((T0 + 13) * 1000).toISOString(),
    resolvedAt: null,
    startedAt: T0,
    endedAt: null,
    lastTransitionSlot: T0,
    downSeconds: 60,
    degradedSeconds: 1,
    readOnlySeconds: 1,
    maintenanceSeconds: 0,
    unknownSeconds: 0,
    flaps: 1,
    timeline: [],
    outbox: [],
    notifications: [],
    lastPageAt: new Date(T0 * 1000).toISOString(),
    remindersSent: 1,
    version: 1,
    updatedAt: new Date(T0 * 1000).toISOString(),
  };
  return { incident, nowMs: (T0 + 61) * 1000, marker: 1, probe: { fresh: ['us-east-1'], stale: [], impaired: [] }, ...over };
}

describe('no line says "1 targets"', () => {
  it('the detector finds what it must and nothing else', () => {
    expect(wrongPlurals('1 targets in 1 platform regions; 1/1 probe regions; 1 days')).toEqual(['1 targets', '1 platform regions', '1/1 probe regions', '1 days']);
    expect(wrongPlurals('1 target in 1 platform region, from 1/3 probe regions, 1 of 3 sinks, 1 h 2 min, 1 s, 41 ms, 11 notifications, 1.5 targets')).toEqual([]);
  });

  it('holds for every subject, summary, Slack message and terminal line, whatever the counts', () => {
    const events = ['opened', 'escalated', 'deescalated', 'reminder', 'resolved'] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...events),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 3 * 86_400 }),
        fc.integer({ min: 0, max: 3 * 86_400 }),
        fc.boolean(),
        (event, targets, fresh, downSeconds, openSeconds, recovering) => {
          const probe = { fresh: ['us-east-1', 'eu-west-1', 'ap-southeast-1'].slice(0, fresh), stale: [], impaired: [] };
          const evidence = Array.from({ length: targets }, (_, i) => target(`t${i}`, fresh));
          const d = draft({
            event,
            severity: event === 'resolved' ? 'up' : 'down',
            evidence,
            probe,
            previous: 'degraded',
            nowMs: (T0 + openSeconds) * 1000,
            ...(event === 'opened' && recovering ? { reopenedAfterSeconds: downSeconds } : {}),
            ...(event === 'reminder' && recovering ? { recovery: { since: T0 + 60, requiredSeconds: 60, flapping: true } } : {}),
          });
          const n = incidentNotification({ ...d, incident: { ...d.incident, downSeconds, degradedSeconds: 60, readOnlySeconds: 1, endedAt: event === 'resolved' ? T0 + openSeconds : null } });
          const slack = JSON.stringify(slackMessage(n, n.subject));
          const line = formatNotificationLine(n);
          const report = formatReport({
            from: '2026-04-14T00:00:00Z',
            to: '2026-04-15T00:00:00Z',
            regions: { us: { downMinutes: 1, degradedMinutes: 1, incidents: Array.from({ length: targets % 3 }, () => ({ incidentId: 'us-1', openedAt: '2026-04-14T01:00:00Z', resolvedAt: null, downMinutes: 1, degradedMinutes: 1 })) } },
            notifications: targets,
          }).join('\n');
          expect(wrongPlurals([n.subject, n.summary, slack, line, report].join('\n'))).toEqual([]);
        },
      ),
      { numRuns: 300, seed: 14 },
    );
  });
});
