// Quorum verdicts from a window of round records: per slot, per target and per platform region. Pure: no I/O, no clock.
//
// Every batch re-derives the verdicts of the whole window from the stored rounds, so a replayed or duplicated batch
// produces the same answer and a late round (replication lag) simply changes the slots it belongs to.
import type { RegionwatchConfig } from '../config/schema';
import { resolveTargets } from '../config/resolve';
import type { ProbeRegionEvidence, TargetEvidence, Verdict } from './notification';
import { isOwnRefusal, WindowRefusals, type TargetRefusal } from './refusals';
import { isConfirmation, recordsOfCompleteRounds, slotOf, type ErrorClass, type ProbeResult, type ResultStatus, type RoundRecord } from './results';
import { staggerOffsets, type DetectionMode } from './stagger';

/** A verdict that is neither `up` nor a lack of knowledge: what an incident is about. */
export type BadVerdict = 'degraded' | 'read-only' | 'down';

/** down > read-only > degraded > up; `maintenance` and `unknown` rank below everything (they never page). */
export const SEVERITY_RANK: Readonly<Record<Verdict, number>> = {
  unknown: -2,
  maintenance: -1,
  up: 0,
  degraded: 1,
  'read-only': 2,
  down: 3,
};

export function isBad(verdict: Verdict): verdict is BadVerdict {
  return verdict === 'degraded' || verdict === 'read-only' || verdict === 'down';
}

/** The worse of two verdicts by SEVERITY_RANK. */
export function worse(a: Verdict, b: Verdict): Verdict {
  return SEVERITY_RANK[b] > SEVERITY_RANK[a] ? b : a;
}

/** One target as the evaluator sees it: its thresholds with the config's defaults applied. */
export interface EvaluatedTarget {
  region: string;
  name: string;
  role: 'read' | 'write-probe';
  intervalSeconds: number;
  failureThreshold: number;
  recoveryThreshold: number;
  quorum: number;
  /** The shortest fault worth a page, in seconds (the config's `minFaultSeconds`). */
  minFaultSeconds: number;
}

export interface MaintenanceSpan {
  region: string;
  /** Epoch milliseconds, [startMs, endMs). */
  startMs: number;
  endMs: number;
}

/** Tuning of the lifecycle that the config does not expose; every field has a default (see DEFAULT_LIFECYCLE). */
export interface LifecycleTuning {
  /** A region that fails again this soon after its incident resolved reopens that incident instead of a new one. */
  reopenWindowSeconds: number;
  /** Once an incident has flapped (bad again after being up), it needs this long up (at least recoveryThreshold slots) to resolve. */
  flapRecoverySeconds: number;
  /** How far back every batch re-derives verdicts, so results this late are still reconciled into the timeline. */
  lateToleranceSeconds: number;
  /**
   * How long verdicts wait for late results (global table replication lag): the decision slot may lie this far
   * behind now. Beyond it the evaluation decides at this bound with what it has (`unknown` without a quorum) and
   * the checker alerts once.
   */
  maxDataWaitSeconds: number;
  /** Share of a probe region's results that must fail (everywhere) for it to count as impaired. */
  impairedFailShare: number;
  /**
   * Most timeline segments an incident keeps one by one; older ones (never those the window re-derives) are folded
   * into summary segments that keep their seconds per verdict, so a long flapping incident's item stays bounded.
   */
  maxTimelineSegments: number;
}

export const DEFAULT_LIFECYCLE: LifecycleTuning = {
  reopenWindowSeconds: 900,
  flapRecoverySeconds: 600,
  lateToleranceSeconds: 180,
  maxDataWaitSeconds: 300,
  impairedFailShare: 0.9,
  maxTimelineSegments: 300,
};

/** Everything evaluation and the lifecycle need from the config, flattened once. */
export interface EvaluationSettings {
  probeRegions: string[];
  homeRegion: string;
  /** The default interval: rounds run on it, slots are multiples of it. */
  intervalSeconds: number;
  /** Platform regions in config order. */
  regions: string[];
  targets: EvaluatedTarget[];
  maintenance: MaintenanceSpan[];
  reminderMinutes: number;
  /** Default failure threshold: also how many slots a probe region's silence or impairment must last before a checker alert. */
  failureThreshold: number;
  /**
   * How failures are confirmed: with `rounds` a target is bad after `failureThreshold` failing slots; otherwise (rounds
   * staggered across the slot, confirmations) after a quorum's failing checks span `minFaultSeconds` (see confirmedBad).
   */
  detection: DetectionMode;
  /** Where each probe region's rounds start inside a slot, ms: a result without a usable time stands there. */
  staggerOffsetsMs: Record<string, number>;
  tuning: LifecycleTuning;
}

/** Flattens a validated config for the evaluator; `tuning` overrides DEFAULT_LIFECYCLE field by field. */
export function evaluationSettings(config: RegionwatchConfig, tuning: Partial<LifecycleTuning> = {}): EvaluationSettings {
  return {
    probeRegions: [...config.probeRegions],
    homeRegion: config.homeRegion,
    intervalSeconds: config.defaults.intervalSeconds,
    regions: Object.keys(config.regions),
    targets: resolveTargets(config).map((t) => ({
      region: t.region,
      name: t.name,
      role: t.role,
      intervalSeconds: t.intervalSeconds,
      failureThreshold: t.failureThreshold,
      recoveryThreshold: t.recoveryThreshold,
      quorum: t.quorum,
      minFaultSeconds: t.minFaultSeconds,
    })),
    maintenance: config.maintenance.map((m) => ({ region: m.region, startMs: Date.parse(m.start), endMs: Date.parse(m.end) })),
    reminderMinutes: config.notifications.reminderMinutes,
    failureThreshold: config.defaults.failureThreshold,
    detection: config.probing.detection,
    staggerOffsetsMs: staggerOffsets(config),
    tuning: { ...DEFAULT_LIFECYCLE, ...tuning },
  };
}

