// The prober of one probe region: a Lambda started every minute by EventBridge, which queues the minute's later
// rounds on its rounds queue; the same Lambda serves each queued round.
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { EventBridgeDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CONFIRMATIONS_MAX_CONCURRENCY, shardPlan } from '../lambda/config/capacity';
import type { RegionwatchConfig } from '../lambda/config/schema';
import { confirmsFailures } from '../lambda/core/stagger';
import { ENV } from '../lambda/handlers/env';
import { REGION_PLACEHOLDER } from '../lambda/probe/sqs-confirmations';
import { RegionwatchFunction, busySystemLogLevel, handlerEntry, type FunctionDefaults } from './function';
import type { ClaimsTable } from './claims-table';
import { queueArn, queueUrl, roundsQueueName } from './names';
import { bindQueueSender, queueEventSource } from './queues';
import type { ResultsTable } from './results-table';

export interface ProberProps {
  /** The validated config, bundled beside the handler. */
  readonly config: RegionwatchConfig;
  /** Where the prober writes its round items (PutItem only). */
  readonly resultsTable: ResultsTable;
  /** This probe region's claims table (its minute and slot claims; PutItem only). */
  readonly claimsTable: ClaimsTable;
  /** Physical name, the same in every region, so the watching region can match its heartbeats. */
  readonly functionName: string;
  /** The region's parked-messages queue (lib/queues.ts): the rounds queue's dead-letter queue. */
  readonly parkedMessages: sqs.Queue;
  /** The region's log key and retention, and VPC, for its function. */
  readonly functionDefaults: FunctionDefaults;
  /** Handler entry file. @default lambda/handlers/prober.ts */
  readonly entry?: string;
}

/** Memory (see Sizing below); the cost model's default assumes it. */
export const PROBER_MEMORY_MB = 256;
export { CONFIRMATIONS_MAX_CONCURRENCY };
/**
 * The rounds queue mapping's cap, from the config's shard plan (lambda/config/capacity.ts): every shard of a slot and
 * one still writing, and with confirm on failure the confirmation requests that ride the same queue. One shard: 2, or
 * 4 with confirm on failure.
 */
export function roundsMappingConcurrency(config: RegionwatchConfig): number {
  return shardPlan(config).roundsMaxConcurrency;
}
/**
 * Reserved concurrency: the mapping's cap plus one, so the scheduled run (the heartbeat) is never throttled behind
 * queued shards or confirmations. One shard: 3, or 5 with confirm on failure.
 */
export function proberReservedConcurrency(config: RegionwatchConfig): number {
  return shardPlan(config).reservedConcurrency;
}
/** A round whose write failed is retried once, then parked: the retry is always past its slot, so it only carries the failure to the dead-letter queue. */
export const ROUNDS_MAX_RECEIVE_COUNT = 2;

/**
 * How rounds are paid for: the schedule's invocation runs the minute's first round and queues the others on
 * the rounds queue, each delayed to its slot's start; the event source mapping (batch size 1, no batching window,
 * partial batch failures) starts one short invocation per round. Lambda bills the rounds (about 1.5 s each), not
 * the waits between them (docs/cost.md). If queueing fails, the scheduled run falls back to running the rest of
 * the minute itself, waiting in between: a broken queue costs money, not coverage.
 *
 * Sizing. Timeout 70 s: a scheduled run normally takes one round and a SendMessageBatch, a queued round one
 * round, but the fallback runs the whole minute (its rounds end 58 s in), and the 10 s margin lets a run that
 * started late finish its last write instead of dying mid-write. Memory 256 MB: a 1,000-target round peaks
 * at about 138 MB RSS (bench/probe.ts, under tsx; the bundle is leaner), so 128 MB would not fit, and 256 MB is
 * twice the CPU share of 128 MB: latencies are measured in this process, and TLS handshakes queued behind a
 * starved CPU would read as a slow target. Bodies are capped at `probing.maxBodyBytes`, so memory does not grow
 * with what targets send.
 *
 * Concurrency: overlap is harmless now (a slot claim per shard stops a doubled scheduled run or round), and reserved
 * concurrency 1 would throttle queued rounds behind a fallback run. A round fans out over the shards its targets need
 * (lambda/config/capacity.ts shardPlan, docs/scale.md): one rounds-queue message per shard per slot, the scheduled run
 * taking shard 0 of its first slot. The rounds mapping is capped at the shards plus one, plus the confirmation requests
 * that ride the same queue, and reserved concurrency is that cap plus one (3, or 5 with confirm on failure, for one
 * shard): a runaway cannot spend the account's concurrency, every shard of a slot fits, a confirmation waiting out
 * minFaultSeconds never holds a shard back, and the scheduled run (the heartbeat) always has a slot. Async retries are
 * off and scheduled events older than a minute are dropped: a late or repeated minute is worthless, the next
 * minute's run is the retry.
 *
 * Every successful scheduled run (an async invocation) sends a "Lambda Function Invocation Result - Success"
 * event to the default event bus: the heartbeat that another region watches (see ProberHeartbeat). Queued
 * rounds are synchronous invocations by the mapping and send none, so the heartbeat stays one a minute.
 */
