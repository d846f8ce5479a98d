// How the results stream delivers rounds to the aggregator: the settings lib/aggregator.ts deploys on the event source
// mapping, in runtime code so the simulator models the same numbers without loading aws-cdk-lib.

export const AGGREGATOR_STREAM_SETTINGS = {
  batchSize: 100,
  /** Small: a round should become a verdict within seconds, not wait for a full batch. */
  maxBatchingWindowSeconds: 2,
  /** After a bisected batch keeps failing this often, the record goes to the failure queue. */
  retryAttempts: 3,
  /** Older rounds cannot change a live verdict; the aggregator re-reads windows by Query anyway. */
  maxRecordAgeMinutes: 10,
  /**
   * Not a setting: how often Lambda polls a DynamoDB stream shard (four times a second), which bounds how soon a
   * record becomes a batch when the batching window is 0. The simulator models it.
   */
  pollIntervalMs: 250,
} as const;