/**
 * Slots a target must be bad for with `rounds` (aligned rounds, one check per probe region per slot): its failure
 * threshold, or more when `minFaultSeconds` asks for a longer fault than those slots span.
 */
export function failingSlotsRequired(target: Pick<EvaluatedTarget, 'failureThreshold' | 'minFaultSeconds'>, intervalSeconds: number): number {
  return Math.max(target.failureThreshold, 1 + Math.ceil(target.minFaultSeconds / intervalSeconds));
}

/** How many slots a window holds: the slots decided on, plus the look-back freshness needs before the first of them. */
export function windowShape(settings: EvaluationSettings): { decisionSlots: number; lookbackSlots: number } {
  const i = settings.intervalSeconds;
  let thresholds = settings.failureThreshold;
  let longestInterval = i;
  for (const t of settings.targets) {
    // A confirmation by time looks back minFaultSeconds at most MAX_MIN_FAULT_SECONDS, inside the late tolerance below.
    thresholds = Math.max(thresholds, failingSlotsRequired(t, i), t.recoveryThreshold);
    longestInterval = Math.max(longestInterval, t.intervalSeconds);
  }
  const decisionSlots = thresholds + Math.ceil(settings.tuning.lateToleranceSeconds / i) + 1;
  return { decisionSlots, lookbackSlots: Math.ceil((2 * longestInterval) / i) };
}

/** Seconds of window behind the decision slot: the decision range plus the freshness look-back before it. */
function windowSpan(settings: EvaluationSettings): number {
  const { decisionSlots, lookbackSlots } = windowShape(settings);
  return (decisionSlots + lookbackSlots - 1) * settings.intervalSeconds;
}

/**
 * The slot range [fromSlot, toSlot] (epoch seconds) to read first for an evaluation at `nowMs`: enough when the
 * decision slot is the slot of now or the one before (every probe region current, the normal case). When the rounds
 * read show that verdicts wait for late results, `lateWindowBounds` gives the older range to read as well.
 */
export function windowBounds(settings: EvaluationSettings, nowMs: number): { fromSlot: number; toSlot: number } {
  const toSlot = slotOf(nowMs, settings.intervalSeconds);
  return { fromSlot: toSlot - settings.intervalSeconds - windowSpan(settings), toSlot };
}

/**
 * The older slot range to read as well, when the rounds of `windowBounds` put the decision slot further back than
 * they cover (replication lag); null when they suffice. It never reaches past `maxDataWaitSeconds` plus the window
 * behind the decision slot, so a run reads at most two ranges (two Queries, each paginated).
 */
export function lateWindowBounds(settings: EvaluationSettings, rounds: readonly RoundRecord[], nowMs: number): { fromSlot: number; toSlot: number } | null {
  const near = windowBounds(settings, nowMs);
  const fromSlot = decisionPoint(settings, rounds, nowMs).slot - windowSpan(settings);
  return fromSlot >= near.fromSlot ? null : { fromSlot, toSlot: near.fromSlot - settings.intervalSeconds };
}

/** Where an evaluation decides, and how far that lies behind now. */
export interface DecisionPoint {
  /** The decision slot (epoch seconds). */
  slot: number;
  /** Seconds from the newest slot a quorum of probe regions is fresh at to the slot of now (at least the bound when none is). */
  waitSeconds: number;
  /** Probe regions behind now whose results verdicts wait for (all of them when overdue). */
  waitingFor: string[];
  /** No slot within `maxDataWaitSeconds` of now has a quorum of fresh probe regions: decided at that bound instead. */
  overdue: boolean;
  /** Each probe region's newest slot with a round (up to the slot of now), null without one in the rounds read. */
  newestSlots: Record<string, number | null>;
}

/** Freshness in slots of the default interval: a probe region is fresh at slot k with a round at k-2 … k. */
const FRESH_SLOTS = 2;

/**
 * The decision slot: the newest slot at which a quorum of probe regions has results, so verdicts wait for late
 * results instead of reading their absence as silence. Concretely the quorum-th newest of the probe regions'
 * newest slots (the smallest target quorum; never past the slot of now). Every probe region at or past that slot has
 * its own result there, so no verdict rests on an older result standing in for a late one; the probe regions further
 * behind are the minority (stale or, within two intervals, fresh as usual). Bounded against now: when that slot lies
 * more than `maxDataWaitSeconds` back (all remote results late, or too many probe regions silent), the decision slot
 * is that bound and the evaluation says it is overdue. In the normal case this is the slot of now or the one before.
 * With staggered rounds a confirmation counts as a probe region's result at its slot: the confirmations a failure
 * asks for move the decision to the slot they were made in, without waiting for the rounds there.
 */
