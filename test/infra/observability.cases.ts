// Watching the checker: alarms to a separate, encrypted checker topic, each with a deliberate missing-data treatment.
import { describe, expect, it } from 'vitest';
import { AGGREGATOR_METRIC_NAMES } from '../../lambda/aggregator/metrics';
import { LATE_ROUNDS_METRIC, PROBE_METRIC_NAMES } from '../../lambda/probe/metrics';
import { AGGREGATOR_METRICS, PROBE_METRICS } from '../../lib/observability';
import { rendered, resourcesOfType, type Scenario } from './synth';


interface AlarmJson {
  MetricName: string;
  Namespace: string;
  Dimensions: unknown[];
  Statistic?: string;
  Period: number;
  ComparisonOperator: string;
  Threshold: number;
  EvaluationPeriods: number;
  DatapointsToAlarm?: number;
  TreatMissingData: string;
  AlarmActions: unknown[];
  OKActions: unknown[];
}

function alarmsOf(scenario: Scenario, region: string): Record<string, AlarmJson> {
  const { json, stack } = scenario;
  return Object.fromEntries(
    Object.entries(resourcesOfType(json(region), 'AWS::CloudWatch::Alarm')).map(([id, r]) => {
      const { AlarmDescription: _description, AlarmName: _name, ActionsEnabled: _enabled, Tags: _tags, ...rest } = rendered(stack(region), r.Properties) as AlarmJson & Record<string, unknown>;
      return [id.replace(/^Observability/, ''), rest as AlarmJson];
    }),
  );
}

const toChecker = { AlarmActions: ['${ObservabilityCheckerTopic}'], OKActions: ['${ObservabilityCheckerTopic}'] };

