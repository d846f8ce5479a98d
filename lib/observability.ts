// Watching the checker itself: alarms in every region that notify a separate checker topic, and one dashboard
// (in the home region) whose widgets read every probe region's metrics.
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AGGREGATOR_METRIC_NAMES, type AggregatorMetricName } from '../lambda/aggregator/metrics';
import { LATE_ROUNDS_METRIC, PROBE_METRIC_NAMES } from '../lambda/probe/metrics';

/**
 * The prober's embedded-metric-format metrics (namespace, names, dimensions), taken from the prober's
 * own module so the dashboard cannot drift from what it emits. Availability is the share of checks
 * that came back `up` (0..1); latency is per answered check, in ms.
 */
export const PROBE_METRICS = PROBE_METRIC_NAMES;

/**
 * The aggregator's embedded-metric-format metrics (namespace, dimension, names), taken from the aggregator's own
 * module for the same reason. Same namespace as the prober's; one dimension, `ProbeRegion`.
 */
export const AGGREGATOR_METRICS = AGGREGATOR_METRIC_NAMES;

/** `ProberLateRounds` fires on late rounds in `minutesLate` of the last `minutes` minutes. */
export const LATE_ROUNDS_ALARM = { minutes: 10, minutesLate: 3 } as const;

/**
 * The prober's `LateRounds` (queued rounds dropped for arriving too late to finish inside their slot), summed per
 * period; dimension `ProbeRegion` only. Emitted only when it happens.
 */
function lateRoundsMetric(probeRegion: string, period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: PROBE_METRICS.namespace,
    metricName: LATE_ROUNDS_METRIC,
    dimensionsMap: { [PROBE_METRICS.probeRegionDimension]: probeRegion },
    statistic: cloudwatch.Stats.SUM,
    period,
  });
}

function aggregatorMetric(name: AggregatorMetricName, probeRegion: string, statistic: string, period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: AGGREGATOR_METRICS.namespace,
    metricName: name,
    dimensionsMap: { [AGGREGATOR_METRICS.probeRegionDimension]: probeRegion },
    statistic,
    period,
  });
}

/** The one dashboard of a deployment, built in the home region's stack; every widget names its region. */
export interface RegionsDashboardProps {
  /** Physical dashboard name. */
  readonly name: string;
  /** Every probe region: each gets a line in the aggregator, prober and queue widgets. */
  readonly probeRegions: readonly string[];
  /** Every platform region, one availability and one latency widget each. */
  readonly platformRegions: readonly string[];
  /** The prober's physical name, the same in every probe region (lib/names.ts). */
  readonly proberFunctionName: string;
  /** The aggregator's physical name, the same in every probe region (lib/names.ts). */
  readonly aggregatorFunctionName: string;
  /** The stack of a probe region: its queues' generated names start with it. */
  readonly stackName: (probeRegion: string) => string;
}

export interface ObservabilityProps {
  /** Who gets checker alerts by email (the config's notification emails). */
  readonly emails: readonly string[];
  /**
   * The region's one customer managed key (lib/region-key.ts), which the notifications topic uses; the checker topic
   * uses it too, and CloudWatch is allowed to use it here so that alarms can publish.
   */
  readonly topicKey: kms.Key;
  /** The dashboard, in the home region only. @default - no dashboard in this region */
  readonly dashboard?: RegionsDashboardProps;
  readonly prober: lambda.IFunction;
  readonly aggregator: lambda.IFunction;
  /** The aggregator's log group, for the transitions widget of the home region's dashboard. */
  readonly aggregatorLogGroup: logs.ILogGroup;
  /** Queues whose first message is an alert: failure queues and dead-letter queues. */
  /** The region's one queue for what failed every retry (lib/queues.ts parkedMessagesQueue): one alarm on it. */
  readonly parkedMessages: sqs.IQueue;
  /** The platform notifications topic, for delivery failures. */
  readonly notificationsTopic: sns.ITopic;
  /** The status page renderer (home region, when there is a hosted page). @default - none */
  readonly statusRenderer?: lambda.IFunction;
  /**
   * Whether rounds fan out over shards (lambda/config/capacity.ts): then the aggregator emits IncompleteRounds and a
   * round left without one of its shards has an alarm. @default false
   */
  readonly sharded?: boolean;
  /** The watched region's prober heartbeat, counted in this region. */
  readonly peerHeartbeats: cloudwatch.Metric;
  /** Which region's prober `peerHeartbeats` counts. */
  readonly watchedRegion: string;
  /**
   * Every alarm is named this plus its id (`acme-regionwatch-NotificationsStuck`), so the alarm relay can match them.
   * @default - names generated by CloudFormation
   */
  readonly alarmNamePrefix?: string;
}

