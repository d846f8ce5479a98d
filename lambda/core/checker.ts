// The checker's own health: probe regions that fall silent or are impaired, results too late to decide on,
// notifications that cannot be published, and targets regionwatch itself refuses to probe.
// Pure, like the lifecycle: the record carries an outbox and the caller stores and publishes.
import type { Notification } from './notification';
import type { EvaluationSettings, WindowEvaluation } from './evaluate';
import { MAX_SENT_LOG, type OutboxEntry, type SentNotification } from './incident-record';
import { fitSubject, splitDetail } from './incident-text';
import type { TargetRefusal } from './refusals';
import { count, noun, spokenDuration } from './words';

export type ProbeRegionHealth = 'ok' | 'silent' | 'impaired';

/** Whether verdicts are decided in time: `late` once results stayed late past `maxDataWaitSeconds`. */
export type ResultsHealth = 'ok' | 'late';

/** A probe region's health as stored: the state it was last alerted in, and since which slot. */
export interface ProbeRegionRecord {
  state: ProbeRegionHealth;
  since: number;
  /**
   * A worse state seen at the decision slot but not yet alerted: which, and since when (epoch ms of the run that first
   * saw it). Absent while the decision slot agrees with `state`.
   */
  suspect?: { state: ProbeRegionHealth; sinceMs: number };
}

