// The checker's own health: probe regions that fall silent or are impaired, and notifications that cannot be published.
// Pure, like the lifecycle: the record carries an outbox and the caller stores and publishes.
import type { Notification } from './notification';
import type { EvaluationSettings, WindowEvaluation } from './evaluate';
import { fitSubject, formatDuration, MAX_SENT_LOG, type OutboxEntry, type SentNotification } from './lifecycle';

export type ProbeRegionHealth = 'ok' | 'silent' | 'impaired';

/** The checker-status item: one per deployment. */
export interface CheckerRecord {
  probeRegions: Record<string, { state: ProbeRegionHealth; since: number }>;
  outbox: OutboxEntry[];
  notifications: SentNotification[];
  /** dedupKeys whose repeated publish failures were already alerted (bounded). */
  alertedFailures: string[];
  version: number;
  updatedAt: string;
}

export function emptyChecker(): CheckerRecord {
  return { probeRegions: {}, outbox: [], notifications: [], alertedFailures: [], version: 0, updatedAt: new Date(0).toISOString() };
}

const iso = (ms: number) => new Date(ms).toISOString();

function checkerNotification(component: string, severity: Notification['severity'], subject: string, summary: string, dedupKey: string, nowMs: number, probe?: WindowEvaluation['probeRegions'][number]): Notification {
  return {
    event: 'checker',
    incidentId: null,
    region: null,
    severity,
    at: iso(nowMs),
    summary,
    evidence: { targets: [], probeRegions: probe ?? { fresh: [], stale: [], impaired: [] }, component },
    dedupKey,
    subject: fitSubject(subject),
  };
}

/**
 * Probe-region health at the decision slot. A state counts once it held for the default failure threshold:
 * `silent` (no round for two intervals, and the region wrote rounds before, while another probe region is fresh),
 * `impaired` (left out of quorum: it sees nearly everything fail everywhere while the others see it up), `ok`.
 * A change owes one `checker` notification; a probe region seen for the first time is recorded silently.
 */
export function decideChecker(input: {
  settings: EvaluationSettings;
  evaluation: WindowEvaluation;
  nowMs: number;
  checker: CheckerRecord | null;
}): { record: CheckerRecord | null; transitions: string[] } {
  const { settings, evaluation, nowMs } = input;
  const d = evaluation.latest;
  const f = Math.max(1, settings.failureThreshold);
  const base = input.checker ?? emptyChecker();
  const record: CheckerRecord = structuredClone(base);
  const transitions: string[] = [];
  const now = evaluation.probeRegions[d];
  if (d < 0 || !now || now.fresh.length + now.impaired.length === 0) return { record: null, transitions };
  const i = evaluation.intervalSeconds;
  let changed = input.checker === null;
  for (const p of settings.probeRegions) {
    const states: ProbeRegionHealth[] = [];
    for (let j = d - f + 1; j <= d; j++) {
      const at = evaluation.probeRegions[j];
      if (!at) continue;
      states.push(at.impaired.includes(p) ? 'impaired' : at.stale.includes(p) ? 'silent' : 'ok');
    }
    if (states.length < f) continue;
    const state = states[0];
    if (!state || !states.every((s) => s === state)) continue;
    const have = record.probeRegions[p];
    const since = (evaluation.slots[d - f + 1] ?? 0);
    if (!have) {
      if (state === 'silent') continue; // never seen: not yet deployed, nothing to alert about
      record.probeRegions[p] = { state, since };
      changed = true;
      if (state === 'ok') continue;
    } else if (have.state === state) continue;
    else record.probeRegions[p] = { state, since };
    changed = true;
    const dedupKey = `checker/${p}/${state}/${since}`;
    if (record.outbox.some((o) => o.notification.dedupKey === dedupKey) || record.notifications.some((s) => s.dedupKey === dedupKey)) continue;
    const n =
      state === 'silent'
        ? checkerNotification(p, 'degraded', `[CHECKER] probe region ${p} is silent: no results for ${formatDuration(f * i + 2 * i)}`, `Probe region ${p} wrote no results since ${iso((since - 2 * i) * 1000)}. Quorum counts only the fresh probe regions; no page is caused by its silence.`, dedupKey, nowMs, now)
        : state === 'impaired'
          ? checkerNotification(p, 'degraded', `[CHECKER] probe region ${p} is impaired: it sees every region fail, the others do not`, `Probe region ${p} sees nearly every target in every platform region fail while the other probe regions see them up. It is left out of the quorum; no platform incident is opened for it.`, dedupKey, nowMs, now)
          : checkerNotification(p, 'up', `[CHECKER] probe region ${p} is healthy again`, `Probe region ${p} writes results again and agrees with the others; it counts in the quorum again.`, dedupKey, nowMs, now);
    record.outbox.push({ notification: n, attempts: 0 });
    transitions.push(`${p}:${state}`);
  }
  if (!changed) return { record: null, transitions };
  record.updatedAt = iso(nowMs);
  return { record, transitions };
}

/**
 * A checker alert for a notification that failed to publish `attempts` times (FAULTS row 10). Returns null when it
 * was already alerted. It goes through the same outbox (and the same publisher, so the handler also emits a
 * metric an alarm watches: a failing publisher cannot be the only voice about itself).
 */
export function publishFailureAlert(record: CheckerRecord, stuck: OutboxEntry, nowMs: number): CheckerRecord | null {
  const key = stuck.notification.dedupKey;
  if (record.alertedFailures.includes(key)) return null;
  const n = checkerNotification(
    'notifications',
    'degraded',
    `[CHECKER] notifications are failing to publish (${stuck.attempts} attempts)`,
    `The notification "${stuck.notification.subject}" could not be published after ${stuck.attempts} attempts (${stuck.lastError ?? 'unknown error'}). It stays pending and is retried on every run.`,
    `checker/publish-failing/${key}`,
    nowMs,
  );
  return {
    ...record,
    outbox: [...record.outbox, { notification: n, attempts: 0 }],
    alertedFailures: [...record.alertedFailures, key].slice(-MAX_SENT_LOG),
    updatedAt: iso(nowMs),
  };
}
