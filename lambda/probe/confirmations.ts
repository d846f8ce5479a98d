// Confirm on failure, the prober's part: the requester that asks every probe region to check a target this round saw
// fail, and the confirmer that serves such a request (claim, wait, check, write). The rules are lambda/core/confirmation.ts;
// the transport (SQS on AWS, a function call in local mode) and the stores come in as arguments.
import { setTimeout as realTimeout } from 'node:timers';
import { resolveTargets, type ResolvedTarget } from '../config/resolve';
import type { RegionwatchConfig } from '../config/schema';
import {
  CONFIRMATION_LINGER_MS,
  ConfirmationBudget,
  confirmationBatchId,
  confirmationCheckAt,
  isStaleRequest,
  targetKey,
  wasUp,
  type ConfirmationRequest,
  type ConfirmationTarget,
} from '../core/confirmation';
import { isOwnRefusal } from '../core/refusals';
import { slotOf, type ProbeResult, type ResultStatus } from '../core/results';
import { hostOf } from './checks/index';
import { silentLogger, type ProbeLogger } from './context';
import type { RoundWatch, RoundWriter } from './invocation';
import { runRound, type CheckWatch, type RoundDeps } from './round';

/** Delivers a request to a probe region's prober (its own included). Rejects when it could not be sent. */
export interface ConfirmationTransport {
  send(probeRegion: string, request: ConfirmationRequest): Promise<void>;
}

/**
 * This probe region's newest checks of each target (`region/target` → status) before the round at `slot`: its previous
 * round and the confirmations it ran since, those that started before `beforeMs` (the round's first check, on the
 * scheduler's clock). Without that bound the read raced the round's own write: when the round was written first, its
 * failure read as the previous check and no confirmation went out. Read only when the round sees a failure, so a
 * healthy round costs nothing.
 */
export type PreviousChecks = (probeRegion: string, slot: number, beforeMs: number) => Promise<Map<string, ResultStatus>>;

/**
 * Claims targets for confirmation by `probeRegion` in `slot`: resolves with the keys no earlier request claimed there
 * (one confirmation per target per probe region per slot), rejects when the claim store fails.
 */
export type ConfirmationClaim = (probeRegion: string, slot: number, keys: readonly string[]) => Promise<string[]>;

/** The detail of a check the round never started (its caps held it back): not an observation, never confirmed. */
const NOT_STARTED = 'not started';

export interface RequesterOptions {
  config: RegionwatchConfig;
  probeRegion: string;
  slot: number;
  transport: ConfirmationTransport;
  previous: PreviousChecks;
  logger?: ProbeLogger;
}

/**
 * One round's requests: as soon as a check fails (its answer, or `degradedLatencyMs` without one: it is late already),
 * the target goes into a batch that is sent CONFIRMATION_LINGER_MS later to every probe region, this one too (its
 * second look counts when another probe region cannot reach the platform). Only targets whose previous check from
 * here was up are asked about, within the round's budget (lambda/core/confirmation.ts). Never about our own refusal
 * (`blocked-address`): it is a config problem, not a failure of the platform, and evaluation counts it nowhere. Sends
 * never throw: a failed one is logged and detection falls back to the rounds.
 */
export class ConfirmationRequester implements CheckWatch, RoundWatch {
  readonly watch: CheckWatch = this;
  private readonly budget: ConfirmationBudget;
  private readonly seen = new Set<string>();
  private pending: { target: ResolvedTarget; at: number }[] = [];
  private flushTimer: ReturnType<typeof realTimeout> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly triggers = new Set<ReturnType<typeof realTimeout>>();
  private previous: Promise<Map<string, ResultStatus> | null> | undefined;
  private batches = 0;
  /** When the round's first check started: the previous checks are those before it. */
  private roundStartMs = Number.POSITIVE_INFINITY;
  private readonly logger: ProbeLogger;

  constructor(private readonly options: RequesterOptions) {
    this.budget = new ConfirmationBudget(options.config.probing);
    this.logger = options.logger ?? silentLogger;
  }

