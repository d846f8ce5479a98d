// A notification: what the aggregator owes on-call about an incident transition, a reminder, or the checker itself.
// The SNS body is exactly `NotificationBody` (DESIGN.md); the subject is one human line.
import type { ErrorClass } from './results';

/** The state of a target or platform region after quorum across probe regions. */
export type Verdict = 'up' | 'degraded' | 'read-only' | 'down' | 'maintenance' | 'unknown';

/** DESIGN's events, and `test`: a clearly marked test notification that `regionwatch notify test` sends. */
export type NotificationEvent = 'opened' | 'escalated' | 'deescalated' | 'resolved' | 'reminder' | 'checker' | 'test';

/** What one probe region saw of one target. */
export interface ProbeRegionEvidence {
  probeRegion: string;
  status: 'up' | 'degraded' | 'down';
  errorClass?: ErrorClass;
  statusCode?: number;
  latencyMs?: number;
  detail?: string;
}

export interface TargetEvidence {
  target: string;
  verdict: Verdict;
  /** Probe regions whose fresh results say the target is not up. */
  failingFrom: string[];
  seenBy: ProbeRegionEvidence[];
}

export interface NotificationEvidence {
  /** The worst targets (at most 20), worst first. */
  targets: TargetEvidence[];
  /** Targets not up beyond those listed; absent when all are listed. */
  moreTargets?: number;
  /** Probe regions counted (fresh), left out as stale, or left out as impaired. */
  probeRegions: { fresh: string[]; stale: string[]; impaired: string[] };
  /** Incident figures so far, for resolved and reminder notifications. */
  downSeconds?: number;
  degradedSeconds?: number;
  readOnlySeconds?: number;
  /** Checker notifications: which probe region or component the message is about. */
  component?: string;
}

/** The SNS message body (JSON), fixed by DESIGN.md. */
export interface NotificationBody {
  event: NotificationEvent;
  /** Null for checker notifications that belong to no incident. */
  incidentId: string | null;
  /** Platform region; null for checker notifications about the checker as a whole. */
  region: string | null;
  severity: Verdict;
  /** ISO 8601 time of the transition (in the clock the core was given). */
  at: string;
  summary: string;
  evidence: NotificationEvidence;
  /** The same wherever and however often the same transition is published. */
  dedupKey: string;
}

export interface Notification extends NotificationBody {
  /** One human line, at most 100 characters (SNS's subject limit). */
  subject: string;
}

/** Where notifications go: SNS on AWS; the terminal, a JSONL file and Slack in local mode. */
export interface NotificationPublisher {
  /** Resolves once delivered; throws (a typed error) when it could not be, so the outbox keeps it. */
  publish(notification: Notification): Promise<void>;
}
