// Builds ProbeResults from what a check saw, so every check rounds and names things the same way.
import type { ResolvedTarget } from '../../config/resolve';
import type { ProbeResult, Timings } from '../../core/results';
import type { ProbeFailure } from '../errors';

export type ResolvedHttpTarget = Extract<ResolvedTarget, { type: 'http' | 'https' }>;
export type ResolvedTcpTarget = Extract<ResolvedTarget, { type: 'tcp' }>;
export type ResolvedDnsTarget = Extract<ResolvedTarget, { type: 'dns' }>;
export type ResolvedTlsTarget = Extract<ResolvedTarget, { type: 'tls' }>;

export function ms(value: number): number {
  return Math.max(0, Math.round(value));
}

function cleanTimings(timings: Timings): Timings | undefined {
  // A plain loop: this runs once per check, and entries/filter/map/fromEntries allocated five arrays each time.
  let clean: Record<string, number> | undefined;
  for (const key in timings) {
    const value = (timings as Record<string, unknown>)[key];
    if (typeof value === 'number' && Number.isFinite(value)) (clean ??= {})[key] = ms(value);
  }
  return clean as Timings | undefined;
}

export interface Observation {
  latencyMs: number;
  timings?: Timings;
  statusCode?: number;
  tlsDaysLeft?: number;
}

/** Up, or degraded when slower than the target's degradedLatencyMs. */
export function passed(target: ResolvedTarget, seen: Observation): ProbeResult {
  const slow = seen.latencyMs > target.degradedLatencyMs;
  return build(target, seen, {
    status: slow ? 'degraded' : 'up',
    ...(slow ? { detail: `latency ${ms(seen.latencyMs)} ms over ${target.degradedLatencyMs} ms` } : {}),
  });
}

export function failed(target: ResolvedTarget, seen: Observation, failure: ProbeFailure): ProbeResult {
  return build(target, seen, { status: 'down', errorClass: failure.errorClass, detail: failure.detail });
}

export function build(target: ResolvedTarget, seen: Observation, verdict: Pick<ProbeResult, 'status' | 'errorClass' | 'detail'>): ProbeResult {
  const timings = seen.timings ? cleanTimings(seen.timings) : undefined;
  const result: ProbeResult = {
    region: target.region,
    target: target.name,
    role: target.role,
    status: verdict.status,
    latencyMs: ms(seen.latencyMs),
  };
  if (verdict.errorClass !== undefined) result.errorClass = verdict.errorClass;
  if (verdict.detail !== undefined) result.detail = verdict.detail;
  if (seen.statusCode !== undefined) result.statusCode = seen.statusCode;
  if (timings) result.timings = timings;
  if (seen.tlsDaysLeft !== undefined) result.tlsDaysLeft = seen.tlsDaysLeft;
  return result;
}

const DAY_MS = 86_400_000;

/** Whole days from `now` until a certificate's notAfter (negative once expired). */
export function daysLeft(validTo: string, now: number): number | undefined {
  const end = Date.parse(validTo);
  return Number.isFinite(end) ? Math.floor((end - now) / DAY_MS) : undefined;
}