  started(target: ResolvedTarget, atMs: number, result: Promise<ProbeResult>): void {
    this.roundStartMs = Math.min(this.roundStartMs, atMs);
    // Real time, like the check's own latency: a check that has not answered within degradedLatencyMs is failing its bound.
    const trigger = realTimeout(() => {
      this.triggers.delete(trigger);
      this.suspect(target, atMs);
    }, target.degradedLatencyMs);
    trigger.unref?.();
    this.triggers.add(trigger);
    result.then(
      (r) => {
        clearTimeout(trigger);
        this.triggers.delete(trigger);
        if (r.status !== 'up' && !isOwnRefusal(r) && !(r.detail ?? '').startsWith(NOT_STARTED)) this.suspect(target, atMs);
      },
      () => {
        clearTimeout(trigger);
        this.triggers.delete(trigger);
      },
    );
  }

  /** Sends what is still gathered and resolves once every request of the round is sent or failed. */
  async drain(): Promise<void> {
    for (const t of this.triggers) clearTimeout(t);
    this.triggers.clear();
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      this.track(this.flush());
    }
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private suspect(target: ResolvedTarget, at: number): void {
    const key = targetKey(target.region, target.name);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.pending.push({ target, at });
    // The state read starts with the first failure, while the batch gathers.
    this.previous ??= this.options.previous(this.options.probeRegion, this.options.slot, this.roundStartMs).catch((error: unknown) => {
      this.logger.warn('cannot read the previous checks; asking for no confirmation this round', {
        event: 'confirm-state-unavailable',
        probeRegion: this.options.probeRegion,
        slot: this.options.slot,
        error: error instanceof Error ? error.name : String(error),
      });
      return null;
    });
    if (this.flushTimer === undefined) {
      this.flushTimer = realTimeout(() => {
        this.flushTimer = undefined;
        this.track(this.flush());
      }, CONFIRMATION_LINGER_MS);
      this.flushTimer.unref?.();
    }
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    const previous = await this.previous;
    if (!previous) return;
    const targets: ConfirmationTarget[] = [];
    for (const { target, at } of batch) {
      if (!wasUp(previous.get(targetKey(target.region, target.name)))) continue;
      if (!this.budget.take(hostOf(target))) continue;
      targets.push({ region: target.region, target: target.name, at });
    }
    if (targets.length === 0) return;
    const request: ConfirmationRequest = { kind: 'confirm', from: this.options.probeRegion, slot: this.options.slot, batch: this.batches++, targets };
    await Promise.all(
      this.options.config.probeRegions.map(async (to) => {
        try {
          await this.options.transport.send(to, request);
          this.logger.info('confirmation requested', { event: 'confirm-sent', to, slot: request.slot, batch: request.batch, targets: targets.length });
        } catch (error: unknown) {
          this.logger.warn('a confirmation request could not be sent; detection falls back to the rounds', {
            event: 'confirm-send-failed',
            to,
            slot: request.slot,
            batch: request.batch,
            targets: targets.length,
            error: error instanceof Error ? error.name : String(error),
          });
        }
      }),
    );
  }
}

/** What serving one request did. */
export interface ConfirmationSummary {
  /** `checked`: some targets were checked and written; `stale`: too old; `claimed`: every target already confirmed here this slot; `claim-failed`: the claim store failed, nothing checked. */
  outcome: 'checked' | 'stale' | 'claimed' | 'claim-failed';
  from: string;
  /** The slot the checks were made (and written) in. */
  slot: number | null;
  checked: number;
  /** Targets of the request another request had already claimed here. */
  claimedAway: number;
  /** Checks the caps held back until the deadline: dropped, not reported. */
  heldBack: number;
}

/** The confirmation's write failed: the checks were made but are not recorded. */
export class ConfirmationWriteError extends Error {
  override readonly name = 'ConfirmationWriteError';
}

