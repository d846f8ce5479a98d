// How much of a slot a round may spend probing: shared by config validation and the prober so the two cannot drift.

/** Time kept free at the end of a slot for writing the round before the next one starts. */
export const ROUND_WRITE_MARGIN_MS = 1000;

/**
 * How late after its slot's start a queued round may arrive and still run. planMinute rounds SQS DelaySeconds to
 * the nearest whole second, so a message arrives up to 0.5 s after its slot's start; the other 0.5 s covers the
 * queue poller and a cold start. A round that starts later than this with the longest valid timeout is dropped as
 * `late` (lambda/probe/queued-round.ts), so validation keeps the timeout short enough that it does not.
 */
export const ROUND_DELIVERY_SLACK_MS = 1000;

/** The longest `timeoutMs` that leaves a round of this interval time to start late and still be written in its slot. */
export function maxTimeoutMs(intervalSeconds: number): number {
  return intervalSeconds * 1000 - ROUND_WRITE_MARGIN_MS - ROUND_DELIVERY_SLACK_MS;
}
