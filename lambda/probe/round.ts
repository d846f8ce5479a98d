// The round runner: every due target checked once from one probe region for one slot, inside the slot's deadline.
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { resolveTargets, type ResolvedTarget } from '../config/resolve';
import { ROUND_WRITE_MARGIN_MS } from '../config/round-timing';
import type { RegionwatchConfig } from '../config/schema';
import type { ProbeResult, RoundRecord } from '../core/results';
import { jitterOffsetMs, jitterWindowMs } from '../core/stagger';
import { USER_AGENT } from '../version';
import { checkTarget, configuredHosts, hostOf } from './checks/index';
import { build } from './checks/result';
import { classifyError } from './errors';
import { silentLogger, type CheckContext, type HostLookup, type ProbeLogger } from './context';
import { CheckSlots, KeyedSemaphore, Semaphore, type HostSlot } from './limiter';
import { memoizeLookup, systemHostLookup } from './resolve-host';

export { ROUND_WRITE_MARGIN_MS };
/**
 * Real time a check still has, once the round deadline passed, to report its own timeout (the deadline has
 * destroyed its sockets, so a working check settles within a tick) before the round reports it itself.
 */
export const CHECK_SETTLE_GRACE_MS = 50;
export { jitterOffsetMs };

/** The header naming the probe region, sent with every HTTP probe (DESIGN.md "Probe requests"). */
export const PROBE_REGION_HEADER = 'x-regionwatch-probe-region';

/** A round's results, ready for `ResultsStore.writeRound` (which splits it into parts). */
export type RoundData = Omit<RoundRecord, 'part' | 'parts'>;

/** What the round runner takes from its caller: the clock and the I/O, so local mode and tests can bring their own. */
export interface RoundDeps {
  /** Wall clock, epoch milliseconds. Slots, the round deadline and jitter are on this clock. */
  now: () => number;
  /**
   * Waits `ms` on the same clock as `now`; should settle early (resolve or reject) when `signal` aborts.
   * Request timeouts are real time regardless (they bound real network waits); latencies are measured in real time.
   */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Hostname resolution; default the system resolver. Asked once per hostname per round. */
  lookup?: HostLookup;
  logger?: ProbeLogger;
  /** Extra trusted CA certificates (PEM) on top of the system roots: tests, private platforms in local mode. */
  extraCaCertificates?: readonly string[];
  /** Replaces the network check (scheduling tests, simulations). Default: the real checks. */
  check?: (target: ResolvedTarget, ctx: CheckContext, hostSlot?: HostSlot) => Promise<ProbeResult>;
}

/** Told about every check a round starts: how a probe region asks the others to confirm a failure as soon as it sees one. */
export interface CheckWatch {
  /** A check of `target` started at `atMs` (scheduler clock); `result` settles with what it saw. */
  started(target: ResolvedTarget, atMs: number, result: Promise<ProbeResult>): void;
}

export interface RoundInput {
  config: RegionwatchConfig;
  /** The AWS region (or local name) this prober speaks for; sent in x-regionwatch-probe-region. */
  probeRegion: string;
  /** Slot start, epoch seconds, a multiple of config.defaults.intervalSeconds. */
  slot: number;
  /** Epoch ms (on `deps.now`'s clock) by which every check has ended. Default: the slot's end minus ROUND_WRITE_MARGIN_MS. */
  deadlineAt?: number;
  /** The targets to consider (default every target of the config); only those due in this slot run. */
  targets?: readonly ResolvedTarget[];
  /**
   * `deps.now`'s clock minus the scheduler's, ms (default 0): each result's `at` is stamped on the scheduler's clock,
   * the one its slot is labelled by, so a skewed local clock does not misplace it.
   */
  clockOffsetMs?: number;
  /**
   * `confirmation`: checks another probe region asked for, every target given at once (no spread, whatever its own
   * interval). Default `round`.
   */
  mode?: 'round' | 'confirmation';
  watch?: CheckWatch;
}

/** Targets whose own interval is longer than the default run only on slots that are multiples of it. */
export function isDue(target: Pick<ResolvedTarget, 'intervalSeconds'>, slot: number): boolean {
  return slot % target.intervalSeconds === 0;
}

