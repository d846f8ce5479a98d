// A pure, in-process driver for the evaluator and the lifecycle: scripted results per slot, instant publishing.
import { configSchema, type RegionwatchConfig, type RegionwatchConfigInput } from '../../lambda/config/schema';
import { decideChecker, type CheckerRecord } from '../../lambda/core/checker';
import { evaluateWindow, evaluationSettings, lateWindowBounds, windowBounds, type EvaluationSettings, type LifecycleTuning } from '../../lambda/core/evaluate';
import { decideRegion, markPublished, type IncidentRecord, type RegionStatusRecord } from '../../lambda/core/lifecycle';
import type { Notification } from '../../lambda/core/notification';
import { isOwnRefusal } from '../../lambda/core/refusals';
import type { ProbeResult, ResultStatus, RoundRecord } from '../../lambda/core/results';

export const T0 = Date.parse('2026-04-14T14:00:00Z') / 1000;
export const PROBES = ['us-east-1', 'eu-west-1', 'ap-southeast-1'] as const;

export function testConfig(overrides: Partial<RegionwatchConfigInput> = {}): RegionwatchConfig {
  return configSchema.parse({
    platform: 'acme',
    probeRegions: [...PROBES],
    homeRegion: 'us-east-1',
    defaults: { intervalSeconds: 10, timeoutMs: 3000, failureThreshold: 2, recoveryThreshold: 3, quorum: 2, degradedLatencyMs: 1500 },
    regions: {
      us: {
        targets: [
          { name: 'api', type: 'http', url: 'https://api.us.example/health' },
          { name: 'write-path', type: 'http', method: 'POST', role: 'write-probe', url: 'https://api.us.example/canary' },
        ],
      },
      eu: { targets: [{ name: 'api', type: 'http', url: 'https://api.eu.example/health' }] },
      apac: { targets: [{ name: 'api', type: 'http', url: 'https://api.apac.example/health' }] },
    },
    notifications: { reminderMinutes: 30 },
    ...overrides,
  });
}

/**
 * What one probe region sees of one target at one slot; undefined: no result (the target is not in the round);
 * `refused`: the prober's SSRF guard refused the target's address (a `blocked-address` result).
 */
export type Script = (slot: number, probeRegion: string, region: string, target: string, role: 'read' | 'write-probe') => ResultStatus | 'refused' | undefined;

/** The detail a prober writes when its guard refuses a name that resolves to loopback with the key off. */
export const REFUSED_DETAIL = 'refused to connect to a loopback address: set probing.allowPrivateAddresses to true to probe it';

export function roundFor(config: RegionwatchConfig, slot: number, probeRegion: string, script: Script): RoundRecord {
  const results: ProbeResult[] = [];
  for (const [region, { targets }] of Object.entries(config.regions)) {
    for (const t of targets) {
      const role = (t.type === 'http' || t.type === 'https') && t.role === 'write-probe' ? 'write-probe' : 'read';
      const status = script(slot, probeRegion, region, t.name, role);
      if (status === undefined) continue;
      if (status === 'refused') {
        results.push({ region, target: t.name, role, status: 'down', errorClass: 'blocked-address', detail: REFUSED_DETAIL, latencyMs: 1 });
        continue;
      }
      const r: ProbeResult = { region, target: t.name, role, status, latencyMs: status === 'up' ? 80 : 3000 };
      if (status !== 'up') {
        r.errorClass = role === 'write-probe' ? 'status' : 'timeout';
        r.statusCode = role === 'write-probe' ? 503 : undefined;
      }
      results.push(r);
    }
  }
  return { probeRegion, slot, intervalSeconds: config.defaults.intervalSeconds, startedAt: slot * 1000, finishedAt: slot * 1000 + 2000, part: 0, parts: 1, results };
}

export interface Published extends Notification {
  /** Seconds from T0 when published. */
  t: number;
}

/**
 * Runs the pure pipeline slot by slot: every probe region writes its round (unless `silent` says not), then one
 * evaluation at slot + 3 s, every region decided, every owed notification published at once.
 */
export class PureRun {
  readonly settings: EvaluationSettings;
  readonly rounds: RoundRecord[] = [];
  readonly incidents = new Map<string, IncidentRecord[]>();
  readonly status = new Map<string, RegionStatusRecord>();
  checker: CheckerRecord | null = null;
  readonly published: Published[] = [];
  /** Transitions decided per step, for properties. */
  readonly decided: { slot: number; region: string; transitions: string[]; fresh: number }[] = [];
  /** Seconds after its slot a probe region's round becomes visible (replication lag into the replica read). */
  private delayOf: (slot: number, probeRegion: string) => number = () => 0;
  private readonly inFlight: { visibleAt: number; round: RoundRecord }[] = [];