/**
 * Every alarm and why its missing-data treatment is what it is. "Silent" alarms treat missing data
 * as breaching: their metric stops precisely when the thing they watch stops (row 17 of
 * FAULTS.md). Error and backlog alarms treat it as not breaching: those metrics are only emitted
 * while there is work, and silence is covered by the silent alarms.
 */
export class Observability extends Construct {
  readonly checkerTopic: sns.Topic;
  /** Only in the home region's stack. */
  readonly dashboard?: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly alarmNamePrefix?: string;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.alarmNamePrefix = props.alarmNamePrefix;
    const region = Stack.of(this).region;
    // CloudWatch alarms publish to an encrypted topic only if the key lets CloudWatch use it.
    props.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.checkerTopic = new sns.Topic(this, 'CheckerTopic', {
      displayName: 'regionwatch checker alerts',
      masterKey: props.topicKey,
      enforceSSL: true,
    });
    for (const email of props.emails) this.checkerTopic.addSubscription(new subs.EmailSubscription(email));
    // The topic has its own policy (enforceSSL), so say outright that CloudWatch may publish here, and only
    // for this deployment's alarms in this account: the alarms are this checker's voice (FAULTS row 17).
    this.checkerTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCheckerAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.checkerTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          ArnLike: { 'aws:SourceArn': `arn:${Stack.of(this).partition}:cloudwatch:${region}:${Stack.of(this).account}:alarm:${props.alarmNamePrefix ?? ''}*` },
        },
      }),
    );

    const minute = Duration.minutes(1);
    const fiveMinutes = Duration.minutes(5);
    const breaching = cloudwatch.TreatMissingData.BREACHING;
    const notBreaching = cloudwatch.TreatMissingData.NOT_BREACHING;

    const peerSilent = this.alarm('PeerProberSilent', {
      metric: props.peerHeartbeats.with({ period: minute }),
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: breaching,
      alarmDescription: `The prober in ${props.watchedRegion} had no successful run in 3 of the last 5 minutes, seen from ${region}. Results from it are stale; quorum counts only fresh probe regions. Check its schedule, errors and region health.`,
    });
    const proberNotRunning = this.alarm('ProberNotRunning', {
      metric: props.prober.metricInvocations({ period: minute, statistic: cloudwatch.Stats.SUM }),
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: breaching,
      alarmDescription: `The prober in ${region} was not invoked in 3 of the last 5 minutes: its EventBridge schedule or the function is disabled, or Lambda is impaired here.`,
    });
    const proberErrors = this.alarm('ProberErrors', {
      metric: props.prober.metricErrors({ period: minute, statistic: cloudwatch.Stats.SUM }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: notBreaching,
      alarmDescription: `The prober in ${region} failed in 3 of the last 5 minutes (a crash, a timeout, or no access to the results table). Its logs say which.`,
    });
    // The metric is only emitted when a round is dropped: missing data is the healthy case. One late round (a cold
    // start, a slow poll) is noise; late rounds in several minutes mean the rounds queue delivers behind its slots.
    const lateRounds = this.alarm('ProberLateRounds', {
      metric: lateRoundsMetric(region, minute),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: LATE_ROUNDS_ALARM.minutes,
      datapointsToAlarm: LATE_ROUNDS_ALARM.minutesLate,
      treatMissingData: notBreaching,
      alarmDescription: `The prober in ${region} dropped queued rounds that arrived too late to finish inside their slot (LateRounds) in ${LATE_ROUNDS_ALARM.minutesLate} of the last ${LATE_ROUNDS_ALARM.minutes} minutes: results from ${region} have gaps (quorum counts the other probe regions). Check the rounds queue's delivery (age of oldest message), the prober's throttles and concurrency, and its log ('queued round finished', outcome late).`,
    });
    const aggregatorNotRunning = this.alarm('AggregatorNotRunning', {
      metric: props.aggregator.metricInvocations({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 2,
      treatMissingData: breaching,
      alarmDescription: `The aggregator in ${region} was not invoked for 10 minutes although probers write every minute: its stream mapping is disabled or broken, or no prober anywhere is writing.`,
    });
    const aggregatorErrors = this.alarm('AggregatorErrors', {
      metric: props.aggregator.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 2,
      treatMissingData: notBreaching,
      alarmDescription: `The aggregator in ${region} failed whole invocations for 10 minutes (records that fail alone are reported per item and end in the failure queue). Its logs say which.`,
    });
    const iteratorAge = this.alarm('AggregatorIteratorAge', {
      metric: props.aggregator.metric('IteratorAge', { period: minute, statistic: cloudwatch.Stats.MAXIMUM }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: 120_000,
      evaluationPeriods: 3,
      treatMissingData: notBreaching,
      alarmDescription: `The aggregator in ${region} is more than 2 minutes behind its results stream for 3 minutes: verdicts and pages are late.`,
    });
    const stuck = this.alarm('NotificationsStuck', {
      metric: aggregatorMetric(AGGREGATOR_METRICS.metrics.stuckNotifications, region, cloudwatch.Stats.MAXIMUM, fiveMinutes),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: notBreaching,
      alarmDescription: `The aggregator in ${region} has a notification that failed to publish run after run (SNS throttling, access or KMS): on-call is not being paged. Its logs name the error; the notification stays pending and goes out once SNS accepts it.`,
    });
    // A shard that never ran (started too late behind a burst the rounds mapping had not scaled to, parked after a
    // failed write) leaves its round incomplete: its targets went unprobed from that probe region for a slot. One
    // such round is a blip the quorum rides out; three in the window are a fan-out that does not keep up.
    const incomplete = props.sharded
      ? [
          this.alarm('RoundsIncomplete', {
            metric: aggregatorMetric(AGGREGATOR_METRICS.metrics.incompleteRounds, region, cloudwatch.Stats.MAXIMUM, fiveMinutes),
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            threshold: 3,
            evaluationPeriods: 1,
            treatMissingData: notBreaching,
            alarmDescription: `The aggregator in ${region} sees 3 or more sharded rounds in its window that still miss a shard a few slots after their own: shards are not running in time (a burst larger than the rounds mapping's pollers, throttling at the prober's reserved concurrency, or failed writes). The probers' LateRounds metric and logs (round-late, rounds-incomplete) say which; docs/scale.md has the fixes.`,
          }),
        ]
      : [];
    const parked = this.alarm('ParkedMessagesNotEmpty', {
      metric: props.parkedMessages.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: cloudwatch.Stats.MAXIMUM }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: notBreaching,
      alarmDescription: `The parked-messages queue in ${region} holds a message: something failed every retry and was parked there. The message says what: a round message (slot, probeRegion) is a queued round the prober could not write; a Lambda failure record names its function (requestContext.functionArn: a channel notifier that could not deliver, the aggregator's stream batch, the status page renderer's) and the error; an SNS message is a notification SNS could not hand to a notifier; a quarantined stream record carries its reason. Fix the cause, then replay or delete it.`,
    });
    if (props.statusRenderer) {
      this.alarm('StatusPageRendererErrors', {
        metric: props.statusRenderer.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        threshold: 1,
        evaluationPeriods: 3,
        treatMissingData: notBreaching,
        alarmDescription: `The status page renderer in ${region} failed for 15 minutes: the page still serves its last files (and says it may be out of date once the checker has not reported for three minutes), but shows no change. Its logs say why (incident table reads, S3 writes).`,
      });
    }
    const deliveryFailed = this.alarm('NotificationDeliveryFailed', {
      metric: props.notificationsTopic.metricNumberOfNotificationsFailed({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: notBreaching,
      alarmDescription: `SNS in ${region} failed to deliver a platform notification to a subscriber (email, Slack notifier or pager endpoint).`,
    });

    if (props.dashboard) {
      this.dashboard = regionsDashboard(this, props.dashboard, {
        aggregatorLogGroup: props.aggregatorLogGroup,
        alarms: [peerSilent, proberNotRunning, proberErrors, lateRounds, aggregatorNotRunning, aggregatorErrors, iteratorAge, stuck, ...incomplete, parked, deliveryFailed],
      });
    }
  }

  private alarm(id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarmName = this.alarmNamePrefix === undefined ? undefined : `${this.alarmNamePrefix}${id}`;
    const alarm = new cloudwatch.Alarm(this, id, { ...props, alarmName, actionsEnabled: true });
    const action = new actions.SnsAction(this.checkerTopic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarms.push(alarm);
    return alarm;
  }
}

/**
 * The deployment's one dashboard. CloudWatch metric widgets read any region (`region` per metric), so one
 * dashboard shows every probe region, one line each; functions are addressed by their fixed physical names.
 * Logs Insights and alarm status widgets read their own region only: they show the home region's aggregator
 * log and alarms (each region's alarms also notify the checker topic).
 */
function regionsDashboard(
  scope: Construct,
  props: RegionsDashboardProps,
  home: { readonly aggregatorLogGroup: logs.ILogGroup; readonly alarms: cloudwatch.IAlarm[] },
): cloudwatch.Dashboard {
  const homeRegion = Stack.of(scope).region;
  const minute = Duration.minutes(1);
  const perRegion = (make: (probeRegion: string) => cloudwatch.IMetric[]) => props.probeRegions.flatMap(make);
  const lambdaMetric = (functionName: string, metricName: string, probeRegion: string, statistic: string, label: string) =>
    new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName, dimensionsMap: { FunctionName: functionName }, region: probeRegion, statistic, period: minute, label });
  const aggregator = (key: keyof typeof AGGREGATOR_METRICS.metrics, probeRegion: string, statistic: string, label: string) =>
    aggregatorMetric(AGGREGATOR_METRICS.metrics[key], probeRegion, statistic, minute).with({ region: probeRegion, label });

  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', { dashboardName: props.name, defaultInterval: Duration.hours(3) });
  dashboard.addWidgets(
    new cloudwatch.TextWidget({
      markdown: `# regionwatch\nEvery probe region (${props.probeRegions.join(', ')}), one line each. Availability and latency per platform region; the checker below. Incidents: query the incident table (docs/deploy.md). Log and alarm widgets show ${homeRegion}.`,
      width: 24,
      height: 2,
    }),
  );
  for (const platformRegion of props.platformRegions) {
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `${platformRegion}: availability`,
        width: 12,
        leftYAxis: { min: 0, max: 1 },
        left: props.probeRegions.map((probeRegion) => probeMetric(PROBE_METRICS.availability, platformRegion, probeRegion, cloudwatch.Stats.AVERAGE)),
      }),
      new cloudwatch.GraphWidget({
        title: `${platformRegion}: latency p90 (ms)`,
        width: 12,
        left: props.probeRegions.map((probeRegion) => probeMetric(PROBE_METRICS.latency, platformRegion, probeRegion, cloudwatch.Stats.p(90))),
      }),
    );
  }
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Aggregators: invocations and errors',
      width: 8,
      left: perRegion((r) => [lambdaMetric(props.aggregatorFunctionName, 'Invocations', r, cloudwatch.Stats.SUM, `invocations in ${r}`)]),
      right: perRegion((r) => [lambdaMetric(props.aggregatorFunctionName, 'Errors', r, cloudwatch.Stats.SUM, `errors in ${r}`)]),
    }),
    new cloudwatch.GraphWidget({
      title: 'Aggregators: iterator age (ms)',
      width: 8,
      left: perRegion((r) => [lambdaMetric(props.aggregatorFunctionName, 'IteratorAge', r, cloudwatch.Stats.MAXIMUM, r)]),
    }),
    new cloudwatch.GraphWidget({
      title: 'Queue depths',
      width: 8,
      // Queue names are generated (<stack name>-<id>-<suffix>): a search per region finds that stack's queues.
      left: perRegion(
        (r) =>
          [
            new cloudwatch.MathExpression({
              expression: `SEARCH('{AWS/SQS,QueueName} MetricName="ApproximateNumberOfMessagesVisible" ${props.stackName(r)}', 'Maximum', 60)`,
              searchRegion: r,
              // One line per queue found, named by CloudWatch's dynamic label.
              label: `${r}: \${PROP('Dim.QueueName')}`,
              period: minute,
            }),
          ],
      ),
    }),
    new cloudwatch.GraphWidget({
      title: 'Aggregators: notifications',
      width: 12,
      left: perRegion((r) => [
        aggregator('pendingNotifications', r, cloudwatch.Stats.MAXIMUM, `pending in ${r}`),
        aggregator('stuckNotifications', r, cloudwatch.Stats.MAXIMUM, `stuck in ${r}`),
        aggregator('publishFailures', r, cloudwatch.Stats.SUM, `publish failures in ${r}`),
      ]),
    }),
    new cloudwatch.GraphWidget({
      title: 'Aggregators: records and transitions',
      width: 12,
      left: perRegion((r) => [
        aggregator('transitions', r, cloudwatch.Stats.SUM, `transitions in ${r}`),
        aggregator('poisonRecords', r, cloudwatch.Stats.SUM, `poison records in ${r}`),
        aggregator('quarantinedRecords', r, cloudwatch.Stats.SUM, `quarantined in ${r}`),
      ]),
    }),
    new cloudwatch.GraphWidget({
      title: 'Probers: runs and late rounds',
      width: 12,
      left: perRegion((r) => [lambdaMetric(props.proberFunctionName, 'Invocations', r, cloudwatch.Stats.SUM, `prober runs in ${r}`)]),
      // Queued rounds dropped for arriving after their slot: no line while none are.
      right: perRegion((r) => [lateRoundsMetric(r, minute).with({ region: r, label: `late rounds in ${r}` })]),
    }),
    new cloudwatch.LogQueryWidget({
      title: `Incident transitions (aggregator log, ${homeRegion})`,
      width: 12,
      logGroupNames: [home.aggregatorLogGroup.logGroupName],
      queryLines: ["fields @timestamp, transitions.0.region as region, transitions.0.events.0 as event", "filter message = 'transitions'", 'sort @timestamp desc', 'limit 20'],
    }),
    new cloudwatch.AlarmStatusWidget({
      title: `Checker alarms (${homeRegion})`,
      width: 24,
      alarms: home.alarms,
    }),
  );
  return dashboard;
}

function probeMetric(metricName: string, platformRegion: string, probeRegion: string, statistic: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: PROBE_METRICS.namespace,
    metricName,
    dimensionsMap: { [PROBE_METRICS.platformRegionDimension]: platformRegion, [PROBE_METRICS.probeRegionDimension]: probeRegion },
    region: probeRegion,
    statistic,
    period: Duration.minutes(1),
    label: `from ${probeRegion}`,
  });
}