/** The hosts a config names, once per config object (not per round: a round of 1,000 targets would parse 1,000 URLs). */
const hostsByConfig = new WeakMap<RegionwatchConfig, ReadonlySet<string>>();
function configuredHostsOf(config: RegionwatchConfig): ReadonlySet<string> {
  let hosts = hostsByConfig.get(config);
  if (!hosts) {
    hosts = configuredHosts(resolveTargets(config));
    hostsByConfig.set(config, hosts);
  }
  return hosts;
}

const contexts = new WeakMap<readonly string[], SecureContext>();
function secureContextFor(extra: readonly string[] | undefined): SecureContext | undefined {
  if (!extra || extra.length === 0) return undefined;
  let context = contexts.get(extra);
  if (!context) {
    context = createSecureContext({ ca: [...rootCertificates, ...extra] });
    contexts.set(extra, context);
  }
  return context;
}

/**
 * Runs one round: each target due in `slot` is checked exactly once (no retries: quorum across probe regions
 * and rounds is the retry), starts spread over `probing.jitterMs`, at most `probing.concurrency` checks in flight
 * and `probing.perHostConcurrency` per host, every check ended by its `timeoutMs` or the round deadline.
 *
 * Resolves with a result for every due target, in config order; never rejects for a target's failure.
 * A check still queued behind the caps at the deadline is reported `down`/`timeout` with a "not started" detail.
 * Does not write anything: the caller hands the record to `ResultsStore.writeRound`.
 */
export async function runRound(input: RoundInput, deps: RoundDeps): Promise<RoundData> {
  const { config, probeRegion, slot } = input;
  const interval = config.defaults.intervalSeconds;
  const startedAt = deps.now();
  const deadlineAt = input.deadlineAt ?? (slot + interval) * 1000 - ROUND_WRITE_MARGIN_MS;
  const logger = deps.logger ?? silentLogger;
  const confirming = input.mode === 'confirmation';
  const all = input.targets ?? resolveTargets(config);
  const due = confirming ? all : all.filter((t) => isDue(t, slot));
  const clockOffsetMs = input.clockOffsetMs ?? 0;
  const slotEndMs = (slot + interval) * 1000 + clockOffsetMs;

  const round = new AbortController();
  // Every in-flight check listens to the round's deadline: that is thousands of listeners by design, not a leak.
  setMaxListeners(0, round.signal);
  const timer = new AbortController();
  const remaining = deadlineAt - startedAt;
  if (remaining <= 0) round.abort();
  else {
    deps.sleep(remaining, timer.signal).then(
      () => round.abort(),
      () => undefined,
    );
  }

  const ctx: CheckContext = {
    probeRegion,
    probing: config.probing,
    probeHeaders: { 'user-agent': USER_AGENT, [PROBE_REGION_HEADER]: probeRegion },
    lookup: memoizeLookup(deps.lookup ?? systemHostLookup, round.signal),
    logger,
    secureContext: secureContextFor(deps.extraCaCertificates),
    now: deps.now,
    roundSignal: round.signal,
    configuredHosts: configuredHostsOf(config),
  };
  const check = deps.check ?? checkTarget;
  const global = new Semaphore(config.probing.concurrency, round.signal);
  const perHost = new KeyedSemaphore(config.probing.perHostConcurrency, round.signal);
  const unsettled = new UnsettledChecks(round.signal);
  let notStarted = 0;

  const runOne = async (target: ResolvedTarget): Promise<ProbeResult> => {
    const queuedAt = performance.now();
    const window = confirming ? 0 : jitterWindowMs({ jitterMs: config.probing.jitterMs, startedAt, deadlineAt, timeoutMs: target.timeoutMs, slotEndMs });
    const slots = new CheckSlots(perHost, global);
    try {
      // No window (jitterMs 0, or no room before the deadline): offset 0 without hashing a key per target.
      const offset = window > 0 ? jitterOffsetMs(`${target.region}/${target.name}/${slot}`, window) : 0;
      // No signal: the jitter window ends before the deadline by construction (and one listener per target is not free).
      if (offset > 0) await deps.sleep(offset);
      if (round.signal.aborted) throw new Error('deadline');
      // Host first, then global: a check waiting for a busy host never holds one of the global slots.
      await slots.moveTo(hostOf(target));
    } catch {
      slots.close();
      notStarted++;
      return build(
        target,
        { latencyMs: performance.now() - queuedAt },
        { status: 'down', errorClass: 'timeout', detail: 'not started before the round deadline (concurrency caps)' },
      );
    }
    const at = Math.round(deps.now() - clockOffsetMs);
    const startedCheck = performance.now();
    // Never rejects: the watch (confirm on failure) and the round both see the result the round reports.
    const work = (async (): Promise<ProbeResult> => {
      try {
        // Whatever the check does (a bug, a peer it waits on for ever), the round does not wait past its deadline.
        const outcome = await unsettled.settleByDeadline(() => check(target, ctx, slots));
        if (outcome.settled) return outcome.result;
        logger.warn('check did not settle by the round deadline', { event: 'check-unsettled', probeRegion, slot, region: target.region, target: target.name, type: target.type });
        return build(target, { latencyMs: performance.now() - startedCheck }, { status: 'down', errorClass: 'timeout', detail: 'did not finish by the round deadline' });
      } catch (error: unknown) {
        // The real checks never throw; an injected one might. Its error becomes evidence, not a lost round.
        const failure = classifyError(error, 'response');
        return build(target, { latencyMs: performance.now() - queuedAt }, { status: 'down', errorClass: failure.errorClass, detail: failure.detail });
      } finally {
        slots.close();
      }
    })();
    input.watch?.started(target, at, work);
    const result = await work;
    result.at = at;
    return result;
  };

  try {
    const results = await Promise.all(due.map(runOne));
    if (notStarted > 0) {
      logger.warn('round deadline passed with checks still queued', { event: 'round-saturated', probeRegion, slot, notStarted, due: due.length });
    }
    return { probeRegion, slot, intervalSeconds: interval, startedAt, finishedAt: deps.now(), results };
  } finally {
    unsettled.close();
    timer.abort();
    round.abort();
  }
}

