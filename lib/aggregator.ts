// The aggregator of one probe region: a Lambda on its region's results-replica stream that turns rounds
// into verdicts and incidents, with poison records quarantined in an SQS failure queue.
import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AGGREGATOR_STREAM_SETTINGS as STREAM } from '../lambda/aggregator/stream-settings';
import type { RegionwatchConfig } from '../lambda/config/schema';
import { ENV } from '../lambda/handlers/env';
import { RESULTS_TABLE } from '../lambda/store/tables';
import { RegionwatchFunction, busySystemLogLevel, handlerEntry, type FunctionDefaults } from './function';
import type { IncidentsTable } from './incidents-table';
import type { Notifier } from './notifier';
import { bindQueueSender } from './queues';
import type { ResultsTable } from './results-table';

export interface AggregatorProps {
  /** The validated config, bundled beside the handler. */
  readonly config: RegionwatchConfig;
  /** The region's parked-messages queue (lib/queues.ts): poison records and records that failed every retry go there. */
  readonly parkedMessages: sqs.Queue;
  /** Its stream triggers the aggregator; it also queries windows of rounds. */
  readonly resultsTable: ResultsTable;
  /** Incidents, current status and the lease. */
  readonly incidentsTable: IncidentsTable;
  /** Where notifications are published. */
  readonly notifier: Notifier;
  /** The region's log key and retention, and VPC, for its function. */
  readonly functionDefaults: FunctionDefaults;
  /** Physical name. @default - generated */
  readonly functionName?: string;
  /** Handler entry file. @default lambda/handlers/aggregator.ts */
  readonly entry?: string;
}

/**
 * The event source mapping's settings, exported so tests and docs pin the same numbers. The values live in
 * lambda/aggregator/stream-settings.ts, which the simulator models too.
 */
export const AGGREGATOR_STREAM = {
  batchSize: STREAM.batchSize,
  maxBatchingWindow: Duration.seconds(STREAM.maxBatchingWindowSeconds),
  retryAttempts: STREAM.retryAttempts,
  maxRecordAge: Duration.minutes(STREAM.maxRecordAgeMinutes),
} as const;

/**
 * Sizing. Timeout 60 s: a batch is at most 100 rounds and the work is a few queries and conditional
 * writes; a minute leaves room for DynamoDB and SNS retries with backoff without holding the shard
 * for long. Memory 512 MB: gunzipping round items and evaluating every target of every probe region
 * is CPU work, and more memory is more CPU.
 */
export class Aggregator extends Construct {
  readonly fn: RegionwatchFunction;
  readonly eventSource: lambda.EventSourceMapping;
  /**
   * Poison records land here: the handler quarantines each one (the whole record and the reason); one it could
   * not send is reported failed and, after the retries, Lambda's on-failure record (shard and sequence numbers)
   * lands here instead. An alarm watches it.
   */
  readonly failureQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: AggregatorProps) {
    super(scope, id);
    this.fn = new RegionwatchFunction(this, 'Aggregator', {
      config: props.config,
      functionDefaults: props.functionDefaults,
      entry: props.entry ?? handlerEntry('lambda/handlers/aggregator.ts'),
      functionName: props.functionName,
      description: 'regionwatch aggregator: quorum verdicts and the incident lifecycle from the results stream',
      memorySize: 512,
      timeout: Duration.seconds(60),
      systemLogLevel: busySystemLogLevel(props.config),
    });
    props.resultsTable.bind(this.fn, { access: 'query' });
    props.resultsTable.bindStream(this.fn);
    props.incidentsTable.bind(this.fn, { access: 'read-write' });
    props.notifier.bindPublisher(this.fn);

    this.failureQueue = props.parkedMessages;
    // One sqs:SendMessage grant serves both senders: the handler's quarantine and the mapping's on-failure destination.
    bindQueueSender(this.fn, this.failureQueue, ENV.failureQueueUrl);
    const failureQueueArn = this.failureQueue.queueArn;

    this.eventSource = new lambda.EventSourceMapping(this, 'ResultsStream', {
      target: this.fn.function,
      eventSourceArn: props.resultsTable.streamArn,
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize: AGGREGATOR_STREAM.batchSize,
      maxBatchingWindow: AGGREGATOR_STREAM.maxBatchingWindow,
      parallelizationFactor: 1,
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      retryAttempts: AGGREGATOR_STREAM.retryAttempts,
      maxRecordAge: AGGREGATOR_STREAM.maxRecordAge,
      // The grant above is sqs:SendMessage alone, so the stock SqsDlq (which adds more) is not used.
      onFailure: { bind: () => ({ destination: failureQueueArn }) },
      // Only round and confirmation items, inserted or rewritten; TTL deletions, claims and any other item kind never invoke it.
      filters: [
        lambda.FilterCriteria.filter({
          eventName: lambda.FilterRule.or('INSERT', 'MODIFY'),
          dynamodb: { NewImage: { [RESULTS_TABLE.kindAttribute]: { S: lambda.FilterRule.or(RESULTS_TABLE.roundKind, RESULTS_TABLE.confirmationKind) } } },
        }),
      ],
    });
    // Lambda checks the stream permissions when it creates the mapping: the policy must exist first.
    this.eventSource.node.addDependency(this.fn.role);
  }
}