export function decisionPoint(settings: EvaluationSettings, rounds: readonly RoundRecord[], nowMs: number): DecisionPoint {
  const i = settings.intervalSeconds;
  const nowSlot = slotOf(nowMs, i);
  const newest = new Map<string, number>();
  for (const p of settings.probeRegions) newest.set(p, Number.NEGATIVE_INFINITY);
  // A round with a shard still missing does not count yet: verdicts wait for it as for a late one.
  const complete = recordsOfCompleteRounds(rounds);
  for (const r of rounds) {
    const counts = isConfirmation(r) || complete.has(r);
    if (counts && r.slot <= nowSlot && r.slot > (newest.get(r.probeRegion) ?? Number.NEGATIVE_INFINITY)) newest.set(r.probeRegion, r.slot);
  }
  let quorum = Number.POSITIVE_INFINITY;
  for (const t of settings.targets) quorum = Math.min(quorum, t.quorum);
  if (!Number.isFinite(quorum)) quorum = 1;
  const ordered = [...newest.values()].sort((a, b) => b - a);
  const quorumSlot = ordered[Math.max(1, quorum) - 1] ?? Number.NEGATIVE_INFINITY;
  const floor = nowSlot - Math.ceil(settings.tuning.maxDataWaitSeconds / i) * i;
  const overdue = quorumSlot < floor;
  const slot = overdue ? floor : quorumSlot;
  const behind = [...newest].filter(([, n]) => n < nowSlot - FRESH_SLOTS * i).map(([p]) => p);
  return {
    slot,
    waitSeconds: Number.isFinite(quorumSlot) ? Math.max(nowSlot - quorumSlot, 0) : nowSlot - floor,
    // Not overdue: only those whose results reach the decision slot are awaited; the others are silent there.
    waitingFor: overdue ? behind : behind.filter((p) => (newest.get(p) ?? Number.NEGATIVE_INFINITY) >= slot - FRESH_SLOTS * i),
    overdue,
    newestSlots: Object.fromEntries([...newest].map(([p, n]) => [p, Number.isFinite(n) ? n : null])),
  };
}

/** Probe regions at one slot: counted (fresh), silent (stale) and left out as impaired. */
export interface ProbeRegionsAt {
  fresh: string[];
  stale: string[];
  impaired: string[];
}

/**
 * What one probe region's latest fresh results say of one platform region, before quorum ("who sees what"): one row
 * red while the others are green is that probe region's own network, not the platform.
 */
export interface ProbeView {
  /**
   * `stale`: no fresh round from this probe region; `none`: the platform region has no targets; `unknown`: regionwatch
   * refused to probe every one of them (its SSRF guard, refusals.ts; `detail` says why).
   */
  status: 'up' | 'degraded' | 'read-only' | 'down' | 'stale' | 'none' | 'unknown';
  /** Targets this probe region sees failing (at most MAX_VIEW_TARGETS). */
  failing: string[];
  /** Failing targets beyond the ones listed. */
  moreFailing?: number;
  /** The first failing target's evidence in one line (`write-path · 503 · status`), or what is not probed and why. */
  detail?: string;
  /** Left out of the quorum: it sees nearly everything fail while the others do not. */
  impaired?: boolean;
}

/** Failing targets a ProbeView lists by name. */
const MAX_VIEW_TARGETS = 10;
/** Longest `detail` a ProbeView keeps (a refusal's reason and fix fit). */
const MAX_VIEW_DETAIL = 240;

/**
 * One probe region's view of a platform region from its latest result of each target: reads decide down, a refused
 * write probe alone is read-only. Our own refusals (refusals.ts) say nothing about the platform: the view judges what
 * was probed and names them; with nothing probed it is `unknown`, "not probed", never down or stale.
 */
export function probeViewOf(latest: readonly ProbeResult[]): ProbeView {
  if (latest.length === 0) return { status: 'none', failing: [] };
  const results = latest.filter((r) => !isOwnRefusal(r));
  const refused = latest.filter(isOwnRefusal);
  const notProbed = refused[0] ? `not probed: ${refused.map((r) => r.target).join(', ')} · blocked-address · ${refused[0].detail ?? ''}`.slice(0, MAX_VIEW_DETAIL) : undefined;
  if (results.length === 0) return { status: 'unknown', failing: [], ...(notProbed ? { detail: notProbed } : {}) };
  const failing = results.filter((r) => r.status !== 'up');
  const reads = results.filter((r) => r.role === 'read');
  const writesDown = results.some((r) => r.role === 'write-probe' && r.status === 'down');
  let status: ProbeView['status'] = 'up';
  if (reads.some((r) => r.status === 'down') || (writesDown && reads.length === 0)) status = 'down';
  else if (writesDown) status = 'read-only';
  else if (failing.length > 0) status = 'degraded';
  const view: ProbeView = { status, failing: failing.slice(0, MAX_VIEW_TARGETS).map((r) => r.target) };
  if (failing.length > MAX_VIEW_TARGETS) view.moreFailing = failing.length - MAX_VIEW_TARGETS;
  const first = failing[0];
  const detail = first ? [first.target, first.statusCode !== undefined ? String(first.statusCode) : undefined, first.errorClass].filter((p) => p !== undefined).join(' · ') : notProbed;
  if (detail) view.detail = detail;
  return view;
}

/** Per-target verdict codes, kept as small integers for speed: index into TARGET_VERDICTS. */
const TARGET_VERDICTS: readonly Verdict[] = ['unknown', 'up', 'degraded', 'read-only', 'down'];
const V_UNKNOWN = 0;
const V_UP = 1;
const V_DEGRADED = 2;
const V_READ_ONLY = 3;
const V_DOWN = 4;

/** One platform region across the window. */
export interface RegionWindow {
  region: string;
  /** Region verdict per slot (worst of its targets; `maintenance` inside a window; `unknown` without quorum). */
  verdicts: Verdict[];
  /** Target names in config order. */
  targets: string[];
  /** Longest recovery threshold among the targets: how many up slots a resolve needs at least. */
  recoveryThreshold: number;
  /**
   * The target's verdict at slot index k: `unknown` without a quorum of fresh probe regions,
   * a write probe refused while reads succeed is `read-only`.
   */
  targetVerdict(target: string, k: number): Verdict;
  /** The worst verdict the target held for its whole failure threshold ending at k, or undefined if it did not. */
  confirmedBad(target: string, k: number): BadVerdict | undefined;
  /** Evidence for every target not up at slot index k, or failing from any probe region (with what each probe region saw). */
  evidenceAt(k: number): TargetEvidence[];
  /**
   * Targets regionwatch refused to probe at slot index k (the SSRF guard's `blocked-address`, refusals.ts), with the
   * probe regions that refused. Their refusals count in no verdict; a target left without one is left out of the region's.
   */
  refusalsAt(k: number): TargetRefusal[];
  /** What every probe region sees of this platform region at slot index k, impaired ones included (keyed by probe region). */
  probeViewsAt(k: number): Record<string, ProbeView>;
}