type Settlement = { settled: true; result: ProbeResult } | { settled: false };

/**
 * The round's guarantee that it settles by its deadline: a check still running CHECK_SETTLE_GRACE_MS after the
 * round signal aborts is given up on (its caller reports it and releases its slots; the check got the abort
 * through ctx.roundSignal to let go of its sockets). One abort listener and one timer per round, not per check.
 */
class UnsettledChecks {
  private readonly pending = new Set<() => void>();
  private graceOver = false;
  private closed = false;

  constructor(private readonly roundSignal: AbortSignal) {
    if (roundSignal.aborted) this.graceOver = true;
    else roundSignal.addEventListener('abort', () => this.startGrace(), { once: true });
  }

  /** Resolves with the check's result, rejects with its error, or resolves unsettled once the grace is over. */
  settleByDeadline(run: () => Promise<ProbeResult>): Promise<Settlement> {
    return new Promise<Settlement>((resolve, reject) => {
      const giveUp = () => resolve({ settled: false });
      this.pending.add(giveUp);
      // A check started after the grace (it won its slot in the same tick as the deadline) gets a grace of its own.
      if (this.graceOver) setTimeout(() => this.expire(giveUp), CHECK_SETTLE_GRACE_MS);
      let work: Promise<ProbeResult>;
      try {
        work = run();
      } catch (error: unknown) {
        work = Promise.reject(error);
      }
      work.then(
        (result) => {
          this.pending.delete(giveUp);
          resolve({ settled: true, result });
        },
        (error: unknown) => {
          this.pending.delete(giveUp);
          reject(error);
        },
      );
    });
  }

  /** The round is over: its final abort needs no grace timer (a timer would only hold the process open). */
  close(): void {
    this.closed = true;
  }

  private startGrace(): void {
    if (this.closed) return;
    // Not unref'd: a check that never settles may hold nothing else open, and the round must still be written.
    setTimeout(() => {
      this.graceOver = true;
      [...this.pending].forEach((giveUp) => this.expire(giveUp));
    }, CHECK_SETTLE_GRACE_MS);
  }

  private expire(giveUp: () => void): void {
    if (!this.pending.delete(giveUp)) return;
    giveUp();
  }
}
