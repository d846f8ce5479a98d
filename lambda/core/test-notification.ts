// The clearly marked test notification `regionwatch notify test` sends through every channel: it says it is a test
// in its subject, summary and event, belongs to no incident and no platform region, and asks nobody to act.
import type { Notification } from './notification';

export interface TestNotificationInput {
  platform: string;
  /** Unique per run (`notify test` uses the time and a random part), so every run is a fresh alert. */
  testId: string;
  /** Where it was sent from, for the reader: `this machine` or `us-east-1`. */
  from: string;
  nowMs: number;
}

export function testNotification(input: TestNotificationInput): Notification {
  const at = new Date(input.nowMs).toISOString();
  return {
    event: 'test',
    incidentId: null,
    region: null,
    severity: 'up',
    at,
    summary: `TEST ONLY: regionwatch notify test for ${input.platform}, sent from ${input.from} at ${at}. Nothing is wrong and no action is needed; it checks that notifications reach you.`,
    evidence: { targets: [], probeRegions: { fresh: [], stale: [], impaired: [] }, component: 'notify-test' },
    dedupKey: `test/${input.testId}`,
    subject: `[TEST] regionwatch ${input.platform}: test notification from ${input.from}, no action needed`.slice(0, 99),
  };
}

/**
 * What `regionwatch notify test --aws` invokes the aggregator with: the one function allowed to publish to the
 * notifications topic publishes a test notification there, so email and other subscribers get it too.
 */
export interface NotifyTestRequest {
  regionwatch: 'notify-test';
  testId: string;
}

/** What the aggregator answers: the message SNS accepted, on which topic. */
export interface NotifyTestPublished {
  messageId: string;
  topicArn: string;
  dedupKey: string;
}

export function isNotifyTestRequest(event: unknown): event is NotifyTestRequest {
  if (event === null || typeof event !== 'object') return false;
  const e = event as Record<string, unknown>;
  return e.regionwatch === 'notify-test' && typeof e.testId === 'string' && /^[A-Za-z0-9-]{1,64}$/.test(e.testId);
}
