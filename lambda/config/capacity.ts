// How many checks a round can hold, and how a probe region's round is split into shards (pure): shared by validate,
// cdk synth (warnings, reserved concurrency), regionwatch cost and the prober, so the four cannot drift.
//
// The arithmetic: a shard is one Lambda invocation with `probing.concurrency` lanes. A round can count on its slot
// less the write margin, the delivery slack of a queued round and the jitter window (round-timing.ts): the jitter is
// counted as spent, which leaves that much headroom for answers slower than `probing.expectedLatencyMs`. A lane
// holds `window / expectedLatencyMs` checks. A host's targets all go to one shard, so its `perHostConcurrency` holds
// for the whole round however many shards there are; a host whose targets do not fit its own lanes is a warning.
import { hostOf } from '../probe/checks/index';
import { resolveTargets, type ResolvedTarget } from './resolve';
import { ROUND_DELIVERY_SLACK_MS, ROUND_WRITE_MARGIN_MS } from './round-timing';
import type { RegionwatchConfig } from './schema';
import { confirmsFailures } from '../core/stagger';
import { count } from '../core/words';

/**
 * Invocations of the prober that are not shards of a round, kept out of the shards' reserved concurrency: the
 * scheduled run (it must never be throttled: it is the heartbeat) and a queued shard still writing as the next slot's
 * start. With confirm on failure, the confirmation requests the rounds queue also carries come on top
 * (CONFIRMATIONS_MAX_CONCURRENCY).
 */
export const NON_SHARD_CONCURRENCY = 2;
/**
 * Confirmation requests served at once besides the shards (one per probe region that saw a failure start, rarely
 * more). They come on the rounds queue, so its mapping may run this many more invocations with confirm on failure: a
 * confirmation waits up to minFaultSeconds before it checks, and must not hold a queued shard back from its slot.
 */
export const CONFIRMATIONS_MAX_CONCURRENCY = 2;

export interface CapacityWindow {
  /** Milliseconds of each slot a round counts on: interval less write margin, delivery slack and jitter. */
  windowMs: number;
  /** Checks one lane (one unit of concurrency) fits in the window at the expected latency. */
  checksPerLane: number;
  /** Checks one shard fits: concurrency × checksPerLane. */
  checksPerShard: number;
}

/**
 * Headroom a round's plan keeps for answers slower than `probing.expectedLatencyMs`: the jitter window (request starts
 * are spread over it, so it is spent either way), but never less than PLANNING_HEADROOM_SHARE of the slot (2 s of a
 * 10 s slot). When the jitter window was cut to 500 ms (a cheaper round, docs/cost.md), a plan that kept only that as
 * headroom put 10,000 targets at 300 ms in 7 shards of 23 waves (6.9 s of answers at the expected latency, 1.6 s
 * before the 9 s deadline when the jitter and the write are counted): answers 10 % slower than expected would leave a
 * few hundred ms. With a fifth of the slot it is 8 shards of 20 waves (6.0 s). `npm run bench shards` on 2 shared
 * cores, where 8 shard processes contend for the CPU: slowest 8.2 s with 7 shards, 8.0 s with 8 (each shard has its
 * own CPU share on Lambda).
 */
export const PLANNING_HEADROOM_SHARE = 0.2;

export function planningHeadroomMs(config: RegionwatchConfig): number {
  return Math.max(config.probing.jitterMs, config.defaults.intervalSeconds * 1000 * PLANNING_HEADROOM_SHARE);
}

/** The window and per-shard capacity of a config's rounds. */
export function capacityWindow(config: RegionwatchConfig): CapacityWindow {
  const p = config.probing;
  const windowMs = Math.max(0, config.defaults.intervalSeconds * 1000 - ROUND_WRITE_MARGIN_MS - ROUND_DELIVERY_SLACK_MS - planningHeadroomMs(config));
  // A lane always holds one check: a window shorter than one answer still starts every check it is given.
  const checksPerLane = Math.max(1, Math.floor(windowMs / p.expectedLatencyMs));
  return { windowMs, checksPerLane, checksPerShard: p.concurrency * checksPerLane };
}

