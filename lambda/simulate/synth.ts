// What each prober would have recorded: one round per probe region and slot, and the confirmations it ran when asked,
// synthesised from the scenario's platform and probe-region faults instead of a network. Timing follows the probe
// engine: a probe region's round starts at its stagger offset in the slot (lambda/core/stagger.ts) a little late, as a
// queued round does, checks start at the engine's spread offset, a timeout takes the target's timeoutMs, and the round
// is written when its last check ends.
import type { RegionwatchConfig } from '../config/schema';
import { resolveTargets, type ResolvedTarget } from '../config/resolve';
import { ROUND_WRITE_MARGIN_MS } from '../config/round-timing';
import type { ErrorClass, ProbeResult, ResultStatus, RoundRecord } from '../core/results';
import { jitterOffsetMs, jitterWindowMs, staggerOffsets } from '../core/stagger';
import type { Draws } from './random';
import type { PlatformFaultEvent, Scenario, TimedEvent } from './scenario';

/** A healthy check's latency range, milliseconds. */
const HEALTHY_LATENCY_MS: readonly [number, number] = [40, 220];
/** How long writing a round takes, milliseconds. */
const WRITE_MS = 30;
/** A round starts up to this late (a queued round arrives within half a second of its start: SQS DelaySeconds is whole seconds). */
const MAX_START_LATENESS_MS = 500;
/** A confirmation's checks all start at once (the budget keeps them inside the caps) and must end by this after the slowest timeout. */
const CONFIRMATION_MARGIN_MS = 200;

/** One check of a synthesised round or confirmation: which target (index into `targets`), when, what it saw. */
export interface SynthCheck {
  target: number;
  at: number;
  result: ProbeResult;
}

interface Outcome {
  status: ResultStatus;
  latencyMs: number;
  errorClass?: ErrorClass;
  statusCode?: number;
  detail?: string;
}

/** The expected verdict of a platform fault, or null when the config cannot see it (see docs/simulate.md). */
export function expectedVerdict(event: PlatformFaultEvent, targets: readonly ResolvedTarget[]): 'down' | 'read-only' | 'degraded' | null {
  const mine = targets.filter((t) => t.region === event.region);
  switch (event.fault) {
    case 'down':
    case 'flap':
      return mine.length > 0 ? 'down' : null;
    case 'errors':
      return event.rate >= 1 && mine.length > 0 ? 'down' : null;
    case 'read-only':
      return mine.some((t) => t.role === 'write-probe') && mine.some((t) => t.role === 'read') ? 'read-only' : null;
    case 'slow':
      if (mine.length === 0) return null;
      if (mine.every((t) => event.latencyMs >= t.timeoutMs)) return 'down';
      if (mine.every((t) => event.latencyMs > t.degradedLatencyMs)) return 'degraded';
      return null;
  }
}

/** True while `event` is active at scenario second `s`. */
export function activeAt(event: TimedEvent, s: number): boolean {
  return event.from <= s && s < event.to;
}

/** Whether a flap is in its down phase at scenario second `s`. */
function flapDown(event: Extract<TimedEvent, { fault: 'flap' }>, s: number): boolean {
  const down = event.downSeconds ?? event.periodSeconds / 2;
  return (s - event.from) % event.periodSeconds < down;
}

const SEVERITY: Record<ResultStatus, number> = { up: 0, degraded: 1, down: 2 };

export class RoundSynthesiser {
  readonly targets: ResolvedTarget[];
  private readonly byRegion = new Map<string, PlatformFaultEvent[]>();
  private readonly partitions: Extract<TimedEvent, { fault: 'partition' }>[];
  private readonly silences: Extract<TimedEvent, { fault: 'silent' }>[];
  private readonly interval: number;
  private readonly jitterMs: number;
  private readonly offsets: Record<string, number>;
  /** Per probe region, per target: the key hash of its draws (hashing strings per result is the slow part). */
  private readonly keys = new Map<string, number[]>();