/** The checker-status item: one per deployment. */
export interface CheckerRecord {
  probeRegions: Record<string, ProbeRegionRecord>;
  /** Absent until results were first late (items written before it existed have none). */
  results?: { state: ResultsHealth; since: number };
  /**
   * Targets the probers' SSRF guard refuses (`blocked-address`), keyed `region/target`, each since the first slot of
   * the refusal that was alerted; a target leaves when it is probed again. Absent until a target was first refused.
   */
  refusedTargets?: Record<string, { since: number }>;
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
 * The decision slot already waits for late results, so a probe region behind only because replication lags is not
 * silent. When the wait passes `maxDataWaitSeconds` (the evaluation is overdue), the late probe regions get one
 * `results late` alert between them instead of one `silent` alert each (the aggregator cannot tell a lagging replica
 * from silent probers); it clears once the wait is back under half the bound, so a lag hovering at the bound does
 * not alternate. A change owes one `checker` notification; a probe region seen for the first time is recorded silently.
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
  // Copy on write, like the lifecycle: below, `results` and each probe region's entry are replaced, never edited, and
  // the outbox is appended to; the sent log and the rest are shared with the stored record.
  const record: CheckerRecord = { ...base, probeRegions: { ...base.probeRegions }, outbox: [...base.outbox] };
  const transitions: string[] = [];
  const now = evaluation.probeRegions[d];
  if (d < 0 || !now) return { record: null, transitions };
  let changed = input.checker === null;
  const decisionSlot = evaluation.slots[d] ?? 0;
  const late = lateTransition(settings, evaluation, record, decisionSlot, nowMs, now);
  const fresh = now.fresh.length + now.impaired.length > 0;
  if (!fresh && !late) return { record: null, transitions };
  if (late) {
    record.results = late.state;
    changed = true;
    const key = late.entry.notification.dedupKey;
    if (!record.outbox.some((o) => o.notification.dedupKey === key) && !record.notifications.some((o) => o.dedupKey === key)) {
      record.outbox.push(late.entry);
      transitions.push(`results:${late.state.state}`);
    }
  }
  if (fresh) {
    const refused = refusalTransitions(settings, evaluation, record, nowMs, now);
    if (refused.changed) changed = true;
    transitions.push(...refused.transitions);
  }
  for (const p of fresh ? settings.probeRegions : []) {
    // Overdue: the late ones share the results alert above; their own state waits until results are on time.
    if (evaluation.overdue && evaluation.waitingFor.includes(p)) continue;
    const states: ProbeRegionHealth[] = [];
    for (let j = d - f + 1; j <= d; j++) {
      const at = evaluation.probeRegions[j];
      if (!at) continue;
      states.push(at.impaired.includes(p) ? 'impaired' : at.stale.includes(p) ? 'silent' : 'ok');
    }
    const have = record.probeRegions[p];
    // A silent or impaired probe region must stay so for the failure threshold in time too, not only over the
    // decision slots: when a replication backlog drains, the decision slot jumps ahead at once, and a probe region whose
    // backlog drains a few seconds later (staggered rounds write at different times) is behind for those seconds only.
    const atDecision: ProbeRegionHealth = now.impaired.includes(p) ? 'impaired' : now.stale.includes(p) ? 'silent' : 'ok';
    if (have && atDecision !== 'ok' && atDecision !== have.state) {
      if (have.suspect?.state !== atDecision) {
        record.probeRegions[p] = { ...have, suspect: { state: atDecision, sinceMs: nowMs } };
        changed = true;
      }
    } else if (have?.suspect) {
      const { suspect: _cleared, ...rest } = have;
      record.probeRegions[p] = rest;
      changed = true;
    }
    if (states.length < f) continue;
    const state = states[0];
    if (!state || !states.every((s) => s === state)) continue;
    const since = (evaluation.slots[d - f + 1] ?? 0);
    if (!have) {
      if (state === 'silent') continue; // never seen: not yet deployed, nothing to alert about
      record.probeRegions[p] = { state, since };
      changed = true;
      if (state === 'ok') continue;
    } else if (have.state === state) continue;
    else {
      const suspect = record.probeRegions[p]?.suspect;
      if (state !== 'ok' && (suspect?.state !== state || nowMs - suspect.sinceMs < (f - 1) * evaluation.intervalSeconds * 1000)) continue;
      record.probeRegions[p] = { state, since };
    }
    changed = true;
    const dedupKey = `checker/${p}/${state}/${since}`;
    if (record.outbox.some((o) => o.notification.dedupKey === dedupKey) || record.notifications.some((s) => s.dedupKey === dedupKey)) continue;
    const n =
      state === 'silent'
        ? silentNotification(p, evaluation, f, dedupKey, nowMs, now)
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
 * Targets we refuse to probe (refusals.ts): a refusal of our own is a config problem, so it is a checker alert, one
 * per target, not a platform page. A target's state counts once it held for the default failure threshold, as a probe
 * region's does: `refused` while a probe region's newest result of it is a refusal, `probed` while none is and it has
 * a verdict (a quorum of probe regions probed it). The alert goes out on the change to refused and its all-clear on
 * the change back; a target taken out of the config is cleared without one (the change that fixed it is the user's).
 * Edits `record.refusedTargets` (copied first) and its outbox.
 */
function refusalTransitions(
  settings: EvaluationSettings,
  evaluation: WindowEvaluation,
  record: CheckerRecord,
  nowMs: number,
  probe: WindowEvaluation['probeRegions'][number],
): { changed: boolean; transitions: string[] } {
  const d = evaluation.latest;
  const f = Math.max(1, settings.failureThreshold);
  const transitions: string[] = [];
  const had = record.refusedTargets ?? {};
  let next: Record<string, { since: number }> | undefined;
  const edit = () => (next ??= { ...had });
  if (d - f + 1 < 0) return { changed: false, transitions };
  // Per refused target (`region/target`), its refusal at each of the last f slots, oldest first.
  const byKey = new Map<string, { refusals: (TargetRefusal | undefined)[]; region: string }>();
  for (const [region, window] of Object.entries(evaluation.regions)) {
    for (let j = d - f + 1; j <= d; j++) {
      for (const r of window.refusalsAt(j)) {
        const key = `${region}/${r.target}`;
        const entry = byKey.get(key) ?? { refusals: new Array<TargetRefusal | undefined>(f).fill(undefined), region };
        entry.refusals[j - (d - f + 1)] = r;
        byKey.set(key, entry);
      }
    }
  }
  const since = evaluation.slots[d - f + 1] ?? 0;
  const owe = (dedupKey: string, n: () => Notification, transition: string) => {
    if (record.outbox.some((o) => o.notification.dedupKey === dedupKey) || record.notifications.some((o) => o.dedupKey === dedupKey)) return;
    record.outbox.push({ notification: n(), attempts: 0 });
    transitions.push(transition);
  };
  for (const [key, { refusals, region }] of byKey) {
    const newest = refusals[f - 1];
    if (had[key] || !newest || refusals.some((r) => r === undefined)) continue;
    edit()[key] = { since };
    const dedupKey = `checker/refused/${key}/${since}`;
    owe(dedupKey, () => refusedNotification(region, newest, settings.probeRegions.length, dedupKey, nowMs, probe), `refused:${key}`);
  }
  const configured = new Set(settings.targets.map((t) => `${t.region}/${t.name}`));
  for (const key of Object.keys(had)) {
    if (byKey.has(key)) continue;
    const cut = key.indexOf('/');
    const region = key.slice(0, cut);
    const target = key.slice(cut + 1);
    if (!configured.has(key)) {
      delete edit()[key];
      continue;
    }
    const window = evaluation.regions[region];
    let probed = window !== undefined;
    for (let j = d - f + 1; probed && window && j <= d; j++) probed = window.targetVerdict(target, j) !== 'unknown';
    if (!probed) continue;
    delete edit()[key];
    const dedupKey = `checker/refused/${key}/probed/${since}`;
    owe(
      dedupKey,
      () => checkerNotification(`${region}/${target}`, 'up', `[CHECKER] ${target} of ${region} is probed again`, `regionwatch probes target ${target} of ${region} again: its results count in the verdicts again.`, dedupKey, nowMs, probe),
      `probed:${key}`,
    );
  }
  if (!next) return { changed: false, transitions };
  record.refusedTargets = next;
  return { changed: true, transitions };
}

/** The alert about a target we refuse to probe: which, from where, the guard's reason and the fix, and why no page. */
function refusedNotification(region: string, refusal: TargetRefusal, probeRegionCount: number, dedupKey: string, nowMs: number, probe: WindowEvaluation['probeRegions'][number]): Notification {
  const [reason, fix] = splitDetail(refusal.detail);
  const from = `${refusal.probeRegions.length}/${probeRegionCount} ${noun(probeRegionCount, 'probe region')}`;
  // Refused from some probe regions only (their resolvers answer differently): the others still judge the target.
  const counts =
    refusal.probeRegions.length < probeRegionCount
      ? 'the refusing probe regions give the target no verdict (the others still judge it)'
      : 'the target has no verdict while it is refused';
  return checkerNotification(
    `${region}/${refusal.target}`,
    'degraded',
    // The probe regions that refuse, when only some do, in place of "regionwatch" (the subject stays within SNS's limit).
    `[CHECKER] ${refusal.target} of ${region} is not probed${refusal.probeRegions.length < probeRegionCount ? ` from ${refusal.probeRegions.join(', ')}: ` : ': regionwatch '}${reason}`,
    `regionwatch's own SSRF guard ${reason} for target ${refusal.target} of ${region} (from ${from}: ${refusal.probeRegions.join(', ')})${fix ? `; ${fix}` : ''}. This is regionwatch refusing, not the platform failing: ${counts}, and no platform incident is opened for it.`,
    dedupKey,
    nowMs,
    probe,
  );
}

/**
 * The results-late state after this evaluation and the notification the change owes; null when nothing changes
 * (also while the only late probe regions were never seen: a deployment starting up).
 */
function lateTransition(
  settings: EvaluationSettings,
  evaluation: WindowEvaluation,
  record: CheckerRecord,
  decisionSlot: number,
  nowMs: number,
  probe: WindowEvaluation['probeRegions'][number],
): { state: { state: ResultsHealth; since: number }; entry: OutboxEntry } | null {
  const have = record.results?.state ?? 'ok';
  const bound = settings.tuning.maxDataWaitSeconds;
  const known = evaluation.waitingFor.filter((p) => record.probeRegions[p] !== undefined);
  if (have === 'ok' && evaluation.overdue && known.length > 0) {
    const dedupKey = `checker/results/late/${decisionSlot}`;
    const list = known.join(', ');
    const n = checkerNotification(
      'results',
      'degraded',
      `[CHECKER] results from ${list} are more than ${spokenDuration(bound)} late`,
      `No slot of the last ${spokenDuration(bound)} has results from a quorum of probe regions: results from ${list} are late (global table replication lag into this aggregator's replica, or silent probers). Verdicts are unknown until they arrive; no page is caused by the delay, and results that arrive within ${spokenDuration(settings.tuning.lateToleranceSeconds)} of the decision slot are reconciled into incident timelines.`,
      dedupKey,
      nowMs,
      probe,
    );
    return { state: { state: 'late', since: decisionSlot }, entry: { notification: n, attempts: 0 } };
  }
  if (have === 'late' && !evaluation.overdue && evaluation.waitSeconds <= bound / 2) {
    const dedupKey = `checker/results/ok/${decisionSlot}`;
    const n = checkerNotification(
      'results',
      'up',
      '[CHECKER] results are on time again',
      `Results from a quorum of probe regions are ${spokenDuration(evaluation.waitSeconds)} behind now; verdicts are decided again.`,
      dedupKey,
      nowMs,
      probe,
    );
    return { state: { state: 'ok', since: decisionSlot }, entry: { notification: n, attempts: 0 } };
  }
  return null;
}

/**
 * A probe region behind the others at the decision slot: it stopped writing, or replication from it into this
 * replica lags while the others' does not. Either way quorum counts only the others; the age says which it looks like.
 */
function silentNotification(p: string, evaluation: WindowEvaluation, f: number, dedupKey: string, nowMs: number, probe: WindowEvaluation['probeRegions'][number]): Notification {
  const i = evaluation.intervalSeconds;
  const decisionSlot = evaluation.slots[evaluation.latest] ?? 0;
  const newest = evaluation.newestSlots[p] ?? null;
  // Stale for f slots means nothing for at least f + 2 intervals; with a result in the window, its real age.
  const age = Math.max(f * i + 2 * i, newest === null ? 0 : decisionSlot - newest);
  const last = newest === null ? 'no result in the window' : `its newest result is of ${iso(newest * 1000)}`;
  return checkerNotification(
    p,
    'degraded',
    `[CHECKER] probe region ${p} is silent: no results for ${spokenDuration(age)}`,
    `No fresh results of probe region ${p} have reached the aggregator (${last}): its prober stopped writing, or replication from it lags. Quorum counts only the fresh probe regions; no page is caused by its silence.`,
    dedupKey,
    nowMs,
    probe,
  );
}

/**
 * The failure kind of an outbox entry's `lastError` (`access-denied (AuthorizationErrorException)` → `access-denied`).
 * Only a kind-like word passes: an item written before errors were stored by kind holds the SDK's message, which names
 * role and topic ARNs and must not reach an email or Slack.
 */
function failureKind(lastError: string | undefined): string {
  const kind = lastError?.split(' ')[0] ?? '';
  return /^[a-z][a-z-]{0,31}$/.test(kind) ? kind : 'unknown';
}

/**
 * A checker alert for a notification that failed to publish `attempts` times (FAULTS row 10). Returns null when it
 * was already alerted. It goes through the same outbox (and the same publisher, so the handler also emits a
 * metric an alarm watches: a failing publisher cannot be the only voice about itself).
 */
export function publishFailureAlert(record: CheckerRecord, stuck: OutboxEntry, nowMs: number): CheckerRecord | null {
  // A newer reminder supersedes an unsent older one (lifecycle.ts decideRegion), so reminders are alerted once per incident,
  // not once per reminder that gets stuck behind the same outage.
  const key = stuck.notification.event === 'reminder' ? stuck.notification.dedupKey.replace(/\/reminder\/\d+$/, '/reminder') : stuck.notification.dedupKey;
  if (record.alertedFailures.includes(key)) return null;
  const since = `${stuck.notification.at.slice(0, 10)} ${stuck.notification.at.slice(11, 16)} UTC`;
  const n = checkerNotification(
    'notifications',
    'degraded',
    `[CHECKER] notifications are failing to publish: ${count(stuck.attempts, 'attempt')} so far`,
    `Publishing to SNS keeps failing (${failureKind(stuck.lastError)}) since ${since}: the notification "${stuck.notification.subject}" could not be published after ${count(stuck.attempts, 'attempt')}. It stays pending and is retried on every run.`,
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