/** Cases run against the example config's synthesized app (see example-app.test.ts). */
export function observabilityCases(scenario: { readonly current: Scenario }): void {
  const alarms = (region: string) => alarmsOf(scenario.current, region);
  describe('Observability', () => {
    it('has exactly these alarms, every one notifying the checker topic (not the platform topic)', () => {
      expect(Object.keys(alarms('eu-west-1')).sort()).toEqual([
        'AggregatorErrors',
        'AggregatorIteratorAge',
        'AggregatorNotRunning',
        'NotificationDeliveryFailed',
        'NotificationsStuck',
        // One for everything parked in the region (rounds, stream records, every channel), not one per queue.
        'ParkedMessagesNotEmpty',
        'PeerProberSilent',
        'ProberErrors',
        'ProberLateRounds',
        'ProberNotRunning',
      ]);
      for (const alarm of Object.values(alarms('eu-west-1'))) expect(alarm).toMatchObject(toChecker);
    });

    it('explains every alarm in its description: what happened and what to do (the runbook line)', () => {
      const { json } = scenario.current;
      for (const alarm of Object.values(resourcesOfType(json('eu-west-1'), 'AWS::CloudWatch::Alarm'))) {
        expect(String(alarm.Properties?.AlarmDescription).length).toBeGreaterThan(60);
      }
    });

    // FAULTS row 17 (and row 1): the silence alarms need nothing of what they watch; missing data is breaching.
    it('watches the previous region\'s prober from here, breaching when its heartbeats stop', () => {
      expect(alarms('eu-west-1').PeerProberSilent).toEqual({
        Namespace: 'AWS/Events',
        MetricName: 'TriggeredRules',
        Dimensions: [{ Name: 'RuleName', Value: '${ProberHeartbeatWatchPeer}' }],
        Statistic: 'Sum',
        Period: 60,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        EvaluationPeriods: 5,
        DatapointsToAlarm: 3,
        TreatMissingData: 'breaching',
        ...toChecker,
      });
    });

    it('alarms when the local prober or the aggregator is not invoked at all, missing data breaching', () => {
      const all = alarms('eu-west-1');
      expect(all.ProberNotRunning).toEqual({
        Namespace: 'AWS/Lambda',
        MetricName: 'Invocations',
        Dimensions: [{ Name: 'FunctionName', Value: '${ProberFunction}' }],
        Statistic: 'Sum',
        Period: 60,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        EvaluationPeriods: 5,
        DatapointsToAlarm: 3,
        TreatMissingData: 'breaching',
        ...toChecker,
      });
      expect(all.AggregatorNotRunning).toEqual({
        Namespace: 'AWS/Lambda',
        MetricName: 'Invocations',
        Dimensions: [{ Name: 'FunctionName', Value: '${AggregatorFunction}' }],
        Statistic: 'Sum',
        Period: 300,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        EvaluationPeriods: 2,
        TreatMissingData: 'breaching',
        ...toChecker,
      });
    });

    it('alarms on aggregator errors and iterator age, missing data not breaching (only emitted while there is work)', () => {
      const all = alarms('eu-west-1');
      expect(all.AggregatorErrors).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: '${AggregatorFunction}' }],
        Statistic: 'Sum',
        Period: 300,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        EvaluationPeriods: 2,
        TreatMissingData: 'notBreaching',
      });
      expect(all.AggregatorIteratorAge).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'IteratorAge',
        Statistic: 'Maximum',
        Period: 60,
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 120_000,
        EvaluationPeriods: 3,
        TreatMissingData: 'notBreaching',
      });
      expect(all.ProberErrors).toMatchObject({ MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: '${ProberFunction}' }], TreatMissingData: 'notBreaching' });
    });

    // FAULTS row 9: a poison record parked in the failure queue is a checker alert on its first message.
    it('alarms on the first message in the region\'s one parked-messages queue, where every dead letter goes', () => {
      const all = alarms('eu-west-1');
      for (const [alarm, queue] of [['ParkedMessagesNotEmpty', '${ParkedMessages.QueueName}']] as const) {
        expect(all[alarm]).toEqual({
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [{ Name: 'QueueName', Value: queue }],
          Statistic: 'Maximum',
          Period: 60,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          Threshold: 1,
          EvaluationPeriods: 1,
          TreatMissingData: 'notBreaching',
          ...toChecker,
        });
      }
    });

    // Queued rounds dropped for arriving after their slot: LateRounds is only emitted when it happens.
    it('alarms on late rounds in 3 of the last 10 minutes, from the prober\'s own metric, missing data not breaching', () => {
      expect(alarms('eu-west-1').ProberLateRounds).toEqual({
        Namespace: 'RegionWatch',
        MetricName: LATE_ROUNDS_METRIC,
        Dimensions: [{ Name: 'ProbeRegion', Value: 'eu-west-1' }],
        Statistic: 'Sum',
        Period: 60,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        EvaluationPeriods: 10,
        DatapointsToAlarm: 3,
        TreatMissingData: 'notBreaching',
        ...toChecker,
      });
      expect(LATE_ROUNDS_METRIC).toBe('LateRounds');
    });

    // FAULTS row 10: a notification SNS keeps refusing is a checker alert, from the aggregator's own metric.
    it('alarms when a notification stays unpublished run after run', () => {
      expect(alarms('eu-west-1').NotificationsStuck).toEqual({
        Namespace: 'RegionWatch',
        MetricName: 'StuckNotifications',
        Dimensions: [{ Name: 'ProbeRegion', Value: 'eu-west-1' }],
        Statistic: 'Maximum',
        Period: 300,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
        ...toChecker,
      });
    });

    // What the handlers really emit is pinned by test/probe/prober-handler.test.ts and test/aggregator/handler.test.ts.
    it('reads the metric names from the modules the prober and aggregator handlers emit with: one namespace', () => {
      expect(PROBE_METRICS).toBe(PROBE_METRIC_NAMES);
      expect(AGGREGATOR_METRICS).toBe(AGGREGATOR_METRIC_NAMES);
      expect(AGGREGATOR_METRICS.namespace).toBe(PROBE_METRICS.namespace);
      expect(AGGREGATOR_METRICS.probeRegionDimension).toBe(PROBE_METRICS.probeRegionDimension);
    });

    it('alarms when SNS fails to deliver a platform notification', () => {
      expect(alarms('eu-west-1').NotificationDeliveryFailed).toEqual({
        Namespace: 'AWS/SNS',
        MetricName: 'NumberOfNotificationsFailed',
        Dimensions: [{ Name: 'TopicName', Value: '${NotificationsTopic.TopicName}' }],
        Statistic: 'Sum',
        Period: 300,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
        ...toChecker,
      });
    });

    it('sends checker alerts through an encrypted, TLS-only topic on the region\'s one topic key, which CloudWatch may use', () => {
      const { json, stack } = scenario.current;
      const eu = stack('eu-west-1');
      const keys = resourcesOfType(json('eu-west-1'), 'AWS::KMS::Key');
      // One customer managed key per region, shared by the notifications topic and the checker topic.
      expect(Object.keys(keys)).toEqual(['NotificationsKey']);
      const keyPolicy = rendered(eu, keys.NotificationsKey?.Properties?.KeyPolicy) as { Statement: unknown[] };
      expect(keyPolicy.Statement).toContainEqual({
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Condition: { StringEquals: { 'aws:SourceAccount': '${AWS::AccountId}' } },
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Resource: '*',
      });
      expect(keys.NotificationsKey?.Properties?.EnableKeyRotation).toBe(true);
      const topics = resourcesOfType(json('eu-west-1'), 'AWS::SNS::Topic');
      expect(rendered(eu, topics.ObservabilityCheckerTopic?.Properties)).toMatchObject({ KmsMasterKeyId: '${NotificationsKey.Arn}' });
      expect(rendered(eu, topics.NotificationsTopic?.Properties)).toMatchObject({ KmsMasterKeyId: '${NotificationsKey.Arn}' });
      const subscriptions = Object.values(resourcesOfType(json('eu-west-1'), 'AWS::SNS::Subscription')).map((s) => rendered(eu, s.Properties));
      expect(subscriptions).toContainEqual({ Protocol: 'email', Endpoint: 'oncall@acme.example', TopicArn: '${ObservabilityCheckerTopic}' });
      const topicPolicies = resourcesOfType(json('eu-west-1'), 'AWS::SNS::TopicPolicy');
      expect(rendered(eu, topicPolicies.ObservabilityCheckerTopicPolicy?.Properties)).toMatchObject({
        // The TLS-only deny first, then CloudWatch for this deployment's alarms only; the alarm relay's
        // EventBridge statement follows (test/infra/alarm-relay.cases.ts).
        PolicyDocument: {
          Statement: [
            { Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
            {
              Sid: 'AllowCheckerAlarms',
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: 'sns:Publish',
              Resource: '${ObservabilityCheckerTopic}',
              Condition: {
                StringEquals: { 'aws:SourceAccount': '${AWS::AccountId}' },
                ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:eu-west-1:${AWS::AccountId}:alarm:acme-regionwatch-*' },
              },
            },
            { Principal: { Service: 'events.amazonaws.com' } },
          ],
        },
      });
    });

    it('has no dashboard unless the config asks for one (observability.dashboard; the cost model prices none)', () => {
      const { json, config } = scenario.current;
      expect(config.observability.dashboard).toBe(false);
      for (const region of config.probeRegions) expect(resourcesOfType(json(region), 'AWS::CloudWatch::Dashboard')).toEqual({});
    });
  });
}