  constructor(
    private readonly scenario: Scenario,
    private readonly draws: Draws,
  ) {
    const config: RegionwatchConfig = scenario.config;
    this.targets = resolveTargets(config);
    this.interval = config.defaults.intervalSeconds;
    this.jitterMs = config.probing.jitterMs;
    this.offsets = staggerOffsets(config);
    for (const e of scenario.events) {
      if (e.fault === 'down' || e.fault === 'read-only' || e.fault === 'slow' || e.fault === 'errors' || e.fault === 'flap') {
        const list = this.byRegion.get(e.region) ?? [];
        list.push(e);
        this.byRegion.set(e.region, list);
      }
    }
    this.partitions = scenario.events.filter((e): e is Extract<TimedEvent, { fault: 'partition' }> => e.fault === 'partition');
    this.silences = scenario.events.filter((e): e is Extract<TimedEvent, { fault: 'silent' }> => e.fault === 'silent');
  }

  /** Scenario second of an epoch-ms instant. */
  private sec(epochMs: number): number {
    return (epochMs - this.scenario.startAtMs) / 1000;
  }

  /** Whether the probe region writes nothing for this slot (a silent prober). */
  isSilent(probeRegion: string, slot: number): boolean {
    const s = this.sec(slot * 1000);
    return this.silences.some((e) => e.probeRegion === probeRegion && activeAt(e, s));
  }

  /**
   * The round a probe region writes for `slot` (epoch seconds), when the write lands (epoch ms) and its checks, or null
   * when it is silent. Each target due in the slot is checked once, at the round's start plus the engine's spread offset.
   */
  round(probeRegion: string, slot: number): { round: RoundRecord; writtenAtMs: number; checks: SynthCheck[] } | null {
    if (this.isSilent(probeRegion, slot)) return null;
    const slotMs = slot * 1000;
    const nominal = slotMs + (this.offsets[probeRegion] ?? 0);
    const startMs = nominal + Math.floor(this.draws.unitAt(this.draws.keyHash(`start/${probeRegion}`), slot, 0) * MAX_START_LATENESS_MS);
    const deadline = nominal + this.interval * 1000 - ROUND_WRITE_MARGIN_MS;
    const slotEndMs = slotMs + this.interval * 1000;
    const checks: SynthCheck[] = [];
    let lastEnd = startMs;
    const keys = this.keysOf(probeRegion);
    for (let n = 0; n < this.targets.length; n++) {
      const t = this.targets[n];
      if (!t || slot % t.intervalSeconds !== 0) continue;
      const window = Math.max(0, jitterWindowMs({ jitterMs: this.jitterMs, startedAt: startMs, deadlineAt: deadline, timeoutMs: t.timeoutMs, slotEndMs }));
      const at = startMs + jitterOffsetMs(`${t.region}/${t.name}/${slot}`, window);
      const o = this.outcome(probeRegion, t, keys[n] ?? 0, slot, at, 0);
      checks.push({ target: n, at, result: resultOf(t, o, at) });
      lastEnd = Math.max(lastEnd, Math.min(deadline, at + o.latencyMs));
    }
    const round: RoundRecord = { probeRegion, slot, intervalSeconds: this.interval, startedAt: startMs, finishedAt: lastEnd, part: 0, parts: 1, results: checks.map((c) => c.result) };
    return { round, writtenAtMs: lastEnd + WRITE_MS, checks };
  }

  /**
   * The confirmation `probeRegion` writes when it checks `targets` (indexes) at `atMs` for the request `batch`: one
   * record in the slot of `atMs`, every check started at once, written when the slowest ends.
   */
  confirmation(probeRegion: string, targets: readonly number[], atMs: number, batch: string, seq: number): { record: RoundRecord; writtenAtMs: number; checks: SynthCheck[] } {
    const slot = Math.floor(atMs / 1000 / this.interval) * this.interval;
    const keys = this.keysOf(probeRegion);
    const checks: SynthCheck[] = [];
    let deadline = atMs;
    for (const n of targets) deadline = Math.max(deadline, atMs + (this.targets[n]?.timeoutMs ?? 0) + CONFIRMATION_MARGIN_MS);
    let lastEnd = atMs;
    for (const n of targets) {
      const t = this.targets[n];
      if (!t) continue;
      const o = this.outcome(probeRegion, t, keys[n] ?? 0, slot, atMs, seq);
      checks.push({ target: n, at: atMs, result: resultOf(t, o, atMs) });
      lastEnd = Math.max(lastEnd, Math.min(deadline, atMs + o.latencyMs));
    }
    const record: RoundRecord = {
      probeRegion,
      slot,
      intervalSeconds: this.interval,
      startedAt: atMs,
      finishedAt: lastEnd,
      part: 0,
      parts: 1,
      results: checks.map((c) => c.result),
      kind: 'confirmation',
      batch,
    };
    return { record, writtenAtMs: lastEnd + WRITE_MS, checks };
  }