/** One host's share of a round. */
export interface HostLoad {
  host: string;
  /** Targets of the worst slot (every target is due on the slots that are multiples of every interval). */
  targets: number;
  /** Config path of the host's first target, for warnings. */
  firstPath: string;
  /** Checks its lanes fit in the window at the expected latency, and when every answer takes its timeout. */
  fitsAtExpected: number;
  fitsAtTimeout: number;
  /** Sum of its targets' timeouts, ms. */
  timeoutLoadMs: number;
}

export interface ShardPlan {
  /** Shards a round of this probe region fans out over (at least 1, at most probing.maxShards). */
  shards: number;
  /** Shards the targets need; more than `shards` when probing.maxShards cuts them. */
  shardsNeeded: number;
  /** Index of the shard each target goes to, by `${region}/${name}`. */
  shardOf: ReadonlyMap<string, number>;
  /** Checks each shard holds in the worst slot. */
  checksPerShard: number[];
  hosts: HostLoad[];
  window: CapacityWindow;
  /**
   * Reserved concurrency of the prober function: the rounds mapping's cap plus one for the scheduled run (the heartbeat
   * is never throttled behind queued shards or confirmations).
   */
  reservedConcurrency: number;
  /**
   * Concurrency of the rounds queue's event source mapping: every shard of a slot at once, plus one still writing as
   * the next slot starts (Lambda's floor is 2), and with confirm on failure the confirmation requests beside them.
   */
  roundsMaxConcurrency: number;
}

export const targetKey = (t: Pick<ResolvedTarget, 'region' | 'name'>): string => `${t.region}/${t.name}`;

const plans = new WeakMap<RegionwatchConfig, ShardPlan>();

/**
 * The shard plan of a config: hosts (never split) spread over as few shards as hold them at the expected latency,
 * heaviest first onto the lightest shard, so shards come out even. A pure function of the config: every invocation
 * of a deployment, in every probe region, assigns each target to the same shard.
 */
export function shardPlan(config: RegionwatchConfig): ShardPlan {
  const cached = plans.get(config);
  if (cached) return cached;
  const window = capacityWindow(config);
  const lanes = Math.min(config.probing.perHostConcurrency, config.probing.concurrency);
  const byHost = new Map<string, { targets: ResolvedTarget[]; firstPath: string }>();
  const indexInRegion = new Map<string, number>();
  for (const t of resolveTargets(config)) {
    const i = indexInRegion.get(t.region) ?? 0;
    indexInRegion.set(t.region, i + 1);
    const host = hostOf(t);
    const entry = byHost.get(host) ?? { targets: [], firstPath: `regions.${t.region}.targets[${i}]` };
    entry.targets.push(t);
    byHost.set(host, entry);
  }
  const hosts: HostLoad[] = [...byHost].map(([host, { targets, firstPath }]) => {
    const timeoutLoadMs = targets.reduce((n, t) => n + t.timeoutMs, 0);
    const meanTimeout = timeoutLoadMs / Math.max(1, targets.length);
    return {
      host,
      targets: targets.length,
      firstPath,
      fitsAtExpected: lanes * window.checksPerLane,
      fitsAtTimeout: lanes * Math.max(1, Math.floor(window.windowMs / meanTimeout)),
      timeoutLoadMs,
    };
  });
  const total = hosts.reduce((n, h) => n + h.targets, 0);
  const shardsNeeded = Math.max(1, Math.ceil(total / window.checksPerShard));
  // Largest host first onto the lightest shard (ties to the lowest index): balanced, and deterministic.
  const ordered = [...hosts].sort((a, b) => b.targets - a.targets || (a.host < b.host ? -1 : 1));
  // Never more shards than hosts: a host is never split, so a further shard would stay empty.
  let shards = Math.max(1, Math.min(shardsNeeded, config.probing.maxShards, hosts.length));
  let loads = assign(ordered, shards);
  // Whole hosts may not pack into the even count: add shards until none is over capacity (or the cap says stop).
  // A host larger than a shard stays overfull however many shards there are (and is warned about): do not add any for it.
  const fitsOne = (ordered[0]?.targets ?? 0) <= window.checksPerShard;
  while (fitsOne && shards < config.probing.maxShards && shards < ordered.length && loads.some((n) => n > window.checksPerShard)) {
    shards += 1;
    loads = assign(ordered, shards);
  }
  const shardOfHost = new Map<string, number>();
  const running = new Array<number>(shards).fill(0);
  for (const h of ordered) {
    const s = lightest(running);
    running[s] = (running[s] ?? 0) + h.targets;
    shardOfHost.set(h.host, s);
  }
  const shardOf = new Map<string, number>();
  for (const [host, { targets }] of byHost) for (const t of targets) shardOf.set(targetKey(t), shardOfHost.get(host) ?? 0);
  const plan: ShardPlan = {
    shards,
    shardsNeeded: Math.max(shardsNeeded, shards),
    shardOf,
    checksPerShard: loads,
    hosts,
    window,
    reservedConcurrency: roundsMaxConcurrency(shards, confirmsFailures(config)) + 1,
    roundsMaxConcurrency: roundsMaxConcurrency(shards, confirmsFailures(config)),
  };
  plans.set(config, plan);
  return plan;
}

