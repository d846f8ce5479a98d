// What a prober records: one result per target per round, grouped into one round record per probe region and slot.
// This is the contract between the probe engine, the results table and the aggregator (README: "Result items").

/** A check's own verdict from one probe region. */
export type ResultStatus = 'up' | 'degraded' | 'down';

/** Why a check failed, in words a person can act on. */
export const ERROR_CLASSES = [
  'dns',
  'refused',
  'connect-timeout',
  'tls',
  'timeout',
  'status',
  'assertion',
  'too-large',
  'blocked-address',
  'redirect-loop',
  'reset',
  'protocol',
] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

/** Phases of one request, in milliseconds, where the protocol has them. */
export interface Timings {
  dnsMs?: number;
  connectMs?: number;
  tlsMs?: number;
  firstByteMs?: number;
}

export interface ProbeResult {
  /** Platform region of the target. */
  region: string;
  /** Target name, unique within its platform region. */
  target: string;
  role: 'read' | 'write-probe';
  status: ResultStatus;
  /** Set when status is not `up` (and for a degraded result, when a cause is known). */
  errorClass?: ErrorClass;
  /** One short line of evidence: the failed assertion, the status code seen, the error. */
  detail?: string;
  statusCode?: number;
  /** Total wall time of the check. */
  latencyMs: number;
  timings?: Timings;
  /** TLS checks: whole days until the certificate expires. */
  tlsDaysLeft?: number;
}

/** One probe region's results for one slot (or one part of them, when split to fit the item size limit). */
export interface RoundRecord {
  probeRegion: string;
  /** Slot start, epoch seconds, a multiple of intervalSeconds. */
  slot: number;
  intervalSeconds: number;
  /** Epoch milliseconds. */
  startedAt: number;
  finishedAt: number;
  /** 0-based part index and the number of parts the round was split into. */
  part: number;
  parts: number;
  results: ProbeResult[];
}

/** The start of the slot that contains `epochMs`. */
export function slotOf(epochMs: number, intervalSeconds: number): number {
  const seconds = Math.floor(epochMs / 1000);
  return seconds - (((seconds % intervalSeconds) + intervalSeconds) % intervalSeconds);
}