/** The dashboard, for a config that asks for it (observability.dashboard) with us-east-1 as its home region. */
export function dashboardCases(scenario: { readonly current: Scenario }): void {
  describe('the dashboard (observability.dashboard)', () => {
    it('has one dashboard, in the home region, only', () => {
      const { json, config } = scenario.current;
      expect(Object.keys(resourcesOfType(json('us-east-1'), 'AWS::CloudWatch::Dashboard'))).toEqual(['ObservabilityDashboard']);
      for (const region of config.probeRegions.slice(1)) expect(resourcesOfType(json(region), 'AWS::CloudWatch::Dashboard')).toEqual({});
    });

    it('reads every probe region from the home dashboard: availability and latency per platform region, the checker per probe region', () => {
      const { json, stack, config } = scenario.current;
      const home = stack('us-east-1');
      const probeRegions = config.probeRegions;
      const dashboards = resourcesOfType(json('us-east-1'), 'AWS::CloudWatch::Dashboard');
      expect(dashboards.ObservabilityDashboard?.Properties?.DashboardName).toBe('acme-regionwatch');
      const body = JSON.parse(String(rendered(home, dashboards.ObservabilityDashboard?.Properties?.DashboardBody))) as {
        widgets: { type: string; properties: { title?: string; region?: string; metrics?: unknown[][] } }[];
      };
      const byTitle = (title: string) => body.widgets.find((w) => w.properties.title === title)?.properties;
      expect(body.widgets.map((w) => w.properties.title).filter(Boolean)).toEqual([
        'us: availability',
        'us: latency p90 (ms)',
        'eu: availability',
        'eu: latency p90 (ms)',
        'apac: availability',
        'apac: latency p90 (ms)',
        'Aggregators: invocations and errors',
        'Aggregators: iterator age (ms)',
        'Queue depths',
        'Aggregators: notifications',
        'Aggregators: records and transitions',
        'Probers: runs and late rounds',
        'Incident transitions (aggregator log, us-east-1)',
        'Checker alarms (us-east-1)',
      ]);
      expect(byTitle('eu: availability')?.metrics).toEqual(
        probeRegions.map((probeRegion) => [
          PROBE_METRICS.namespace,
          PROBE_METRICS.availability,
          PROBE_METRICS.platformRegionDimension,
          'eu',
          PROBE_METRICS.probeRegionDimension,
          probeRegion,
          { label: `from ${probeRegion}`, period: 60, region: probeRegion },
        ]),
      );
      // Functions are addressed by their fixed names in each region, the aggregator's own metrics by ProbeRegion.
      expect(byTitle('Aggregators: iterator age (ms)')?.metrics).toEqual(
        probeRegions.map((r) => ['AWS/Lambda', 'IteratorAge', 'FunctionName', 'acme-regionwatch-aggregator', { label: r, period: 60, region: r, stat: 'Maximum' }]),
      );
      expect(byTitle('Probers: runs and late rounds')?.metrics).toEqual([
        ...probeRegions.map((r) => ['AWS/Lambda', 'Invocations', 'FunctionName', 'acme-regionwatch-prober', { label: `prober runs in ${r}`, period: 60, region: r, stat: 'Sum' }]),
        // One late-rounds line per probe region, on the right axis.
        ...probeRegions.map((r) => ['RegionWatch', 'LateRounds', 'ProbeRegion', r, { label: `late rounds in ${r}`, period: 60, region: r, stat: 'Sum', yAxis: 'right' }]),
      ]);
      const notifications = byTitle('Aggregators: notifications')?.metrics ?? [];
      expect(notifications).toContainEqual([
        'RegionWatch',
        'StuckNotifications',
        'ProbeRegion',
        'ap-southeast-1',
        { label: 'stuck in ap-southeast-1', period: 60, region: 'ap-southeast-1', stat: 'Maximum' },
      ]);
      expect(notifications).toHaveLength(3 * probeRegions.length);
      expect(byTitle('Queue depths')?.metrics).toEqual(
        probeRegions.map((r) => [
          {
            expression: `SEARCH('{AWS/SQS,QueueName} MetricName="ApproximateNumberOfMessagesVisible" RegionWatch-${r}', 'Maximum', 60)`,
            label: `${r}: \${PROP('Dim.QueueName')}`,
            period: 60,
            // The dashboard's own region needs no region key.
            ...(r === 'us-east-1' ? {} : { region: r }),
          },
        ]),
      );
    });
  });
}