/**
 * One shard per invocation of a slot, and one more still writing (NON_SHARD_CONCURRENCY less the scheduled run); with
 * confirm on failure, the confirmations that share the queue.
 */
function roundsMaxConcurrency(shards: number, confirming: boolean): number {
  return Math.max(2, shards + NON_SHARD_CONCURRENCY - 1) + (confirming ? CONFIRMATIONS_MAX_CONCURRENCY : 0);
}

function assign(ordered: readonly HostLoad[], shards: number): number[] {
  const loads = new Array<number>(shards).fill(0);
  for (const h of ordered) {
    const s = lightest(loads);
    loads[s] = (loads[s] ?? 0) + h.targets;
  }
  return loads;
}

function lightest(loads: readonly number[]): number {
  let best = 0;
  for (let s = 1; s < loads.length; s++) if ((loads[s] ?? 0) < (loads[best] ?? 0)) best = s;
  return best;
}

/** The targets of one shard, in config order. */
export function shardTargets(config: RegionwatchConfig, shard: number, targets: readonly ResolvedTarget[] = resolveTargets(config)): ResolvedTarget[] {
  const plan = shardPlan(config);
  if (plan.shards === 1) return [...targets];
  return targets.filter((t) => (plan.shardOf.get(targetKey(t)) ?? 0) === shard);
}

/** The schema's ceiling on probing.perHostConcurrency. */
const PER_HOST_LIMIT = 100;
/** Hosts a warning names before it counts the rest. */
const HOSTS_NAMED = 3;

const heaviest = (a: HostLoad, b: HostLoad) => b.targets - a.targets || (a.host < b.host ? -1 : 1);

function hostList(hosts: readonly HostLoad[]): string {
  const named = hosts.slice(0, HOSTS_NAMED).map((h) => `host ${h.host} (${h.targets} targets, from ${h.firstPath})`);
  const rest = hosts.length - named.length;
  return rest > 0 ? `${named.join(', ')} and ${count(rest, 'other host')}` : named.join(' and ');
}

export interface CapacityWarning {
  /** Dotted config path of the field to change. */
  path: string;
  message: string;
}