/** The result of evaluating one window. */
export interface WindowEvaluation {
  intervalSeconds: number;
  /** Slot starts (epoch seconds) of the decision range, ascending; the last is the decision slot. */
  slots: number[];
  /** Index of the decision slot in `slots` (slots.length - 1), or -1 when the window is empty. */
  latest: number;
  /** Probe regions per slot. */
  probeRegions: ProbeRegionsAt[];
  regions: Record<string, RegionWindow>;
  /** Results the window held (every round part counted), for throughput figures. */
  resultCount: number;
  /** Seconds the decision waits behind the slot of now for late results (0 when every probe region is current). */
  waitSeconds: number;
  /** Probe regions whose late results verdicts wait for; when overdue, every probe region behind now. */
  waitingFor: string[];
  /** True when the wait passed `maxDataWaitSeconds`: decided at that bound, where late probe regions are stale. */
  overdue: boolean;
  /** Each probe region's newest slot with a round, null without one in the window read. */
  newestSlots: Record<string, number | null>;
}

interface TargetIndexEntry {
  target: EvaluatedTarget;
  /** Slots of freshness look-back for this target (two of its intervals). */
  lookback: number;
  /** verdict code per slot index (decision range), computed in evaluate. */
  codes: Uint8Array;
}

/**
 * Evaluates a window of rounds at `nowMs`.
 *
 * The decision slot is `decisionPoint`'s: the newest slot with results from a quorum of probe regions, never past
 * the slot of `nowMs` (a prober whose clock runs ahead cannot move time forward) and never more than
 * `maxDataWaitSeconds` behind it. For each slot of the decision range and each target,
 * every probe region counts whose newest result for the target is at most two of the target's intervals old,
 * unless that probe region is impaired at that slot. A target is `down` when at least `quorum` counted probe
 * regions see it down, `degraded` when at least `quorum` see it not up, `unknown` with fewer than `quorum`
 * counted probe regions, `up` otherwise.
 */
