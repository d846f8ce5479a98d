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
  /**
   * When the check started (its request went out), epoch ms on the scheduler's clock. Rounds are staggered across
   * the slot and confirmations happen at any time inside it, so the aggregator reads time from here, not the slot.
   * Absent in rounds written before it existed: the round's start stands in.
   */
  at?: number;
}

/**
 * `round`: a probe region's scheduled round, every due target. `confirmation`: checks a probe region ran because
 * another one asked it to confirm a failure (docs/probing.md, "Confirm on failure"): some targets only, at a time of
 * its own inside the slot. Both are ordinary results to the aggregator.
 */
export type RecordKind = 'round' | 'confirmation';

/** One probe region's results for one slot (or one part of them, when split to fit the item size limit). */
export interface RoundRecord {
  probeRegion: string;
  /** Slot start, epoch seconds, a multiple of intervalSeconds. */
  slot: number;
  intervalSeconds: number;
  /** Epoch milliseconds. */
  startedAt: number;
  finishedAt: number;
  /** 0-based part index and the number of parts this shard's results were split into (to fit DynamoDB's item limit). */
  part: number;
  parts: number;
  /**
   * The shard of the probe region's round these results are, and how many shards the round fanned out over
   * (lambda/config/capacity.ts). Absent on a round run in one invocation: shard 0 of 1.
   */
  shard?: number;
  shards?: number;
  results: ProbeResult[];
  /** Absent: a round (records written before confirmations existed have none). */
  kind?: RecordKind;
  /**
   * A confirmation's deterministic id (who asked, for which of its rounds, which request): a duplicated delivery of
   * the same request writes the same item. Rounds have none.
   */
  batch?: string;
}

/** True for a confirmation record, false for a round. */
export function isConfirmation(record: Pick<RoundRecord, 'kind'>): boolean {
  return record.kind === 'confirmation';
}

/** `slot#probeRegion`: one probe region's round of one slot, across its shards and parts. */
export function roundKey(round: Pick<RoundRecord, 'slot' | 'probeRegion'>): string {
  return `${round.slot}#${round.probeRegion}`;
}

/**
 * The rounds (by roundKey) whose every shard has every part in (confirmations are not rounds): only those make a probe region current at their
 * slot. A round whose shards disagree on how many there are (a deploy between two of them) is complete when every
 * shard that the largest count names has all its parts.
 */
export function completeRoundKeys(records: readonly RoundRecord[]): ReadonlySet<string> {
  return completeness(records).keys;
}

/**
 * The round records of `records` that belong to a complete round (see completeRoundKeys): what the evaluation asks of
 * every record, by identity, without building its key again.
 */
export function recordsOfCompleteRounds(records: readonly RoundRecord[]): ReadonlySet<RoundRecord> {
  return completeness(records).records;
}

interface Completeness {
  keys: ReadonlySet<string>;
  records: ReadonlySet<RoundRecord>;
}

/**
 * One evaluation asks three times about a window (decisionPoint, evaluateWindow, incompleteRounds), and the
 * simulator's two-hour example spent a sixth of its time here, most of it building every record's key: the usual
 * window (no round in parts or shards) takes a fast path that builds none, and callers ask by record, not by key.
 */
function completeness(records: readonly RoundRecord[]): Completeness {
  // The usual window: no round in parts or shards, so every round record is its whole round.
  if (records.every((r) => r.parts === 1 && (r.shards ?? 1) <= 1)) {
    const rounds = records.filter((r) => !isConfirmation(r));
    let keys: Set<string> | undefined;
    return {
      get keys() {
        keys ??= new Set(rounds.map(roundKey));
        return keys;
      },
      records: new Set(rounds),
    };
  }
  const byRound = new Map<string, { shards: number; parts: Map<number, { parts: number; seen: Set<number> }>; records: RoundRecord[] }>();
  for (const r of records) {
    // A confirmation answers for some targets, never for a probe region's round.
    if (isConfirmation(r)) continue;
    const key = roundKey(r);
    let round = byRound.get(key);
    if (!round) {
      round = { shards: 1, parts: new Map(), records: [] };
      byRound.set(key, round);
    }
    round.records.push(r);
    round.shards = Math.max(round.shards, r.shards ?? 1);
    const shard = r.shard ?? 0;
    let parts = round.parts.get(shard);
    if (!parts) {
      parts = { parts: r.parts, seen: new Set() };
      round.parts.set(shard, parts);
    }
    parts.parts = Math.max(parts.parts, r.parts);
    parts.seen.add(r.part);
  }
  const keys = new Set<string>();
  const complete = new Set<RoundRecord>();
  for (const [key, round] of byRound) {
    let all = true;
    for (let s = 0; s < round.shards && all; s++) {
      const parts = round.parts.get(s);
      all = parts !== undefined && parts.seen.size >= parts.parts;
    }
    if (!all) continue;
    keys.add(key);
    for (const r of round.records) complete.add(r);
  }
  return { keys, records: complete };
}

/**
 * Rounds (one probe region's round of one slot) that fanned out over shards and still lack a shard or a part, among
 * those of slots up to `throughSlot`: a shard message that never ran (dropped as late behind a burst, parked in the
 * dead-letter queue) leaves its round incomplete for good, and its targets unobserved from that probe region.
 */
export function incompleteRounds(records: readonly RoundRecord[], throughSlot: number): { slot: number; probeRegion: string }[] {
  const complete = completeRoundKeys(records);
  const out = new Map<string, { slot: number; probeRegion: string }>();
  for (const r of records) {
    if (isConfirmation(r) || (r.shards ?? 1) <= 1 || r.slot > throughSlot) continue;
    const key = roundKey(r);
    if (!complete.has(key)) out.set(key, { slot: r.slot, probeRegion: r.probeRegion });
  }
  return [...out.values()];
}

/** The start of the slot that contains `epochMs`. */
export function slotOf(epochMs: number, intervalSeconds: number): number {
  const seconds = Math.floor(epochMs / 1000);
  return seconds - (((seconds % intervalSeconds) + intervalSeconds) % intervalSeconds);
}
