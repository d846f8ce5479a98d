// The outbox an incident or checker item carries: the notifications it owes, claimed by the run publishing them and
// moved to the sent log once published. Pure record edits; the engine (lambda/aggregator/engine.ts) writes them.
import { MAX_SENT_LOG, type OutboxEntry, type SentNotification } from './incident-record';

const iso = (epochMs: number) => new Date(epochMs).toISOString();

/** The outbox after a successful publish: the entry moves to the sent log. */
export function markPublished<T extends { outbox: OutboxEntry[]; notifications: SentNotification[] }>(record: T, dedupKey: string, publishedAtMs: number): T {
  const entry = record.outbox.find((o) => o.notification.dedupKey === dedupKey);
  if (!entry) return record;
  const n = entry.notification;
  const sent: SentNotification = { event: n.event, severity: n.severity, dedupKey, subject: n.subject, at: n.at, publishedAt: iso(publishedAtMs) };
  const notifications = record.notifications.some((s) => s.dedupKey === dedupKey) ? record.notifications : [...record.notifications, sent].slice(-MAX_SENT_LOG);
  return { ...record, outbox: record.outbox.filter((o) => o.notification.dedupKey !== dedupKey), notifications };
}

/** The outbox after a failed publish: the entry stays, with its attempt counted and the error's name and message. */
export function markFailed<T extends { outbox: OutboxEntry[] }>(record: T, dedupKey: string, error: string): T {
  return {
    ...record,
    outbox: record.outbox.map((o) => {
      if (o.notification.dedupKey !== dedupKey) return o;
      const { claimedBy: _by, claimedUntil: _until, ...rest } = o;
      return { ...rest, attempts: o.attempts + 1, lastError: error.slice(0, 300) };
    }),
  };
}

/** Entries this run may publish: unclaimed, claimed by it, or claimed by a run whose claim ran out (it died). */
export function claimable(outbox: readonly OutboxEntry[], runId: string, nowMs: number): OutboxEntry[] {
  return outbox.filter((o) => o.claimedBy === undefined || o.claimedBy === runId || (o.claimedUntil ?? 0) <= nowMs);
}

/** The record with `keys` claimed by `runId` until `untilMs`. */
export function claim<T extends { outbox: OutboxEntry[] }>(record: T, keys: ReadonlySet<string>, runId: string, untilMs: number): T {
  return { ...record, outbox: record.outbox.map((o) => (keys.has(o.notification.dedupKey) ? { ...o, claimedBy: runId, claimedUntil: untilMs } : o)) };
}