  private keysOf(probeRegion: string): number[] {
    let keys = this.keys.get(probeRegion);
    if (!keys) {
      keys = this.targets.map((t) => this.draws.keyHash(`${probeRegion}/${t.region}/${t.name}`));
      this.keys.set(probeRegion, keys);
    }
    return keys;
  }

  /** What a check of `t` from `probeRegion` started at `startMs` sees; `draw` 0 for a round's, n > 0 for the n-th confirmation's. */
  private outcome(probeRegion: string, t: ResolvedTarget, key: number, slot: number, startMs: number, draw: number): Outcome {
    const s = this.sec(startMs);
    for (const p of this.partitions) {
      if (p.probeRegion !== probeRegion || !activeAt(p, s)) continue;
      if (p.region !== undefined && p.region !== t.region) continue;
      return failure(p.errorClass ?? 'connect-timeout', t.timeoutMs, 'simulated partition');
    }
    let worst: Outcome | null = null;
    for (const e of this.byRegion.get(t.region) ?? []) {
      if (!activeAt(e, s)) continue;
      const o = this.faultOutcome(e, probeRegion, t, slot, s, draw);
      if (o && (!worst || SEVERITY[o.status] > SEVERITY[worst.status])) worst = o;
    }
    if (worst) return worst;
    const [low, high] = HEALTHY_LATENCY_MS;
    return { status: 'up', latencyMs: low + Math.floor(this.draws.unitAt(key, slot, draw === 0 ? 2 : 1000 + draw) * (high - low + 1)) };
  }

  private faultOutcome(e: PlatformFaultEvent, probeRegion: string, t: ResolvedTarget, slot: number, s: number, draw: number): Outcome | null {
    switch (e.fault) {
      case 'down':
        return failure(e.errorClass ?? 'timeout', t.timeoutMs, 'simulated outage');
      case 'flap':
        return flapDown(e, s) ? failure('timeout', t.timeoutMs, 'simulated flap') : null;
      case 'read-only':
        return t.role === 'write-probe' ? { status: 'down', latencyMs: 90, errorClass: 'status', statusCode: 503, detail: 'status 503 (simulated read-only)' } : null;
      case 'errors':
        // One draw per round (and per confirmation): a platform failing a share of requests fails each independently.
        return this.draws.chance(`errors/${probeRegion}/${e.region}/${slot}${draw === 0 ? '' : `/confirm/${draw}`}`, e.rate)
          ? { status: 'down', latencyMs: 120, errorClass: 'status', statusCode: 500, detail: 'status 500 (simulated errors)' }
          : null;
      case 'slow':
        if (e.latencyMs >= t.timeoutMs) return failure('timeout', t.timeoutMs, 'simulated slowness');
        if (e.latencyMs > t.degradedLatencyMs) return { status: 'degraded', latencyMs: e.latencyMs, detail: `slow: ${e.latencyMs} ms` };
        return { status: 'up', latencyMs: e.latencyMs };
    }
  }
}

function resultOf(t: ResolvedTarget, o: Outcome, at: number): ProbeResult {
  const r: ProbeResult = { region: t.region, target: t.name, role: t.role, status: o.status, latencyMs: o.latencyMs, at };
  if (o.errorClass !== undefined) r.errorClass = o.errorClass;
  if (o.statusCode !== undefined) r.statusCode = o.statusCode;
  if (o.detail !== undefined) r.detail = o.detail;
  return r;
}

function failure(errorClass: ErrorClass, timeoutMs: number, detail: string): Outcome {
  const slow = errorClass === 'timeout' || errorClass === 'connect-timeout';
  const o: Outcome = { status: 'down', latencyMs: slow ? timeoutMs : 25, errorClass, detail };
  if (errorClass === 'status') {
    o.statusCode = 503;
    o.latencyMs = 90;
  }
  return o;
}
