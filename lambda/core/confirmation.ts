// Confirm on failure, the rules (pure): when a probe region asks the others to check a target now, what the request
// says, how much one round may ask for, and when and how often the asked probe region checks. The prober
// (lambda/probe/confirmations.ts), local mode and the simulator all follow these, so their traffic is the same.
//
// Bounds, each enforced here or by the claim that `unclaimed` reads:
// - the origin asks only about a target whose previous check from it was up (`wasUp`): a target that stays down is
//   asked about once, at the start of the failure, never every round;
// - one round asks about at most `probing.perHostConcurrency` targets per host and `probing.concurrency` in all
//   (`ConfirmationBudget`), so the checks asked for never queue behind the caps, and a partitioned probe region
//   (it sees everything fail) asks about a bounded handful, once;
// - a probe region checks a target for confirmation at most once per slot (the claim), beside its round's one check:
//   at most two requests per target per probe region per interval reach the platform (FAULTS 18, 20).
import type { RegionwatchConfig } from '../config/schema';
import type { ResultStatus } from './results';

/** One target the origin saw fail, and when its failing check started (epoch ms, the origin's scheduler clock). */
export interface ConfirmationTarget {
  region: string;
  target: string;
  at: number;
}

/** What the origin sends each other probe region (SQS message body on AWS, a function call in local mode). */
export interface ConfirmationRequest {
  kind: 'confirm';
  /** The probe region that saw the failures. */
  from: string;
  /** The origin's round (slot, epoch seconds) that saw them. */
  slot: number;
  /** 0-based: the round's requests in the order it sent them. */
  batch: number;
  targets: ConfirmationTarget[];
}

/** How long the origin gathers failures before it sends them as one request: one message per destination, not per target. */
export const CONFIRMATION_LINGER_MS = 50;

/** The id of the confirmation a request becomes: the same for every delivery of it, so a duplicate rewrites one item. */
export function confirmationBatchId(request: Pick<ConfirmationRequest, 'from' | 'slot' | 'batch'>): string {
  return `${request.from}/${request.slot}/${request.batch}`;
}

/** `region/target`: how claims and the origin's memory name a target. */
export function targetKey(region: string, target: string): string {
  return `${region}/${target}`;
}

/**
 * The checks one round may ask the other probe regions for: at most `perHostConcurrency` per host and `concurrency`
 * in all. Whatever it allows, a confirming probe region can start at once: its caps never hold a confirmation back.
 */
export class ConfirmationBudget {
  private readonly perHost = new Map<string, number>();
  private total = 0;

  constructor(private readonly probing: Pick<RegionwatchConfig['probing'], 'perHostConcurrency' | 'concurrency'>) {}

  /** Takes one check on `host` if the budget has it. */
  take(host: string): boolean {
    const used = this.perHost.get(host) ?? 0;
    if (this.total >= this.probing.concurrency || used >= this.probing.perHostConcurrency) return false;
    this.perHost.set(host, used + 1);
    this.total++;
    return true;
  }
}

/**
 * Whether the origin should ask about a target whose check just failed: only when its own previous check of it
 * (round or confirmation) was up, or it has none. A target that stays down is confirmed once, when it starts failing.
 */
export function wasUp(previous: ResultStatus | undefined): boolean {
  return previous === undefined || previous === 'up';
}

/**
 * A request older than one interval (from the origin's failing check to its arrival) is dropped: the rounds have
 * sampled the target again since, and a late confirmation would only add load.
 */
export function isStaleRequest(request: ConfirmationRequest, nowMs: number, intervalSeconds: number): boolean {
  const oldest = Math.min(...request.targets.map((t) => t.at));
  return nowMs - oldest > intervalSeconds * 1000;
}

/**
 * When the asked probe region checks: at once, but not before `minFaultSeconds` after the newest failing check the
 * request names, so that a fault its check still sees has lasted long enough to be worth a page (a blip has ended
 * by then and the check says so). It never waits longer than `minFaultSeconds` from the arrival: a skewed origin clock
 * cannot hold it up.
 */
export function confirmationCheckAt(request: ConfirmationRequest, nowMs: number, minFaultSeconds: number): number {
  const waitMs = minFaultSeconds * 1000;
  const wanted = Math.max(...request.targets.map((t) => t.at)) + waitMs;
  return nowMs + Math.min(waitMs, Math.max(0, wanted - nowMs));
}

/** A request that cannot be served: not JSON, missing fields, from a probe region the config does not name. */
export class ConfirmationRequestError extends Error {
  override readonly name = 'ConfirmationRequestError';
}

/** Whether a parsed message body is a confirmation request (and not a round message). */
export function isConfirmationMessage(value: unknown): boolean {
  return value !== null && typeof value === 'object' && (value as { kind?: unknown }).kind === 'confirm';
}

/**
 * Parses a request body; throws ConfirmationRequestError naming what is wrong. Targets the config does not have
 * (a config change in flight) are dropped, not an error.
 */
export function parseConfirmationRequest(body: string, config: RegionwatchConfig): ConfirmationRequest {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new ConfirmationRequestError('confirmation request is not JSON');
  }
  if (!isConfirmationMessage(value)) throw new ConfirmationRequestError('not a confirmation request (kind must be "confirm")');
  const { from, slot, batch, targets } = value as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof from !== 'string' || !config.probeRegions.includes(from)) problems.push('from must be a probe region of the config');
  if (typeof slot !== 'number' || !Number.isSafeInteger(slot)) problems.push('slot must be an integer (epoch seconds)');
  if (typeof batch !== 'number' || !Number.isSafeInteger(batch) || batch < 0) problems.push('batch must be a whole number');
  if (!Array.isArray(targets) || targets.length === 0) problems.push('targets must be a non-empty array');
  if (problems.length > 0) throw new ConfirmationRequestError(`bad confirmation request: ${problems.join('; ')}`);
  const known = new Set(Object.entries(config.regions).flatMap(([region, r]) => r.targets.map((t) => targetKey(region, t.name))));
  const parsed: ConfirmationTarget[] = [];
  for (const t of targets as unknown[]) {
    const { region, target, at } = (t ?? {}) as Record<string, unknown>;
    if (typeof region !== 'string' || typeof target !== 'string' || typeof at !== 'number' || !Number.isFinite(at)) {
      throw new ConfirmationRequestError('bad confirmation request: each target needs region, target and at (epoch ms)');
    }
    if (known.has(targetKey(region, target))) parsed.push({ region, target, at });
  }
  return { kind: 'confirm', from: from as string, slot: slot as number, batch: batch as number, targets: parsed };
}
