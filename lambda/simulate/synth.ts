// What each prober would have recorded: one round per probe region and slot, synthesised from the scenario's
// platform and probe-region faults instead of a network. Timing follows the probe engine: checks start at a
// spread offset in the slot, a timeout takes the target's timeoutMs, and the round is written when its last check ends.
import type { RegionwatchConfig } from '../config/schema';
import { resolveTargets, type ResolvedTarget } from '../config/resolve';
import { ROUND_WRITE_MARGIN_MS } from '../config/round-timing';
import type { ErrorClass, ProbeResult, ResultStatus, RoundRecord } from '../core/results';
import type { Draws } from './random';
import type { PlatformFaultEvent, Scenario, TimedEvent } from './scenario';

/** A healthy check's latency range, milliseconds. */
const HEALTHY_LATENCY_MS: readonly [number, number] = [40, 220];
/** How long writing a round takes, milliseconds. */
const WRITE_MS = 30;

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
   * The round a probe region writes for `slot` (epoch seconds) and when the write lands (epoch ms), or null when it
   * is silent. Each target due in the slot is checked once, at the slot start plus its spread offset.
   */
  round(probeRegion: string, slot: number): { round: RoundRecord; writtenAtMs: number } | null {
    if (this.isSilent(probeRegion, slot)) return null;
    const slotMs = slot * 1000;
    const deadline = slotMs + this.interval * 1000 - ROUND_WRITE_MARGIN_MS;
    const results: ProbeResult[] = [];
    let lastEnd = slotMs;
    const keys = this.keysOf(probeRegion);
    for (let n = 0; n < this.targets.length; n++) {
      const t = this.targets[n];
      if (!t || slot % t.intervalSeconds !== 0) continue;
      const key = keys[n] ?? 0;
      const window = Math.max(0, Math.min(this.jitterMs, deadline - slotMs - t.timeoutMs - 200));
      const offset = Math.floor(this.draws.unitAt(key, slot, 1) * (window + 1));
      const startMs = slotMs + offset;
      const o = this.outcome(probeRegion, t, key, slot, startMs);
      const r: ProbeResult = { region: t.region, target: t.name, role: t.role, status: o.status, latencyMs: o.latencyMs };
      if (o.errorClass !== undefined) r.errorClass = o.errorClass;
      if (o.statusCode !== undefined) r.statusCode = o.statusCode;
      if (o.detail !== undefined) r.detail = o.detail;
      results.push(r);
      lastEnd = Math.max(lastEnd, Math.min(deadline, startMs + o.latencyMs));
    }
    const round: RoundRecord = { probeRegion, slot, intervalSeconds: this.interval, startedAt: slotMs, finishedAt: lastEnd, part: 0, parts: 1, results };
    return { round, writtenAtMs: lastEnd + WRITE_MS };
  }

  private keysOf(probeRegion: string): number[] {
    let keys = this.keys.get(probeRegion);
    if (!keys) {
      keys = this.targets.map((t) => this.draws.keyHash(`${probeRegion}/${t.region}/${t.name}`));
      this.keys.set(probeRegion, keys);
    }
    return keys;
  }

  private outcome(probeRegion: string, t: ResolvedTarget, key: number, slot: number, startMs: number): Outcome {
    const s = this.sec(startMs);
    for (const p of this.partitions) {
      if (p.probeRegion !== probeRegion || !activeAt(p, s)) continue;
      if (p.region !== undefined && p.region !== t.region) continue;
      return failure(p.errorClass ?? 'connect-timeout', t.timeoutMs, 'simulated partition');
    }
    let worst: Outcome | null = null;
    for (const e of this.byRegion.get(t.region) ?? []) {
      if (!activeAt(e, s)) continue;
      const o = this.faultOutcome(e, probeRegion, t, slot, s);
      if (o && (!worst || SEVERITY[o.status] > SEVERITY[worst.status])) worst = o;
    }
    if (worst) return worst;
    const [low, high] = HEALTHY_LATENCY_MS;
    return { status: 'up', latencyMs: low + Math.floor(this.draws.unitAt(key, slot, 2) * (high - low + 1)) };
  }

  private faultOutcome(e: PlatformFaultEvent, probeRegion: string, t: ResolvedTarget, slot: number, s: number): Outcome | null {
    switch (e.fault) {
      case 'down':
        return failure(e.errorClass ?? 'timeout', t.timeoutMs, 'simulated outage');
      case 'flap':
        return flapDown(e, s) ? failure('timeout', t.timeoutMs, 'simulated flap') : null;
      case 'read-only':
        return t.role === 'write-probe' ? { status: 'down', latencyMs: 90, errorClass: 'status', statusCode: 503, detail: 'status 503 (simulated read-only)' } : null;
      case 'errors':
        // One draw per round: a platform failing a share of requests fails each prober's round independently.
        return this.draws.chance(`errors/${probeRegion}/${e.region}/${slot}`, e.rate)
          ? { status: 'down', latencyMs: 120, errorClass: 'status', statusCode: 500, detail: 'status 500 (simulated errors)' }
          : null;
      case 'slow':
        if (e.latencyMs >= t.timeoutMs) return failure('timeout', t.timeoutMs, 'simulated slowness');
        if (e.latencyMs > t.degradedLatencyMs) return { status: 'degraded', latencyMs: e.latencyMs, detail: `slow: ${e.latencyMs} ms` };
        return { status: 'up', latencyMs: e.latencyMs };
    }
  }
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
