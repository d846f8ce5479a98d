// The prober of one probe region: a Lambda run every minute by EventBridge, one run at a time.
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { EventBridgeDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Construct } from 'constructs';
import type { RegionwatchConfig } from '../lambda/config/schema';
import { RegionwatchFunction, handlerEntry } from './function';
import type { ResultsTable } from './results-table';

export interface ProberProps {
  /** The validated config, bundled beside the handler. */
  readonly config: RegionwatchConfig;
  /** Where the prober writes its round items (PutItem only). */
  readonly resultsTable: ResultsTable;
  /** Physical name, the same in every region, so the watching region can match its heartbeats. */
  readonly functionName: string;
  /** Handler entry file. @default lambda/handlers/prober.ts */
  readonly entry?: string;
}

/**
 * Sizing. Timeout 70 s: one invocation runs the minute's rounds (every `intervalSeconds`, each
 * bounded by `timeoutMs` < interval), so a healthy run ends inside its minute; the 10 s margin lets
 * a run that started late finish its last round instead of dying mid-write. Memory 512 MB: probes
 * are I/O-bound, but up to `probing.concurrency` sockets and TLS handshakes at once want the CPU
 * share that comes with 512 MB on arm64, and bodies are capped at `probing.maxBodyBytes`.
 *
 * One run at a time: reserved concurrency 1, so a run still going when the next minute fires makes
 * that invocation throttle instead of overlapping. Async retries are off and events older than a
 * minute are dropped: a late or repeated round is worthless, the next minute's run is the retry.
 *
 * Every successful run sends a "Lambda Function Invocation Result - Success" event to the default
 * event bus: the heartbeat that another region watches (see ProberHeartbeat).
 */
export class Prober extends Construct {
  readonly fn: RegionwatchFunction;
  readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: ProberProps) {
    super(scope, id);
    this.fn = new RegionwatchFunction(this, 'Prober', {
      config: props.config,
      entry: props.entry ?? handlerEntry('lambda/handlers/prober.ts'),
      functionName: props.functionName,
      description: 'regionwatch prober: checks every target of every platform region once per slot',
      memorySize: 512,
      timeout: Duration.seconds(70),
      reservedConcurrentExecutions: 1,
      retryAttempts: 0,
      maxEventAge: Duration.seconds(60),
      onSuccess: new EventBridgeDestination(),
    });
    props.resultsTable.bind(this.fn, { access: 'write' });
    this.schedule = new events.Rule(this, 'EveryMinute', {
      description: 'Starts the prober once a minute',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.fn.function, { retryAttempts: 0, maxEventAge: Duration.seconds(60) })],
    });
  }
}
