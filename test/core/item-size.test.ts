// An incident item DynamoDB would refuse (over 400 KB) is written with less evidence instead of failing the run.
import { describe, expect, it } from 'vitest';
import { fitIncident, incidentBytes, MAX_INCIDENT_ITEM_BYTES } from '../../lambda/core/item-size';
import { secondsOf, type IncidentRecord, type TimelineSegment } from '../../lambda/core/lifecycle';
import type { Notification } from '../../lambda/core/notification';

const T = 1_776_175_200;
const longName = (n: number) => `svc-${n}-${'x'.repeat(20)}`;

function bigIncident(segments: number): IncidentRecord {
  const timeline: TimelineSegment[] = Array.from({ length: segments }, (_, n) => ({
    from: T + n * 30,
    to: T + (n + 1) * 30,
    verdict: n % 2 === 0 ? 'down' : 'up',
    targets:
      n % 2 === 0
        ? Array.from({ length: 10 }, (_, k) => ({ target: longName(k), verdict: 'down' as const, failingFrom: ['us-east-1', 'eu-west-1', 'ap-southeast-1'], errorClasses: ['timeout' as const, 'connect-timeout' as const] }))
        : [],
    moreTargets: n % 2 === 0 ? 10 : undefined,
    probeRegions: { fresh: ['us-east-1', 'eu-west-1', 'ap-southeast-1'], stale: [], impaired: [] },
  }));
  const page: Notification = {
    event: 'reminder',
    incidentId: 'us-00001',
    region: 'us',
    severity: 'down',
    at: '2026-04-14T14:00:00.000Z',
    summary: 'still down',
    evidence: { targets: [], probeRegions: { fresh: [], stale: [], impaired: [] } },
    dedupKey: 'us/us-00001/reminder/9',
    subject: '[REMINDER] [DOWN] us',
  };
  return {
    incidentId: 'us-00001', region: 'us', seq: 1, status: 'open', severity: 'down', currentSeverity: 'down',
    openedAt: '2026-04-14T14:00:00.000Z', resolvedAt: null, startedAt: T, endedAt: null, lastTransitionSlot: T,
    ...secondsOf(timeline), flaps: 0, timeline, outbox: [{ notification: page, attempts: 0 }],
    notifications: Array.from({ length: 100 }, (_, n) => ({ event: 'reminder' as const, severity: 'down' as const, dedupKey: `us/us-00001/reminder/${n}`, subject: '[REMINDER] [DOWN] us', at: page.at, publishedAt: page.at })),
    lastPageAt: page.at, remindersSent: 9, version: 3, updatedAt: page.at,
  };
}

describe('fitIncident', () => {
  it('leaves an item that fits untouched', () => {
    const small = bigIncident(10);
    expect(fitIncident(small, T)).toEqual({ record: small, bytes: incidentBytes(small), trimmed: [] });
  });

  it('drops evidence, then the sent log, then folds old segments until the item fits; figures, times and the outbox stay', () => {
    const big = bigIncident(1200);
    expect(incidentBytes(big)).toBeGreaterThan(MAX_INCIDENT_ITEM_BYTES);
    const fitted = fitIncident(big, T + 1200 * 30 - 600);
    expect(fitted.bytes).toBeLessThanOrEqual(MAX_INCIDENT_ITEM_BYTES);
    expect(fitted.trimmed[0]).toBe('timeline evidence');
    expect(secondsOf(fitted.record.timeline)).toEqual(secondsOf(big.timeline));
    expect(fitted.record.timeline[0]?.from).toBe(T);
    expect(fitted.record.timeline.at(-1)?.to).toBe(big.timeline.at(-1)?.to);
    expect(fitted.record.outbox).toEqual(big.outbox);

    // Squeezed hard, every step runs and old segments are folded, never those the window re-derives.
    const squeezed = fitIncident(big, T + 1200 * 30 - 600, 1_000);
    expect(squeezed.trimmed).toEqual(['timeline evidence', 'sent log', 'old segments', 'notification evidence']);
    expect(squeezed.record.timeline.length).toBeLessThan(100);
    expect(secondsOf(squeezed.record.timeline)).toEqual(secondsOf(big.timeline));
    expect(squeezed.record.timeline.filter((s) => s.from >= T + 1200 * 30 - 600).every((s) => !s.folded)).toBe(true);
    expect(squeezed.record.outbox.map((o) => o.notification.dedupKey)).toEqual(['us/us-00001/reminder/9']);
  });
});
