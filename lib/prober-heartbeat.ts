// Watching a prober from another region: its success events travel to the watcher region's event bus,
// where a rule counts them and an alarm fires when they stop.
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { regionwatchLogGroup, type LogGroupDefaults } from './log-groups';
import { defaultEventBusArn, functionArn } from './names';

export interface ProberHeartbeatProps {
  /** This region's prober: its success events are forwarded to `watcherRegion`. */
  readonly localProber: lambda.IFunction;
  /** The region that watches this region's prober. */
  readonly watcherRegion: string;
  /** The region whose prober this region watches. */
  readonly watchedRegion: string;
  /** The prober's physical name, the same in every region. */
  readonly proberFunctionName: string;
  /** The region's key and the configured retention, for the heartbeat log group. */
  readonly logs: LogGroupDefaults;
}

const SUCCESS = 'Lambda Function Invocation Result - Success';

/**
 * CloudWatch alarms only watch metrics of their own region, so a prober cannot be watched from
 * another region by its own metrics. Instead, each probe region forms a ring with the others:
 *
 * - here, a rule forwards this prober's "invocation succeeded" events (its async on-success
 *   destination is the default bus) to the default bus of the watcher region (the next one);
 * - here too, a rule matches the success events forwarded by the watched region (the previous one)
 *   and writes them to a small log group; EventBridge's own `TriggeredRules` metric of that rule is
 *   the watched prober's heartbeat, counted in this region.
 *
 * The alarm on it (see Observability) depends on neither prober's code, nor any aggregator, nor
 * the notifications topic: if the watched region's prober, its schedule, or the whole region goes
 * quiet, the metric stops and missing data is breaching. With one probe region the ring closes on
 * itself and the prober watches itself (weaker: it cannot see its own region fail).
 */
export class ProberHeartbeat extends Construct {
  /** Successful runs of the watched region's prober, counted in this region (Sum per period). */
  readonly watchedHeartbeats: cloudwatch.Metric;
  readonly watchRule: events.Rule;
  readonly forwardRule?: events.Rule;
  /**
   * The watcher region's default bus as a rule target, with the one role allowed `events:PutEvents` on it. Other
   * rules that forward to the next region (the alarm relay) use this target, and so the same role. Absent when the
   * ring closes on itself (one probe region).
   */
  readonly watcherBus?: events.IRuleTarget;

  constructor(scope: Construct, id: string, props: ProberHeartbeatProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (props.watcherRegion !== stack.region) {
      this.forwardRule = new events.Rule(this, 'ForwardToWatcher', {
        description: `Forwards this prober's successful runs to ${props.watcherRegion}, which watches it`,
        eventPattern: {
          source: ['lambda'],
          detailType: [SUCCESS],
          resources: events.Match.prefix(props.localProber.functionArn),
        },
      });
      // Made where the stock EventBus target would make its own role, so its logical id (and the deployed role) stay.
      const role = new iam.Role(this.forwardRule, 'EventsRole', { assumedBy: new iam.ServicePrincipal('events.amazonaws.com') });
      this.watcherBus = new targets.EventBus(events.EventBus.fromEventBusArn(this, 'WatcherBus', defaultEventBusArn(stack, props.watcherRegion)), { role });
      this.forwardRule.addTarget(this.watcherBus);
    }
    const watchedArn = functionArn(stack, props.watchedRegion, props.proberFunctionName);
    // Only the rule's TriggeredRules metric is read; the log group is where its matches must go, kept like every other.
    const log = regionwatchLogGroup(this, 'WatchedHeartbeats', props.logs);
    this.watchRule = new events.Rule(this, 'WatchPeer', {
      description: `Counts the successful runs of the prober in ${props.watchedRegion}`,
      eventPattern: {
        source: ['lambda'],
        detailType: [SUCCESS],
        region: [props.watchedRegion],
        resources: events.Match.prefix(watchedArn),
      },
    });
    sendToLogGroup(this, this.watchRule, log);
    this.watchedHeartbeats = new cloudwatch.Metric({
      namespace: 'AWS/Events',
      metricName: 'TriggeredRules',
      dimensionsMap: { RuleName: this.watchRule.ruleName },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(1),
    });
  }
}

/**
 * Makes `rule` write its matches to `log`, with the log group's resource policy as a plain CloudFormation resource.
 * (The stock CloudWatchLogGroup target installs that policy through a custom resource whose role has wildcard
 * permissions; this needs none.) The policy lets EventBridge write for this one rule (`aws:SourceArn`), so no other
 * rule in the account can fill the log group. It names the rule, so it is created after it (the rule can no longer wait
 * for it): a match in the seconds between is not delivered, which the heartbeat alarm (3 of 5 minutes) does not notice.
 */
function sendToLogGroup(scope: Construct, rule: events.Rule, log: logs.LogGroup): void {
  const stack = Stack.of(scope);
  const arn = stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: log.logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  new logs.ResourcePolicy(scope, 'LetEventBridgeWrite', {
    policyStatements: [
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com'), new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [log.logGroupArn],
        conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleArn } },
      }),
    ],
  });
  rule.addTarget({ bind: () => ({ arn }) });
}