/**
 * What a config's rounds cannot do in their interval, each with its numbers and the fix: a host with more targets
 * than its `perHostConcurrency` checks in the window (at the expected latency, and when it answers at its timeout),
 * and a round that needs more shards than `probing.maxShards` allows. Warnings, not errors: the config deploys,
 * and the prober reports the checks it could not start as `timeout` ("not started before the round deadline").
 */
export function capacityWarnings(config: RegionwatchConfig): CapacityWarning[] {
  const plan = shardPlan(config);
  const p = config.probing;
  const i = config.defaults.intervalSeconds;
  const w = plan.window;
  const lanes = Math.min(p.perHostConcurrency, p.concurrency);
  const out: CapacityWarning[] = [];
  const within = `in the ${w.windowMs} ms of each ${i} s slot a round counts on (less the write margin, delivery slack and ${planningHeadroomMs(config)} ms of headroom for slower answers)`;
  // One warning per kind, naming the worst hosts and counting the rest: a large platform has hundreds of hosts.
  const tooMany = plan.hosts.filter((h) => h.targets > h.fitsAtExpected).sort(heaviest);
  const worst = tooMany[0];
  if (worst) {
    const needed = Math.ceil((worst.targets * p.expectedLatencyMs) / Math.max(1, w.windowMs));
    const fix = needed <= Math.min(p.concurrency, PER_HOST_LIMIT) ? `raise probing.perHostConcurrency to ${needed}` : 'raise defaults.intervalSeconds';
    const lost = tooMany.reduce((n, h) => n + h.targets - h.fitsAtExpected, 0);
    out.push({
      path: 'probing.perHostConcurrency',
      message: `${hostList(tooMany)} ${tooMany.length === 1 ? 'has' : 'have'} more targets than ${lanes} checks at a time of ${p.expectedLatencyMs} ms (probing.expectedLatencyMs) fit ${within} (${worst.fitsAtExpected} per host): ${lost} checks a round would be reported as timeout; ${fix}, or move targets to other hosts`,
    });
  }
  const atTimeout = plan.hosts.filter((h) => h.targets <= h.fitsAtExpected && h.targets > h.fitsAtTimeout).sort(heaviest);
  const slowest = atTimeout[0];
  if (slowest) {
    const needed = Math.min(PER_HOST_LIMIT, Math.ceil(slowest.timeoutLoadMs / Math.max(1, w.windowMs)));
    const shorter = Math.floor((w.windowMs * lanes) / slowest.targets);
    out.push({
      path: 'probing.perHostConcurrency',
      message: `${hostList(atTimeout)}: if ${atTimeout.length === 1 ? 'it answers' : 'one answers'} at its timeout (${Math.round(slowest.timeoutLoadMs / slowest.targets)} ms), ${lanes} checks at a time finish ${slowest.fitsAtTimeout} of its targets ${within}, and the rest are reported as timeout before they are tried; raise probing.perHostConcurrency to ${needed}${shorter >= 100 ? `, or lower timeoutMs to ${shorter}` : ''}`,
    });
  }
  if (plan.shardsNeeded > p.maxShards) {
    const perShard = w.checksPerShard;
    const total = plan.hosts.reduce((n, h) => n + h.targets, 0);
    const concurrencyFix = Math.ceil(total / (p.maxShards * w.checksPerLane));
    out.push({
      path: 'probing.maxShards',
      message: `a round of ${total} checks needs ${plan.shardsNeeded} shards of ${perShard} (probing.concurrency ${p.concurrency} × ${w.checksPerLane} checks of ${p.expectedLatencyMs} ms ${within}), but probing.maxShards ${p.maxShards} caps the round at ${p.maxShards} invocations (the prober's reserved concurrency ${plan.reservedConcurrency}): ${total - p.maxShards * perShard} checks a round would be reported as timeout; raise probing.maxShards to ${plan.shardsNeeded}${concurrencyFix <= 1000 ? `, or probing.concurrency to ${concurrencyFix}` : ''}`,
    });
  }
  return out;
}