  constructor(
    readonly config: RegionwatchConfig,
    readonly script: Script,
    tuning: Partial<LifecycleTuning> = {},
    readonly silent: (slot: number, probeRegion: string) => boolean = () => false,
  ) {
    this.settings = evaluationSettings(config, tuning);
  }

  latest(region: string): IncidentRecord | null {
    const list = this.incidents.get(region) ?? [];
    return list[list.length - 1] ?? null;
  }

  all(region: string): IncidentRecord[] {
    return this.incidents.get(region) ?? [];
  }

  /** Adds records as they reached the replica (staggered rounds, confirmations): `evaluate` reads them. */
  push(...records: RoundRecord[]): this {
    this.rounds.push(...records);
    return this;
  }

  /** Makes rounds arrive `delay(slot, probeRegion)` seconds after their slot (0: at once). */
  lagged(delay: (slot: number, probeRegion: string) => number): this {
    this.delayOf = delay;
    return this;
  }

  /** Runs slots [fromSecond, toSecond) (seconds from T0); each slot is evaluated 3 s after it starts. */
  run(fromSecond: number, toSecond: number, step = this.config.defaults.intervalSeconds): this {
    for (let s = fromSecond; s < toSecond; s += step) {
      const slot = T0 + s;
      for (const p of this.config.probeRegions) {
        if (!this.silent(slot, p)) this.inFlight.push({ visibleAt: slot + this.delayOf(slot, p), round: roundFor(this.config, slot, p, this.script) });
      }
      for (let n = 0; n < this.inFlight.length; ) {
        const item = this.inFlight[n];
        if (item && item.visibleAt <= slot + 3) {
          this.rounds.push(item.round);
          this.inFlight.splice(n, 1);
        } else n++;
      }
      this.evaluate(slot * 1000 + 3000);
    }
    return this;
  }

  evaluate(nowMs: number): void {
    // As the engine reads: the near window, and the older range too while verdicts wait for late results.
    const { fromSlot, toSlot } = windowBounds(this.settings, nowMs);
    const near = this.rounds.filter((r) => r.slot >= fromSlot && r.slot <= toSlot);
    const late = lateWindowBounds(this.settings, near, nowMs);
    const window = late ? this.rounds.filter((r) => r.slot >= late.fromSlot && r.slot <= toSlot) : near;
    const evaluation = evaluateWindow(this.settings, window, nowMs);
    for (const region of this.settings.regions) {
      const decision = decideRegion({ settings: this.settings, evaluation, region, nowMs, latest: this.latest(region), status: this.status.get(region) ?? null });
      this.decided.push({ slot: evaluation.slots[evaluation.latest] ?? 0, region, transitions: decision.transitions, fresh: evaluation.probeRegions[evaluation.latest]?.fresh.length ?? 0 });
      if (decision.status) this.status.set(region, { ...decision.status, version: decision.status.version + 1 });
      if (decision.incident) {
        let incident: IncidentRecord = { ...decision.incident, version: decision.incident.version + 1 };
        for (const entry of incident.outbox) {
          this.published.push({ ...entry.notification, t: nowMs / 1000 - T0 });
          incident = markPublished(incident, entry.notification.dedupKey, nowMs);
        }
        const list = this.incidents.get(region) ?? [];
        if (decision.created) list.push(incident);
        else list[list.length - 1] = incident;
        this.incidents.set(region, list);
      }
    }
    const checker = decideChecker({ settings: this.settings, evaluation, nowMs, checker: this.checker });
    if (checker.record) {
      let record = checker.record;
      for (const entry of record.outbox) {
        this.published.push({ ...entry.notification, t: nowMs / 1000 - T0 });
        record = markPublished(record, entry.notification.dedupKey, nowMs);
      }
      this.checker = record;
    }
  }
}

/** A script from per-region faults: [fromSecond, toSecond, fault] relative to T0. */
export function faults(spec: Record<string, [number, number, 'down' | 'read-only' | 'degraded'][]>, perProbe?: (slot: number, probeRegion: string) => ResultStatus | undefined): Script {
  return (slot, probeRegion, region, _target, role) => {
    const forced = perProbe?.(slot, probeRegion);
    if (forced !== undefined) return forced;
    const s = slot - T0;
    for (const [from, to, fault] of spec[region] ?? []) {
      if (s < from || s >= to) continue;
      if (fault === 'down') return 'down';
      if (fault === 'degraded') return 'degraded';
      if (fault === 'read-only') return role === 'write-probe' ? 'down' : 'up';
    }
    return 'up';
  };
}

