// The one price table `regionwatch cost` uses: us-east-1, on-demand, list prices, each with the AWS pricing page it comes from.

/**
 * When these prices were taken. They are AWS list prices for us-east-1 as published in 2025 (DynamoDB
 * after the November 2024 on-demand and global-tables price cut), written down from the pricing pages
 * named beside each one, not fetched by the tool. Verify before budgeting: AWS changes prices, and
 * other regions cost more or less.
 */
export const PRICES_AS_OF = 'AWS list prices for us-east-1 as published in 2025; verify on the pricing pages before budgeting';

export interface Price {
  /** US dollars per `per` units. */
  readonly usd: number;
  /** How many units `usd` pays for (1, 1e6, 10_000 ...). */
  readonly per: number;
  /** The unit, singular: "request", "GB-second", "metric-month". */
  readonly unit: string;
  /** The AWS pricing page the figure comes from. */
  readonly source: string;
  readonly note?: string;
}

const LAMBDA = 'AWS Lambda pricing (aws.amazon.com/lambda/pricing)';
const DDB = 'Amazon DynamoDB pricing for on-demand capacity (aws.amazon.com/dynamodb/pricing/on-demand)';
const CW = 'Amazon CloudWatch pricing (aws.amazon.com/cloudwatch/pricing)';
const SNS = 'Amazon SNS pricing (aws.amazon.com/sns/pricing)';
const SQS = 'Amazon SQS pricing (aws.amazon.com/sqs/pricing)';
const SM = 'AWS Secrets Manager pricing (aws.amazon.com/secrets-manager/pricing)';
const KMS = 'AWS Key Management Service pricing (aws.amazon.com/kms/pricing)';
const EB = 'Amazon EventBridge pricing (aws.amazon.com/eventbridge/pricing)';
const R53 = 'Amazon Route 53 pricing, health checks (aws.amazon.com/route53/pricing)';
const S3 = 'Amazon S3 pricing, S3 Standard (aws.amazon.com/s3/pricing)';
const CF = 'Amazon CloudFront pricing, United States and Europe (aws.amazon.com/cloudfront/pricing)';
const EC2_DT = 'Amazon EC2 on-demand pricing, data transfer (aws.amazon.com/ec2/pricing/on-demand)';