export function evaluateWindow(settings: EvaluationSettings, rounds: readonly RoundRecord[], nowMs: number): WindowEvaluation {
  const i = settings.intervalSeconds;
  const { decisionSlots, lookbackSlots } = windowShape(settings);
  let resultCount = 0;
  for (const r of rounds) resultCount += r.results.length;
  const point = decisionPoint(settings, rounds, nowMs);
  const decisionSlot = point.slot;
  const base = decisionSlot - (decisionSlots + lookbackSlots - 1) * i;
  const total = decisionSlots + lookbackSlots;

  // Probe regions: configured ones first, then any others that wrote rounds (a config change in flight).
  const probeRegions = [...settings.probeRegions];
  for (const r of rounds) if (!probeRegions.includes(r.probeRegion)) probeRegions.push(r.probeRegion);
  const pCount = probeRegions.length;
  const pIndex = new Map(probeRegions.map((p, n) => [p, n]));

  const entries: TargetIndexEntry[] = settings.targets.map((target) => ({ target, lookback: Math.ceil((2 * target.intervalSeconds) / i), codes: new Uint8Array(decisionSlots) }));
  const tCount = entries.length;

  // results[(p * tCount + t) * total + k]: the newest result of target t from probe region p at slot index k (its
  // round's, or a later confirmation's), observed at resultAt[…]. A cell with more than one observation keeps every
  // one in moreObservations, for confirmation by time.
  const cells = pCount * tCount * total;
  const results: (ProbeResult | undefined)[] = new Array<ProbeResult | undefined>(cells);
  const resultAt = new Float64Array(cells);
  const moreObservations = new Map<number, Observation[]>();
  const hasRound = new Uint8Array(pCount * total);
  const refusals = new WindowRefusals((cell) => results[cell] !== undefined);
  const targetIndexes = targetIndexer(settings);
  // Only a round whose every part (of every shard) is in makes its probe region current at its slot; the parts that
  // are in still count as results for their targets.
  const complete = recordsOfCompleteRounds(rounds);
  for (const round of rounds) {
    const k = (round.slot - base) / i;
    if (k < 0 || k >= total || !Number.isInteger(k)) continue;
    const p = pIndex.get(round.probeRegion);
    if (p === undefined) continue;
    // Freshness is about a probe region's rounds: a confirmation answers for some targets, not for the probe region.
    if (complete.has(round)) hasRound[p * total + k] = 1;
    const targetOf = targetIndexes(round.results);
    for (let n = 0; n < round.results.length; n++) {
      const result = round.results[n] as ProbeResult;
      const t = targetOf[n] ?? -1;
      if (t < 0) continue;
      const cell = (p * tCount + t) * total + k;
      // Our own refusal is no platform verdict: it goes beside the results, never among them (refusals.ts), so neither
      // a verdict nor a confirmation by time (which reads every observation of a cell) ever counts it.
      if (isOwnRefusal(result)) {
        refusals.note(cell, result);
        continue;
      }
      const at = observedAt(result, round, i, settings.staggerOffsetsMs);
      const have = results[cell];
      if (have === undefined) {
        results[cell] = result;
        resultAt[cell] = at;
        continue;
      }
      let list = moreObservations.get(cell);
      if (!list) {
        list = [{ at: resultAt[cell] ?? at, status: have.status }];
        moreObservations.set(cell, list);
      }
      // The same record held twice (a doubled invocation, a replayed batch kept in memory) is one check, not two.
      if (list.some((o) => o.at === at && o.status === result.status)) continue;
      list.push({ at, status: result.status });
      if (at >= (resultAt[cell] ?? 0)) {
        results[cell] = result;
        resultAt[cell] = at;
      }
    }
  }

  // The newest result of target t from probe region p within its freshness, at each slot of the decision range:
  // found once here, then read by the verdicts, the impairment test and the evidence (each asked it again before).
  const newest: (ProbeResult | undefined)[] = new Array<ProbeResult | undefined>(pCount * tCount * decisionSlots);
  for (let p = 0; p < pCount; p++) {
    for (let t = 0; t < tCount; t++) {
      const lookback = entries[t]?.lookback ?? 0;
      const row = (p * tCount + t) * total;
      const out = (p * tCount + t) * decisionSlots;
      for (let d = 0; d < decisionSlots; d++) {
        const k = d + lookbackSlots;
        const stop = Math.max(0, k - lookback);
        for (let j = k; j >= stop; j--) {
          const r = results[row + j];
          if (r) {
            newest[out + d] = r;
            break;
          }
        }
      }
    }
  }
  /** Newest result of target t from probe region p within its freshness at slot index k (absolute, in the decision range). */
  const latestResult = (p: number, t: number, k: number): ProbeResult | undefined => newest[(p * tCount + t) * decisionSlots + k - lookbackSlots];

  /** Probe regions (indexes) whose newest observation of target t at absolute slot index k is our own refusal. */
  const refusedFrom = (t: number, k: number): { p: number; refusal: ProbeResult }[] => {
    const entry = entries[t];
    if (refusals.empty || !entry) return [];
    const out: { p: number; refusal: ProbeResult }[] = [];
    for (let p = 0; p < pCount; p++) {
      const refusal = refusals.newestAt((p * tCount + t) * total, k, entry.lookback);
      if (refusal) out.push({ p, refusal });
    }
    return out;
  };

  const probeAt: ProbeRegionsAt[] = [];
  const slots: number[] = [];
  // impaired[p * decisionSlots + d]
  const impaired = new Uint8Array(pCount * decisionSlots);
  /** Per slot of the decision range: the fresh probe regions (indexes) left after the impaired ones. */
  const countedAt: number[][] = [];
  const regionsWithTargets = new Set(entries.map((e) => e.target.region));

  for (let d = 0; d < decisionSlots; d++) {
    const k = d + lookbackSlots;
    slots.push(base + k * i);
    const fresh: string[] = [];
    const stale: string[] = [];
    const freshIdx: number[] = [];
    for (let p = 0; p < pCount; p++) {
      let isFresh = false;
      for (let j = k; j >= Math.max(0, k - FRESH_SLOTS); j--) {
        if (hasRound[p * total + j]) {
          isFresh = true;
          break;
        }
      }
      const name = probeRegions[p] ?? '';
      if (isFresh) {
        fresh.push(name);
        freshIdx.push(p);
      } else stale.push(name);
    }
    // Impaired: a fresh probe region that sees nearly everything fail, in every platform region, while the others see it up.
    const impairedNames: string[] = [];
    if (freshIdx.length >= 2 && tCount > 0) {
      for (const p of freshIdx) {
        let seen = 0;
        let failed = 0;
        const failingRegions = new Set<string>();
        const seenRegions = new Set<string>();
        for (let t = 0; t < tCount; t++) {
          const r = latestResult(p, t, k);
          if (!r) continue;
          seen++;
          const region = entries[t]?.target.region ?? '';
          seenRegions.add(region);
          if (r.status === 'up') continue;
          failed++;
          failingRegions.add(region);
        }
        const everywhere = [...seenRegions].every((r) => failingRegions.has(r)) && regionsWithTargets.size > 0;
        if (seen === 0 || failed / seen < settings.tuning.impairedFailShare || !everywhere) continue;
        // Only a probe region that sees nearly everything fail is compared with the others, target by target.
        let othersUp = 0;
        let othersSeen = 0;
        for (let t = 0; t < tCount; t++) {
          const r = latestResult(p, t, k);
          if (!r || r.status === 'up') continue;
          for (const q of freshIdx) {
            if (q === p) continue;
            const other = latestResult(q, t, k);
            if (!other) continue;
            othersSeen++;
            if (other.status === 'up') othersUp++;
          }
        }
        if (othersSeen > 0 && othersUp * 2 > othersSeen) {
          impaired[p * decisionSlots + d] = 1;
          impairedNames.push(probeRegions[p] ?? '');
        }
      }
    }
    probeAt.push({ fresh: fresh.filter((f) => !impairedNames.includes(f)), stale, impaired: impairedNames });
    countedAt.push(freshIdx.filter((p) => !impaired[p * decisionSlots + d]));

    // Target verdict codes at this slot.
    for (let t = 0; t < tCount; t++) {
      const entry = entries[t];
      if (!entry) continue;
      let counted = 0;
      let down = 0;
      let bad = 0;
      for (const p of freshIdx) {
        if (impaired[p * decisionSlots + d]) continue;
        const r = latestResult(p, t, k);
        if (!r) continue;
        counted++;
        if (r.status === 'down') down++;
        if (r.status !== 'up') bad++;
      }
      const q = entry.target.quorum;
      entry.codes[d] = counted < q ? V_UNKNOWN : down >= q ? V_DOWN : bad >= q ? V_DEGRADED : V_UP;
    }
  }

  // A refused write probe while the region's reads are not all down: read-only.
  const byRegion = new Map<string, number[]>();
  entries.forEach((e, t) => {
    const list = byRegion.get(e.target.region) ?? [];
    list.push(t);
    byRegion.set(e.target.region, list);
  });
  for (const list of byRegion.values()) {
    const reads = list.filter((t) => entries[t]?.target.role === 'read');
    for (const t of list) {
      const entry = entries[t];
      if (!entry || entry.target.role !== 'write-probe') continue;
      for (let d = 0; d < decisionSlots; d++) {
        if (entry.codes[d] !== V_DOWN) continue;
        const readsServe = reads.some((r) => {
          const c = entries[r]?.codes[d];
          return c === V_UP || c === V_DEGRADED;
        });
        if (readsServe) entry.codes[d] = V_READ_ONLY;
      }
    }
  }

  const readsServe = (list: readonly number[], d: number): boolean =>
    list.some((r) => {
      const entry = entries[r];
      const c = entry?.codes[d];
      return entry?.target.role === 'read' && (c === V_UP || c === V_DEGRADED);
    });

  /**
   * Confirmation by time, at slot index d of the decision range: the verdict code (V_DOWN or V_DEGRADED) for which
   * target t's checks from the counted probe regions end in a run worth a page (`failureRunWorthAPage`), or undefined.
   * Every observation of the window counts, rounds and confirmations alike, each at its own time; one inside a
   * maintenance window counts as up, so a run never starts inside one.
   */
  const failingLongEnough = (t: number, d: number, inMaintenance: (j: number) => boolean): number | undefined => {
    const entry = entries[t];
    if (!entry) return undefined;
    const k = d + lookbackSlots;
    const counted = (countedAt[d] ?? []).filter((p) => latestResult(p, t, k) !== undefined);
    if (counted.length < entry.target.quorum) return undefined;
    const sequences: CheckSequence[] = counted.map((p) => {
      const row = (p * tCount + t) * total;
      const at: number[] = [];
      const code: number[] = [];
      for (let j = 0; j <= k; j++) {
        const cell = row + j;
        const quiet = inMaintenance(j);
        const list = moreObservations.get(cell);
        if (list) {
          for (const o of [...list].sort((a, b) => a.at - b.at)) {
            at.push(o.at);
            code.push(quiet ? CHECK_UP : checkCode(o.status));
          }
        } else {
          const r = results[cell];
          if (!r) continue;
          at.push(resultAt[cell] ?? 0);
          code.push(quiet ? CHECK_UP : checkCode(r.status));
        }
      }
      return { at, code };
    });
    // As many failing checks as failureThreshold quorums hold: two bad slots' worth by default, as with aligned rounds.
    const rule = { quorum: entry.target.quorum, minFaultMs: entry.target.minFaultSeconds * 1000, minChecks: entry.target.failureThreshold * entry.target.quorum };
    if (failureRunWorthAPage(sequences, CHECK_DOWN, rule)) return V_DOWN;
    if (failureRunWorthAPage(sequences, CHECK_DEGRADED, rule)) return V_DEGRADED;
    return undefined;
  };

  const regions: Record<string, RegionWindow> = {};
  for (const region of settings.regions) {
    const list = byRegion.get(region) ?? [];
    const maintenance = settings.maintenance.filter((m) => m.region === region);
    // Per absolute slot index of the window (look-back included): inside one of the region's maintenance windows.
    const quietSlots = new Uint8Array(total);
    if (maintenance.length > 0) {
      for (let j = 0; j < total; j++) {
        const slotMs = (base + j * i) * 1000;
        if (maintenance.some((m) => m.startMs <= slotMs && slotMs < m.endMs)) quietSlots[j] = 1;
      }
    }
    const inMaintenance = (j: number) => quietSlots[j] === 1;
    const verdicts: Verdict[] = [];
    for (let d = 0; d < decisionSlots; d++) {
      const slotMs = (base + (d + lookbackSlots) * i) * 1000;
      if (maintenance.some((m) => m.startMs <= slotMs && slotMs < m.endMs)) {
        verdicts.push('maintenance');
        continue;
      }
      let worst = 0;
      let anyUnknown = false;
      let judged = 0;
      for (const t of list) {
        const c = entries[t]?.codes[d] ?? V_UNKNOWN;
        // Without a verdict because we refused to probe it: left out, or a refused target would hold its region
        // `unknown` (never up, so an incident could never resolve). With no target judged the region is unknown.
        if (c === V_UNKNOWN && refusedFrom(t, d + lookbackSlots).length > 0) continue;
        judged++;
        if (c === V_UNKNOWN) anyUnknown = true;
        else if (c > worst) worst = c;
      }
      verdicts.push(worst > V_UP ? (TARGET_VERDICTS[worst] ?? 'unknown') : anyUnknown || (judged === 0 && list.length > 0) ? 'unknown' : 'up');
    }
    const names = list.map((t) => entries[t]?.target.name ?? '');
    const tByName = new Map(list.map((t) => [entries[t]?.target.name ?? '', t]));
    const codeOf = (t: number, d: number) => entries[t]?.codes[d] ?? V_UNKNOWN;
    regions[region] = {
      region,
      verdicts,
      targets: names,
      recoveryThreshold: Math.max(1, ...list.map((t) => entries[t]?.target.recoveryThreshold ?? 1)),
      targetVerdict: (target, d) => {
        const t = tByName.get(target);
        return t === undefined ? 'unknown' : (TARGET_VERDICTS[codeOf(t, d)] ?? 'unknown');
      },
      confirmedBad: (target, d) => {
        const t = tByName.get(target);
        const entry = t === undefined ? undefined : entries[t];
        if (t === undefined || !entry) return undefined;
        if (settings.detection === 'rounds') {
          // Aligned rounds: bad for each of the last failingSlotsRequired slots; the least severe of them.
          const f = failingSlotsRequired(entry.target, i);
          if (d - f + 1 < 0) return undefined;
          let least = V_DOWN;
          for (let j = d - f + 1; j <= d; j++) {
            const c = codeOf(t, j);
            if (c < V_DEGRADED || verdicts[j] === 'maintenance') return undefined;
            least = Math.min(least, c);
          }
          return TARGET_VERDICTS[least] as BadVerdict;
        }
        if (verdicts[d] === 'maintenance' || codeOf(t, d) < V_DEGRADED) return undefined;
        const level = failingLongEnough(t, d, inMaintenance);
        if (level === undefined) return undefined;
        // A refused write probe while the region's reads serve: read-only, as the slot verdicts say.
        if (level === V_DOWN && entry.target.role === 'write-probe' && readsServe(list, d)) return 'read-only';
        return TARGET_VERDICTS[level] as BadVerdict;
      },
      evidenceAt: (d) => {
        const k = d + lookbackSlots;
        const out: TargetEvidence[] = [];
        for (const t of list) {
          const code = codeOf(t, d);
          const entry = entries[t];
          if (!entry) continue;
          const seenBy: ProbeRegionEvidence[] = [];
          const failingFrom: string[] = [];
          for (let p = 0; p < pCount; p++) {
            if (impaired[p * decisionSlots + d]) continue;
            const r = latestResult(p, t, k);
            if (!r) continue;
            const probeRegion = probeRegions[p] ?? '';
            seenBy.push(probeEvidence(probeRegion, r));
            if (r.status !== 'up') failingFrom.push(probeRegion);
          }
          if (code === V_UP && failingFrom.length === 0) continue;
          out.push({ target: entry.target.name, verdict: TARGET_VERDICTS[code] ?? 'unknown', failingFrom, seenBy });
        }
        // Worst first (verdict, then how many probe regions see it fail; config order among equals): a page and
        // the status name the first few and count the rest, so with thousands failing they name the worst.
        return out.sort((a, b) => SEVERITY_RANK[b.verdict] - SEVERITY_RANK[a.verdict] || b.failingFrom.length - a.failingFrom.length);
      },
      refusalsAt: (d) => {
        if (refusals.empty) return [];
        const out: TargetRefusal[] = [];
        for (const t of list) {
          const from = refusedFrom(t, d + lookbackSlots);
          const first = from[0];
          if (!first) continue;
          out.push({
            target: entries[t]?.target.name ?? '',
            probeRegions: from.map(({ p }) => probeRegions[p] ?? ''),
            detail: (first.refusal.detail ?? 'refused by the SSRF guard').slice(0, 200),
          });
        }
        return out;
      },
      probeViewsAt: (d) => {
        const k = d + lookbackSlots;
        const at = probeAt[d];
        const views: Record<string, ProbeView> = {};
        for (let p = 0; p < pCount; p++) {
          const probeRegion = probeRegions[p] ?? '';
          if (!at || at.stale.includes(probeRegion)) {
            views[probeRegion] = { status: 'stale', failing: [] };
            continue;
          }
          // Each target's newest observation: a platform result, or our own refusal when that is newer (probeViewOf
          // keeps refusals out of the view's verdict and names them).
          const latest: ProbeResult[] = [];
          for (const t of list) {
            const entry = entries[t];
            const r = (entry && refusals.newestAt((p * tCount + t) * total, k, entry.lookback)) ?? latestResult(p, t, k);
            if (r) latest.push(r);
          }
          const view = list.length === 0 ? { status: 'none' as const, failing: [] } : latest.length === 0 ? { status: 'stale' as const, failing: [] } : probeViewOf(latest);
          views[probeRegion] = impaired[p * decisionSlots + d] ? { ...view, impaired: true } : view;
        }
        return views;
      },
    };
  }

  return {
    intervalSeconds: i,
    slots,
    latest: decisionSlots - 1,
    probeRegions: probeAt,
    regions,
    resultCount,
    waitSeconds: point.waitSeconds,
    waitingFor: point.waitingFor,
    overdue: point.overdue,
    newestSlots: point.newestSlots,
  };
}