export interface ConfirmationInput {
  config: RegionwatchConfig;
  probeRegion: string;
  request: ConfirmationRequest;
  store: RoundWriter;
  claim: ConfirmationClaim;
  /** Local clock minus the scheduler's (the warm prober's estimate), ms; 0 when unknown. */
  clockOffsetMs?: number;
}

/** Time left after the slowest timeout of a confirmation's checks before they are given up on. */
const CONFIRMATION_DEADLINE_MARGIN_MS = 200;

/**
 * Serves one request: drops it if it is older than an interval; waits until the failure it names is minFaultSeconds
 * old (at most that long); claims its targets for this slot, so no target is confirmed twice here in one slot (a
 * second origin, a duplicated delivery); checks the claimed ones at once, within the caps; and writes the results as
 * one confirmation record (`kind: 'confirmation'`, `batch` = the request's id, in the slot of the checks). A claim
 * store that fails means no check at all: the bound is kept and detection falls back to the rounds.
 */
export async function runConfirmation(input: ConfirmationInput, deps: RoundDeps): Promise<ConfirmationSummary> {
  const { config, probeRegion, request } = input;
  const logger = deps.logger ?? silentLogger;
  const offset = input.clockOffsetMs ?? 0;
  const scheduleNow = () => deps.now() - offset;
  const interval = config.defaults.intervalSeconds;
  const summary: ConfirmationSummary = { outcome: 'stale', from: request.from, slot: null, checked: 0, claimedAway: 0, heldBack: 0 };
  if (request.targets.length === 0 || isStaleRequest(request, scheduleNow(), interval)) {
    logger.warn('confirmation request older than an interval; dropped', { event: 'confirm-stale', from: request.from, slot: request.slot, batch: request.batch });
    return summary;
  }
  const byKey = new Map(resolveTargets(config).map((t) => [targetKey(t.region, t.name), t]));
  const asked = request.targets.map((t) => byKey.get(targetKey(t.region, t.target))).filter((t): t is ResolvedTarget => t !== undefined);
  const minFault = Math.max(0, ...asked.map((t) => t.minFaultSeconds));
  const wait = confirmationCheckAt(request, scheduleNow(), minFault) - scheduleNow();
  if (wait > 0) await deps.sleep(wait);

  const slot = slotOf(scheduleNow(), interval);
  summary.slot = slot;
  let claimed: Set<string>;
  try {
    claimed = new Set(await input.claim(probeRegion, slot, asked.map((t) => targetKey(t.region, t.name))));
  } catch (error: unknown) {
    logger.error('confirmation claim failed; nothing checked', { event: 'confirm-claim-failed', from: request.from, slot, error: error instanceof Error ? error.name : String(error) });
    return { ...summary, outcome: 'claim-failed' };
  }
  const budget = new ConfirmationBudget(config.probing);
  const targets = asked.filter((t) => claimed.has(targetKey(t.region, t.name)) && budget.take(hostOf(t)));
  summary.claimedAway = asked.length - claimed.size;
  if (targets.length === 0) return { ...summary, outcome: 'claimed' };

  const timeoutMs = Math.max(...targets.map((t) => t.timeoutMs));
  const round = await runRound(
    { config, probeRegion, slot, targets, mode: 'confirmation', clockOffsetMs: offset, deadlineAt: deps.now() + timeoutMs + CONFIRMATION_DEADLINE_MARGIN_MS },
    deps,
  );
  const results = round.results.filter((r) => !(r.detail ?? '').startsWith(NOT_STARTED));
  summary.heldBack = round.results.length - results.length;
  summary.checked = results.length;
  summary.outcome = 'checked';
  if (results.length === 0) return summary;
  try {
    await input.store.writeRound({ ...round, results, kind: 'confirmation', batch: confirmationBatchId(request) });
  } catch (error: unknown) {
    logger.error('writing a confirmation failed', { event: 'confirm-write-failed', from: request.from, slot, error: error instanceof Error ? error.message : String(error) });
    throw new ConfirmationWriteError(`confirmation ${confirmationBatchId(request)} could not be written`);
  }
  return summary;
}
