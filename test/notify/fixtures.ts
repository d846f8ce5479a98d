// Notifications as the aggregator builds them, for the notify tests.
import type { Notification } from '../../lambda/core/notification';

export function downNotification(overrides: Partial<Notification> = {}): Notification {
  return {
    subject: '[DOWN] us is down: api, write-path failing from 3/3 probe regions',
    event: 'opened',
    incidentId: '7f3a9c2e-1b4d-4e8f-9a0b-2c3d4e5f6a7b',
    region: 'us',
    severity: 'down',
    at: '2026-04-11T12:04:10.000Z',
    summary: 'us is down: api, write-path failing from 3/3 probe regions',
    evidence: {
      targets: [
        {
          target: 'api',
          verdict: 'down',
          failingFrom: ['us-east-1', 'eu-west-1', 'ap-southeast-1'],
          seenBy: [
            { probeRegion: 'us-east-1', status: 'down', errorClass: 'status', statusCode: 503, latencyMs: 41 },
            { probeRegion: 'eu-west-1', status: 'down', errorClass: 'status', statusCode: 503, latencyMs: 95 },
            { probeRegion: 'ap-southeast-1', status: 'down', errorClass: 'timeout', latencyMs: 3000, detail: 'no response in 3000 ms' },
          ],
        },
        {
          target: 'write-path',
          verdict: 'down',
          failingFrom: ['us-east-1', 'eu-west-1', 'ap-southeast-1'],
          seenBy: [
            { probeRegion: 'us-east-1', status: 'down', errorClass: 'refused', latencyMs: 2 },
            { probeRegion: 'eu-west-1', status: 'down', errorClass: 'refused', latencyMs: 80 },
            { probeRegion: 'ap-southeast-1', status: 'down', errorClass: 'refused', latencyMs: 170 },
          ],
        },
      ],
      probeRegions: { fresh: ['us-east-1', 'eu-west-1', 'ap-southeast-1'], stale: [], impaired: [] },
    },
    dedupKey: 'us#7f3a9c2e#opened#1',
    ...overrides,
  };
}

export function degradedNotification(overrides: Partial<Notification> = {}): Notification {
  const base = downNotification();
  return downNotification({
    subject: '[READ-ONLY] us is read-only now (was down): write-path refused from 2/3 probe regions',
    event: 'deescalated',
    severity: 'read-only',
    summary: 'us is read-only now, better than down: write-path refused from 2/3 probe regions. Incident 7f3a9c2e-1b4d-4e8f-9a0b-2c3d4e5f6a7b stays open.',
    evidence: { ...base.evidence, targets: base.evidence.targets.slice(1).map((t) => ({ ...t, verdict: 'read-only' as const })), downSeconds: 1200 },
    dedupKey: 'us#7f3a9c2e#deescalated#2',
    ...overrides,
  });
}

export function checkerNotification(overrides: Partial<Notification> = {}): Notification {
  return {
    subject: '[CHECKER] probe region ap-southeast-1 is impaired: it sees every region fail, the others do not',
    event: 'checker',
    incidentId: null,
    region: null,
    severity: 'unknown',
    at: '2026-04-11T13:00:00.000Z',
    summary: 'ap-southeast-1 sees every target in every platform region down while the others see them up',
    evidence: { targets: [], probeRegions: { fresh: ['us-east-1', 'eu-west-1'], stale: [], impaired: ['ap-southeast-1'] }, component: 'ap-southeast-1' },
    dedupKey: 'checker#ap-southeast-1#impaired#1775912400',
    ...overrides,
  };
}