/** A check's status as confirmation by time compares it: up < degraded < down. */
export const CHECK_UP = 0;
export const CHECK_DEGRADED = 1;
export const CHECK_DOWN = 2;

export function checkCode(status: ResultStatus): number {
  return status === 'down' ? CHECK_DOWN : status === 'degraded' ? CHECK_DEGRADED : CHECK_UP;
}

/** One probe region's checks of one target, oldest first: when each started and its CHECK_ code. */
export interface CheckSequence {
  at: readonly number[];
  code: readonly number[];
}

interface Observation {
  at: number;
  status: ResultStatus;
}

/** Each settings' targets by "region\u0000name", built once per settings (an engine keeps one for its life). */
const targetIndexBySettings = new WeakMap<EvaluationSettings, Map<string, number>>();
/** Per settings, each results array's target indexes (-1: not a target of the config), built once per array. */
const resultTargetsBySettings = new WeakMap<EvaluationSettings, WeakMap<readonly ProbeResult[], Int32Array>>();

/**
 * The index into settings.targets of each result of a round (-1: not a target of the config). Round records are read
 * whole and never changed, and the simulator (and a warm aggregator re-reading the same objects) evaluates each one
 * many times: the name lookups (one string per result, the hottest line of a 1,000-target window) are made once per
 * record and settings.
 */