/** The value with every object's keys in reverse order, as a store that keeps no attribute order may return it. */
export function reordered(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reordered);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).reverse().map(([k, v]) => [k, reordered(v)]));
}

/**
 * What a probe region's check of a target at `atMs` sees (continuous time); undefined: it does not check it;
 * `refused`: its SSRF guard refused the address (a `blocked-address` result, as `Script` has it).
 */
export type TimedScript = (atMs: number, probeRegion: string, region: string, target: string, role: 'read' | 'write-probe') => ResultStatus | 'refused' | undefined;

/**
 * Staggered rounds and confirmations, in the pure pipeline: every probe region checks every target at its stagger
 * offset in each slot; a failing check whose previous check from that probe region was up asks every probe region to
 * check the target again `minFaultSeconds` later (as lambda/core/confirmation.ts has them do); each record is
 * evaluated the moment it is written, as the stream would deliver it.
 */
export function runTimed(run: PureRun, script: TimedScript, fromSecond: number, toSecond: number): PureRun {
  const config = run.config;
  const i = config.defaults.intervalSeconds;
  const offsets = config.probeRegions.map((_p, n) => Math.round((n * i * 1000) / config.probeRegions.length));
  const previous = new Map<string, ResultStatus>();
  const targets = Object.entries(config.regions).flatMap(([region, { targets: list }]) =>
    list.map((t) => ({ region, name: t.name, role: ((t.type === 'http' || t.type === 'https') && t.role === 'write-probe' ? 'write-probe' : 'read') as 'read' | 'write-probe', minFault: t.minFaultSeconds ?? config.defaults.minFaultSeconds })),
  );
  type Pending = { atMs: number; record: RoundRecord };
  const queue: Pending[] = [];
  const check = (p: string, atMs: number, only?: Set<string>): ProbeResult[] => {
    const results: ProbeResult[] = [];
    for (const t of targets) {
      if (only && !only.has(`${t.region}/${t.name}`)) continue;
      const status = script(atMs, p, t.region, t.name, t.role);
      if (status === undefined) continue;
      if (status === 'refused') {
        results.push({ region: t.region, target: t.name, role: t.role, status: 'down', errorClass: 'blocked-address', detail: REFUSED_DETAIL, latencyMs: 1, at: atMs });
        continue;
      }
      results.push({ region: t.region, target: t.name, role: t.role, status, latencyMs: status === 'up' ? 80 : 90, at: atMs, ...(status === 'up' ? {} : { errorClass: 'status' as const }) });
    }
    return results;
  };
  const confirmations = (p: string, results: readonly ProbeResult[]) => {
    const asked = results.filter((r) => {
      const key = `${p}|${r.region}/${r.target}`;
      const was = previous.get(key);
      previous.set(key, r.status);
      // As the prober's requester: our own refusal is never asked about (lambda/probe/confirmations.ts).
      return r.status !== 'up' && !isOwnRefusal(r) && (was === undefined || was === 'up');
    });
    if (asked.length === 0) return;
    const atMs = (asked[0]?.at ?? 0) + Math.max(...asked.map((r) => targets.find((t) => t.region === r.region && t.name === r.target)?.minFault ?? 0)) * 1000;
    const only = new Set(asked.map((r) => `${r.region}/${r.target}`));
    for (const q of config.probeRegions) {
      const checked = check(q, atMs, only);
      for (const r of checked) previous.set(`${q}|${r.region}/${r.target}`, r.status);
      const slot = Math.floor(atMs / 1000 / i) * i;
      queue.push({ atMs: atMs + 100, record: { probeRegion: q, slot, intervalSeconds: i, startedAt: atMs, finishedAt: atMs + 100, part: 0, parts: 1, results: checked, kind: 'confirmation', batch: `${p}/${atMs}` } });
    }
  };
  for (let s = fromSecond; s < toSecond; s += i) {
    const slot = T0 + s;
    config.probeRegions.forEach((p, n) => {
      if (run.silent(slot, p)) return;
      const startMs = slot * 1000 + (offsets[n] ?? 0);
      const results = check(p, startMs);
      queue.push({ atMs: startMs + 200, record: { probeRegion: p, slot, intervalSeconds: i, startedAt: startMs, finishedAt: startMs + 200, part: 0, parts: 1, results } });
      confirmations(p, results);
    });
    queue.sort((a, b) => a.atMs - b.atMs);
    while (queue.length > 0 && (queue[0]?.atMs ?? Infinity) < (slot + i) * 1000) {
      const next = queue.shift();
      if (!next) break;
      run.push(next.record);
      run.evaluate(next.atMs);
    }
  }
  return run;
}