export class Prober extends Construct {
  readonly fn: RegionwatchFunction;
  readonly schedule: events.Rule;
  /** The minute's later rounds, each delayed to its slot's start. */
  readonly roundsQueue: sqs.Queue;
  /** Where round messages that failed twice go (an unwritable round, a poison message): the region's parked-messages queue. */
  readonly roundsDeadLetters: sqs.Queue;
  readonly roundsMapping: lambda.EventSourceMapping;

  constructor(scope: Construct, id: string, props: ProberProps) {
    super(scope, id);
    const confirming = confirmsFailures(props.config);
    this.fn = new RegionwatchFunction(this, 'Prober', {
      config: props.config,
      functionDefaults: props.functionDefaults,
      egress: 'probe-targets',
      entry: props.entry ?? handlerEntry('lambda/handlers/prober.ts'),
      functionName: props.functionName,
      description: 'regionwatch prober: checks every target of every platform region once per slot',
      memorySize: PROBER_MEMORY_MB,
      timeout: Duration.seconds(70),
      reservedConcurrentExecutions: proberReservedConcurrency(props.config),
      retryAttempts: 0,
      maxEventAge: Duration.seconds(60),
      onSuccess: new EventBridgeDestination(),
      systemLogLevel: busySystemLogLevel(props.config),
    });
    props.resultsTable.bind(this.fn, { access: confirming ? 'confirm' : 'write' });
    props.claimsTable.bind(this.fn, { confirming });
    const stack = Stack.of(this);
    const queueName = roundsQueueName(stack.region);
    this.roundsDeadLetters = props.parkedMessages;
    this.roundsQueue = new sqs.Queue(this, 'Rounds', {
      queueName,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // At least the function's timeout (Lambda requires it), so a round still running is not handed out again.
      visibilityTimeout: Duration.seconds(120),
      // A round message is worthless after its slot; this covers its delay and a retry, then it expires.
      retentionPeriod: Duration.minutes(15),
      deadLetterQueue: { queue: this.roundsDeadLetters, maxReceiveCount: ROUNDS_MAX_RECEIVE_COUNT },
    });
    bindQueueSender(this.fn, this.roundsQueue, ENV.roundsQueueUrl);
    // Every shard of a slot at once, one more still writing, and the confirmations beside them (capacity.ts).
    this.roundsMapping = queueEventSource(this, 'RoundsSource', this.fn, this.roundsQueue, { batchSize: 1, maxConcurrency: roundsMappingConcurrency(props.config) });
    if (confirming) {
      // Confirmation requests travel on the probe regions' rounds queues: a queue of their own cost its mapping's idle
      // long polls (about 15 requests a minute per region, $0.79 a month at 3 probe regions) for a few hundred
      // requests a month. The handler tells a request from a round by its body, never fails one (a request it cannot
      // serve is logged and dropped), and drops one older than an interval, so a redelivery after a crash is received
      // at most twice and served at most once (its claim). Every probe region's queue (this one's too) is addressed by
      // name and region, no lookups, with sqs:SendMessage only.
      const regions = props.config.probeRegions;
      this.fn.addEnvironment(ENV.confirmationQueueUrl, queueUrl(stack, REGION_PLACEHOLDER, roundsQueueName(REGION_PLACEHOLDER)));
      const others = regions.filter((r) => r !== stack.region);
      if (others.length > 0) this.fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: others.map((r) => queueArn(stack, r, roundsQueueName(r))) }));
    }
    this.schedule = new events.Rule(this, 'EveryMinute', {
      description: 'Starts the prober once a minute',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.fn.function, { retryAttempts: 0, maxEventAge: Duration.seconds(60) })],
    });
  }
}