export const PRICES = {
  lambdaRequests: { usd: 0.2, per: 1e6, unit: 'request', source: LAMBDA },
  lambdaGbSecondArm: { usd: 0.0000133334, per: 1, unit: 'GB-second', source: LAMBDA, note: 'arm64, first 7.5 billion GB-s a month' },
  lambdaGbSecondX86: { usd: 0.0000166667, per: 1, unit: 'GB-second', source: LAMBDA, note: 'x86_64, first 6 billion GB-s a month' },

  dynamoWriteRequestUnits: { usd: 0.625, per: 1e6, unit: 'write request unit', source: DDB, note: 'one unit per 1 KB written' },
  dynamoReadRequestUnits: { usd: 0.125, per: 1e6, unit: 'read request unit', source: DDB, note: 'one unit per 4 KB strongly consistent, half for eventually consistent' },
  dynamoReplicatedWriteUnits: { usd: 0.625, per: 1e6, unit: 'replicated write request unit', source: DDB, note: 'global tables, per replica region written' },
  dynamoStorage: { usd: 0.25, per: 1, unit: 'GB-month', source: DDB, note: 'Standard table class' },
  dynamoStreamReads: {
    usd: 0.2,
    per: 1e6,
    unit: 'stream read request',
    source: DDB,
    note: '$0.02 per 100,000; GetRecords made by a Lambda trigger (event source mapping) are free',
  },

  cloudwatchMetrics: { usd: 0.3, per: 1, unit: 'metric-month', source: CW, note: 'custom metrics, first 10,000' },
  cloudwatchAlarms: { usd: 0.1, per: 1, unit: 'alarm-month', source: CW, note: 'standard resolution, one metric' },
  cloudwatchDashboards: { usd: 3, per: 1, unit: 'dashboard-month', source: CW },
  cloudwatchLogsIngestion: { usd: 0.5, per: 1, unit: 'GB ingested', source: CW, note: 'Standard log class; Lambda logs: first 10 TB tier' },
  cloudwatchLogsStorage: { usd: 0.03, per: 1, unit: 'GB-month stored', source: CW, note: 'billed on compressed size' },

  snsPublishes: { usd: 0.5, per: 1e6, unit: 'publish request', source: SNS, note: 'each 64 KB chunk is one request' },
  snsEmail: { usd: 2, per: 100_000, unit: 'email delivery', source: SNS },
  snsLambda: { usd: 0, per: 1, unit: 'Lambda delivery', source: SNS, note: 'deliveries to Lambda and SQS are free' },

  sqsRequests: { usd: 0.4, per: 1e6, unit: 'request', source: SQS, note: 'standard queues; an idle queue costs nothing' },

  secret: { usd: 0.4, per: 1, unit: 'secret-month', source: SM, note: 'a replica secret counts as a secret' },
  secretApiCalls: { usd: 0.05, per: 10_000, unit: 'API call', source: SM },

  kmsKey: { usd: 1, per: 1, unit: 'key-month', source: KMS, note: 'customer managed key; each of the first two automatic rotations adds $1/month' },
  kmsRequests: { usd: 0.03, per: 10_000, unit: 'request', source: KMS },

  eventbridgeScheduledRule: { usd: 0, per: 1, unit: 'scheduled invocation', source: EB, note: 'scheduled rules on the default bus are free' },
  eventbridgeEvents: { usd: 1, per: 1e6, unit: 'event', source: EB, note: 'custom and cross-Region events; Lambda destination events assumed charged the same' },

  s3Put: { usd: 0.005, per: 1000, unit: 'PUT request', source: S3 },
  s3Get: { usd: 0.0004, per: 1000, unit: 'GET request', source: S3 },
  s3Storage: { usd: 0.023, per: 1, unit: 'GB-month', source: S3, note: 'first 50 TB' },

  cloudfrontHttpsRequests: { usd: 0.01, per: 10_000, unit: 'HTTPS request', source: CF },
  cloudfrontDataOut: { usd: 0.085, per: 1, unit: 'GB out to the internet', source: CF, note: 'first 10 TB a month' },

  dataTransferInternetOut: { usd: 0.09, per: 1, unit: 'GB out to the internet', source: EC2_DT, note: 'first 10 TB a month; inbound is free' },
  dataTransferInterRegion: { usd: 0.02, per: 1, unit: 'GB between regions', source: EC2_DT },

  route53HealthCheckAws: { usd: 0.5, per: 1, unit: 'health check-month', source: R53, note: 'basic, AWS endpoint' },
  route53HealthCheckNonAws: { usd: 0.75, per: 1, unit: 'health check-month', source: R53, note: 'basic, endpoint outside AWS' },
  route53OptionAws: { usd: 1, per: 1, unit: 'option-month', source: R53, note: 'each of HTTPS, string matching, fast interval (10 s), latency measurement; AWS endpoint' },
  route53OptionNonAws: { usd: 2, per: 1, unit: 'option-month', source: R53, note: 'each of HTTPS, string matching, fast interval (10 s), latency measurement; endpoint outside AWS' },

  syntheticsCanaryRun: { usd: 0.0012, per: 1, unit: 'canary run', source: `${CW}, Synthetics`, note: 'plus the Lambda, S3 and CloudWatch the canary itself uses' },
} as const satisfies Record<string, Price>;

export type PriceName = keyof typeof PRICES;

/** Free allowances that never expire ("always free"), per account and month, shared with everything else in the account. */
export const ALWAYS_FREE = {
  lambdaRequests: 1_000_000,
  lambdaGbSeconds: 400_000,
  dynamoStorageGb: 25,
  cloudwatchMetrics: 10,
  cloudwatchAlarms: 10,
  /** Up to 50 metrics each. */
  cloudwatchDashboards: 3,
  /** Ingestion, storage and Logs Insights scans together. */
  cloudwatchLogsGb: 5,
  snsPublishes: 1_000_000,
  snsEmail: 1_000,
  sqsRequests: 1_000_000,
  kmsRequests: 20_000,
  dataTransferOutGb: 100,
  cloudfrontRequests: 10_000_000,
  cloudfrontDataOutGb: 1024,
  syntheticsRuns: 100,
  /** Health checks of AWS endpoints only. */
  route53AwsHealthChecks: 50,
} as const;

/** Cost of `quantity` units at `price`. */
export function costOf(price: Price, quantity: number): number {
  return (price.usd * quantity) / price.per;
}

/** AWS bills a month as 730 hours. */
export const HOURS_PER_MONTH = 730;
export const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
export const MINUTES_PER_MONTH = HOURS_PER_MONTH * 60;
/** AWS bills storage and transfer in binary gigabytes. */
export const GB = 1024 ** 3;
