// Confirm on failure in the simulator: which failing checks a probe region asks the others about, and what the asked
// probe regions may check, by the same rules as the prober (lambda/core/confirmation.ts), with the traffic counted.
import type { ResolvedTarget } from '../config/resolve';
import { CONFIRMATION_LINGER_MS, ConfirmationBudget, wasUp } from '../core/confirmation';
import type { ResultStatus } from '../core/results';
import type { SynthCheck } from './synth';

/** A request as the simulator carries it: targets by index, each with the time its failing check started. */
export interface SimulatedRequest {
  from: string;
  slot: number;
  batch: number;
  /** When the origin sends it (the end of its linger), epoch ms. */
  sentAtMs: number;
  targets: { target: number; at: number }[];
}

/** What confirmation cost and did, for the report and the bench. */
export interface ConfirmationCounters {
  /** Requests sent, one per destination probe region per batch (SQS messages on AWS). */
  requests: number;
  /** Requests the transport lost (`confirmation-loss`). */
  lost: number;
  /** Requests dropped on arrival as older than an interval, or by a silent probe region. */
  dropped: number;
  /** Confirmation checks run (requests that reached the platform). */
  checks: number;
  /** Targets of arriving requests that a claim held back: already confirmed by that probe region in that slot. */
  claimedAway: number;
  /** The most requests (round and confirmation checks) one probe region sent one target in one slot. */
  maxRequestsPerTargetSlot: number;
}

/** One confirmation check, for the traffic figures (quiet and broken times). */
export interface ConfirmationCheck {
  atMs: number;
  probeRegion: string;
  region: string;
}

export class ConfirmationTraffic {
  readonly counters: ConfirmationCounters = { requests: 0, lost: 0, dropped: 0, checks: 0, claimedAway: 0, maxRequestsPerTargetSlot: 0 };
  readonly checks: ConfirmationCheck[] = [];
  private readonly probeIndex = new Map<string, number>();
  /** Each probe region's newest check of each target, by probe region index × targets + target index. */
  private readonly newest = new Map<number, ResultStatus>();
  /** Targets each probe region checked for confirmation per slot: `${probe region}|${slot}` → target indexes. */
  private readonly claimed = new Map<string, Set<number>>();
  /** Requests (round and confirmation checks) per slot, then per probe region × targets + target, for the last few slots. */
  private readonly perSlot = new Map<number, Map<number, number>>();

  constructor(
    private readonly targets: readonly ResolvedTarget[],
    private readonly hosts: readonly string[],
    private readonly probing: { perHostConcurrency: number; concurrency: number },
    private readonly intervalSeconds: number,
  ) {}

  /**
   * A round's checks: records them, and returns the requests its probe region sends. A failing check asks only when
   * the probe region's previous check of the target was up, within the round's budget, at the moment it is known to
   * fail (its answer, or `degradedLatencyMs` without one); failures known within CONFIRMATION_LINGER_MS of the first of
   * a batch go in one request.
   */
  fromRound(probeRegion: string, slot: number, checks: readonly SynthCheck[]): SimulatedRequest[] {
    const budget = new ConfirmationBudget(this.probing);
    const known: { target: number; at: number; knownAt: number }[] = [];
    const p = this.indexOf(probeRegion);
    for (const c of checks) {
      const previous = this.newest.get(p + c.target);
      this.record(p, c);
      const t = this.targets[c.target];
      if (!t || c.result.status === 'up' || !wasUp(previous)) continue;
      if (!budget.take(this.hosts[c.target] ?? '')) continue;
      known.push({ target: c.target, at: c.at, knownAt: c.at + Math.min(c.result.latencyMs, t.degradedLatencyMs) });
    }
    known.sort((a, b) => a.knownAt - b.knownAt);
    const requests: SimulatedRequest[] = [];
    for (const k of known) {
      const open = requests[requests.length - 1];
      if (open && k.knownAt <= open.sentAtMs) open.targets.push({ target: k.target, at: k.at });
      else requests.push({ from: probeRegion, slot, batch: requests.length, sentAtMs: k.knownAt + CONFIRMATION_LINGER_MS, targets: [{ target: k.target, at: k.at }] });
    }
    return requests;
  }

  /** The targets of an arriving request that `probeRegion` may check in `slot`: those it has not confirmed there yet. */
  claim(probeRegion: string, slot: number, targets: readonly number[]): number[] {
    const key = `${probeRegion}|${slot}`;
    const mine = this.claimed.get(key) ?? new Set<number>();
    this.claimed.set(key, mine);
    const out: number[] = [];
    for (const n of targets) {
      if (mine.has(n)) this.counters.claimedAway++;
      else {
        mine.add(n);
        out.push(n);
      }
    }
    return out;
  }

  /** A confirmation's checks: recorded as the probe region's newest, and counted. */
  fromConfirmation(probeRegion: string, checks: readonly SynthCheck[]): void {
    const p = this.indexOf(probeRegion);
    for (const c of checks) {
      this.record(p, c);
      this.counters.checks++;
      this.checks.push({ atMs: c.at, probeRegion, region: this.targets[c.target]?.region ?? '' });
    }
  }

  /** Forgets claims and counts of slots before `slot` (they can no longer change). */
  expireBefore(slot: number): void {
    for (const key of [...this.claimed.keys()]) if (Number(key.slice(key.indexOf('|') + 1)) < slot) this.claimed.delete(key);
    for (const s of [...this.perSlot.keys()]) if (s < slot) this.perSlot.delete(s);
  }

  /** The probe region's offset in the per-target keys (its index times the number of targets). */
  private indexOf(probeRegion: string): number {
    let p = this.probeIndex.get(probeRegion);
    if (p === undefined) {
      p = this.probeIndex.size * this.targets.length;
      this.probeIndex.set(probeRegion, p);
    }
    return p;
  }

  private record(p: number, c: SynthCheck): void {
    this.newest.set(p + c.target, c.result.status);
    const slot = Math.floor(c.at / 1000 / this.intervalSeconds) * this.intervalSeconds;
    let counts = this.perSlot.get(slot);
    if (!counts) {
      counts = new Map();
      this.perSlot.set(slot, counts);
    }
    const n = (counts.get(p + c.target) ?? 0) + 1;
    counts.set(p + c.target, n);
    if (n > this.counters.maxRequestsPerTargetSlot) this.counters.maxRequestsPerTargetSlot = n;
  }
}
