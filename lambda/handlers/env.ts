// Environment variable names shared by the CDK binding helpers (which set them) and the handlers (which read them).
export const ENV = {
  /** Results table name (prober writes, aggregator reads). */
  resultsTable: 'RESULTS_TABLE_NAME',
  /** The probe region's claims table (prober only: its minute and slot claims). */
  claimsTable: 'CLAIMS_TABLE_NAME',
  /** Incident table name (aggregator reads and writes; dashboards read). */
  incidentsTable: 'INCIDENTS_TABLE_NAME',
  /** SNS topic for platform notifications. */
  topicArn: 'NOTIFICATIONS_TOPIC_ARN',
  /** Secrets Manager secret holding the Slack webhook URL (the name, never the URL). */
  slackSecretName: 'SLACK_WEBHOOK_SECRET_NAME',
  /** The AWS region this copy runs in, as a probe region name. */
  probeRegion: 'PROBE_REGION',
  /** Path of the validated config file bundled beside the handler. */
  configPath: 'REGIONWATCH_CONFIG_PATH',
  /** SQS queue of the prober's later rounds of a minute (the prober sends and consumes). */
  roundsQueueUrl: 'ROUNDS_QUEUE_URL',
  /** SQS queue where the aggregator quarantines poison stream records (send only). */
  failureQueueUrl: 'FAILURE_QUEUE_URL',
  /**
   * Where confirmation requests go: the probe regions' rounds queues, one URL with `{region}` where the probe region
   * goes (the queues' names differ only by region). The prober sends to all, consumes its own through its rounds
   * queue's mapping. Absent without confirm on failure.
   */
  confirmationQueueUrl: 'CONFIRMATIONS_QUEUE_URL',
  /** A PagerDuty or webhook notifier's channel: its name in the bundled config. */
  channelName: 'CHANNEL_NAME',
  /** Secrets Manager secret of that channel (the name, never the value). */
  channelSecretName: 'CHANNEL_SECRET_NAME',
  /** The status page's address (ending in `/`), linked from notifications; unset without a hosted page. */
  statusPageUrl: 'STATUS_PAGE_URL',
  /** S3 bucket the status page renderer writes the page's files to. */
  statusBucket: 'STATUS_BUCKET_NAME',
} as const;

/**
 * Tests only: lets a PagerDuty or webhook secret name an http://127.0.0.1 stand-in. The CDK app never sets it (and
 * `test/infra` asserts so).
 */
export const ALLOW_LOOPBACK_ENV = 'REGIONWATCH_ALLOW_LOOPBACK';

/** Reads a required variable once at module load; a missing one fails the cold start loudly. */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`environment variable ${name} is not set; the CDK binding should have set it`);
  return value;
}