function targetIndexer(settings: EvaluationSettings): (results: readonly ProbeResult[]) => Int32Array {
  let byResults = resultTargetsBySettings.get(settings);
  if (!byResults) {
    byResults = new WeakMap();
    resultTargetsBySettings.set(settings, byResults);
  }
  const cache = byResults;
  let index = targetIndexBySettings.get(settings);
  return (results) => {
    const cached = cache.get(results);
    if (cached && cached.length === results.length) return cached;
    if (!index) {
      index = new Map(settings.targets.map((t, n) => [`${t.region}\u0000${t.name}`, n]));
      targetIndexBySettings.set(settings, index);
    }
    const out = new Int32Array(results.length);
    for (let n = 0; n < results.length; n++) {
      const r = results[n];
      out[n] = r ? (index.get(`${r.region}\u0000${r.target}`) ?? -1) : -1;
    }
    cache.set(results, out);
    return out;
  };
}

/**
 * When a result was observed: its own `at`, else its record's start, whichever lies inside the record's slot; else
 * where the probe region's rounds start in that slot. A clock that is off (FAULTS 16) cannot move a result out of the
 * slot its schedule labelled it with.
 */
function observedAt(result: ProbeResult, record: RoundRecord, intervalSeconds: number, offsets: Record<string, number>): number {
  const from = record.slot * 1000;
  const to = from + intervalSeconds * 1000;
  if (result.at !== undefined && result.at >= from && result.at < to) return result.at;
  if (record.startedAt >= from && record.startedAt < to) return record.startedAt;
  return from + (offsets[record.probeRegion] ?? 0);
}

/**
 * Whether a target's checks (every counted probe region's, in time order) end in a failure worth a page, where
 * `failing` says which statuses count (down, or anything but up):
 *
 * - at the end, at least `quorum` probe regions' newest checks are failing (no page without a quorum);
 * - the run started when that quorum last formed, and reaches back over the failing checks just before it, up to the
 *   last check from any probe region that saw the target not failing: that check proves the target was fine in
 *   between, so two short blips with a good check between them are never one fault. A check from a minority probe
 *   region that sees the target fine after the quorum formed does not end the run: the quorum decides, as for the
 *   verdicts;
 * - the run's checks are those of the probe regions failing now, each since its own last good check: a probe region
 *   that looked again and saw the target fine takes its earlier failure back;
 * - the check that opened the run does not confirm itself: the run's other checks come from at least `quorum` probe
 *   regions (the probe regions' confirmations, or the next checks of the rounds);
 * - the run holds at least `minChecks` checks, and from its first to its newest they span at least `minFaultMs` (a
 *   blip shorter than that never pages: every check that fails lies inside it).
 */
export function failureRunWorthAPage(sequences: readonly CheckSequence[], failingFrom: number, rule: { quorum: number; minFaultMs: number; minChecks: number }): boolean {
  const n = sequences.length;
  if (n < rule.quorum) return false;
  // Pass 1: the checks in time order (a merge of the probe regions' sequences, ties by probe region), tracking each
  // probe region's newest check, its current failing streak, and where the run begins.
  const cursor = new Array<number>(n).fill(0);
  const latest = new Array<boolean | undefined>(n).fill(undefined);
  const streakFrom = new Array<number>(n).fill(Number.POSITIVE_INFINITY);
  let count = 0;
  let lastFine = Number.NEGATIVE_INFINITY;
  let runAfter = Number.NEGATIVE_INFINITY;
  for (;;) {
    let p = -1;
    let at = Number.POSITIVE_INFINITY;
    for (let q = 0; q < n; q++) {
      const seq = sequences[q];
      const c = cursor[q] ?? 0;
      if (!seq || c >= seq.at.length) continue;
      const t = seq.at[c] ?? Number.POSITIVE_INFINITY;
      if (t < at) {
        at = t;
        p = q;
      }
    }
    if (p < 0) break;
    const seq = sequences[p] as CheckSequence;
    const c = cursor[p] ?? 0;
    cursor[p] = c + 1;
    const fails = (seq.code[c] ?? CHECK_UP) >= failingFrom;
    const hadQuorum = count >= rule.quorum;
    const was = latest[p];
    if (was === true) count--;
    if (fails) {
      count++;
      if (was !== true) streakFrom[p] = at;
    }
    latest[p] = fails;
    if (count >= rule.quorum && !hadQuorum) runAfter = lastFine;
    if (!fails) lastFine = at;
  }
  if (count < rule.quorum) return false;
  // Pass 2: the run's checks, per probe region failing now: after the run's start and in its own current streak.
  let first = Number.POSITIVE_INFINITY;
  let firstProbe = -1;
  let last = Number.NEGATIVE_INFINITY;
  let checks = 0;
  const perProbe = new Array<number>(n).fill(0);
  for (let p = 0; p < n; p++) {
    const seq = sequences[p];
    if (!seq || latest[p] !== true) continue;
    const from = Math.max(streakFrom[p] ?? Number.POSITIVE_INFINITY, Number.MIN_SAFE_INTEGER);
    for (let c = 0; c < seq.at.length; c++) {
      const at = seq.at[c] ?? 0;
      if (at <= runAfter || at < from || (seq.code[c] ?? CHECK_UP) < failingFrom) continue;
      if (at < first) {
        first = at;
        firstProbe = p;
      }
      last = Math.max(last, at);
      checks++;
      perProbe[p] = (perProbe[p] ?? 0) + 1;
    }
  }
  if (firstProbe < 0) return false;
  let confirmedBy = 0;
  for (let p = 0; p < n; p++) if ((perProbe[p] ?? 0) > (p === firstProbe ? 1 : 0)) confirmedBy++;
  return confirmedBy >= rule.quorum && checks >= rule.minChecks && last - first >= rule.minFaultMs;
}

function probeEvidence(probeRegion: string, r: ProbeResult): ProbeRegionEvidence {
  const e: ProbeRegionEvidence = { probeRegion, status: r.status, latencyMs: r.latencyMs };
  if (r.errorClass !== undefined) e.errorClass = r.errorClass;
  if (r.statusCode !== undefined) e.statusCode = r.statusCode;
  if (r.detail !== undefined) e.detail = r.detail.slice(0, 200);
  return e;
}

/** Error classes seen in a target's evidence, without repeats. */
export function errorClassesOf(evidence: TargetEvidence): ErrorClass[] {
  const out = new Set<ErrorClass>();
  for (const s of evidence.seenBy) if (s.errorClass !== undefined && s.status !== 'up') out.add(s.errorClass);
  return [...out];
}
