// Watching the checker: alarms to a separate, encrypted checker topic, each with a deliberate missing-data treatment.
import { describe, expect, it } from 'vitest';
import { AGGREGATOR_METRIC_NAMES } from '../../lambda/aggregator/metrics';
import { PROBE_METRIC_NAMES } from '../../lambda/probe/metrics';
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
      const { AlarmDescription: _description, ActionsEnabled: _enabled, Tags: _tags, ...rest } = rendered(stack(region), r.Properties) as AlarmJson & Record<string, unknown>;
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
        'AggregatorFailedRecordsNotEmpty',
        'AggregatorIteratorAge',
        'AggregatorNotRunning',
        'NotificationDeliveryFailed',
        'NotificationsStuck',
        'PeerProberSilent',
        'ProberErrors',
        'ProberNotRunning',
        'ProberRoundsDeadLettersNotEmpty',
        'SlackDeadLettersNotEmpty',
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
    it('alarms on the first message in every dead-letter queue', () => {
      const all = alarms('eu-west-1');
      for (const [alarm, queue] of [
        ['AggregatorFailedRecordsNotEmpty', '${AggregatorFailedRecords.QueueName}'],
        ['SlackDeadLettersNotEmpty', '${NotificationsSlackDeadLetters.QueueName}'],
        ['ProberRoundsDeadLettersNotEmpty', '${ProberRoundsDeadLetters.QueueName}'],
      ] as const) {
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

    it('sends checker alerts through an encrypted, TLS-only topic whose key CloudWatch may use, to the configured emails', () => {
      const { json, stack } = scenario.current;
      const eu = stack('eu-west-1');
      const keys = resourcesOfType(json('eu-west-1'), 'AWS::KMS::Key');
      const keyPolicy = rendered(eu, keys.ObservabilityCheckerKey?.Properties?.KeyPolicy) as { Statement: unknown[] };
      expect(keyPolicy.Statement).toContainEqual({
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Condition: { StringEquals: { 'aws:SourceAccount': '${AWS::AccountId}' } },
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Resource: '*',
      });
      expect(keys.ObservabilityCheckerKey?.Properties?.EnableKeyRotation).toBe(true);
      const topics = resourcesOfType(json('eu-west-1'), 'AWS::SNS::Topic');
      expect(rendered(eu, topics.ObservabilityCheckerTopic?.Properties)).toMatchObject({ KmsMasterKeyId: '${ObservabilityCheckerKey.Arn}' });
      const subscriptions = Object.values(resourcesOfType(json('eu-west-1'), 'AWS::SNS::Subscription')).map((s) => rendered(eu, s.Properties));
      expect(subscriptions).toContainEqual({ Protocol: 'email', Endpoint: 'oncall@acme.example', TopicArn: '${ObservabilityCheckerTopic}' });
      const topicPolicies = resourcesOfType(json('eu-west-1'), 'AWS::SNS::TopicPolicy');
      expect(rendered(eu, topicPolicies.ObservabilityCheckerTopicPolicy?.Properties)).toMatchObject({
        PolicyDocument: { Statement: [{ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }] },
      });
    });

    it('has a dashboard per region with availability and latency per platform region, one line per probe region', () => {
      const { json, stack } = scenario.current;
      const eu = stack('eu-west-1');
      const dashboards = resourcesOfType(json('eu-west-1'), 'AWS::CloudWatch::Dashboard');
      expect(dashboards.ObservabilityDashboard?.Properties?.DashboardName).toBe('acme-regionwatch-eu-west-1');
      const body = JSON.parse(String(rendered(eu, dashboards.ObservabilityDashboard?.Properties?.DashboardBody))) as {
        widgets: { properties: { title?: string; metrics?: unknown[][] } }[];
      };
      const titles = body.widgets.map((w) => w.properties.title).filter(Boolean);
      expect(titles).toEqual([
        'us: availability',
        'us: latency p90 (ms)',
        'eu: availability',
        'eu: latency p90 (ms)',
        'apac: availability',
        'apac: latency p90 (ms)',
        'Aggregator: invocations and errors',
        'Aggregator: iterator age (ms)',
        'Queue depths',
        'Aggregator: notifications and records',
        'Incident transitions (aggregator log)',
        'Probers: runs',
        'Checker alarms',
      ]);
      const availability = body.widgets.find((w) => w.properties.title === 'eu: availability');
      expect(availability?.properties.metrics).toEqual(
        ['us-east-1', 'eu-west-1', 'ap-southeast-1'].map((probeRegion) => [
          PROBE_METRICS.namespace,
          PROBE_METRICS.availability,
          PROBE_METRICS.platformRegionDimension,
          'eu',
          PROBE_METRICS.probeRegionDimension,
          probeRegion,
          { label: `from ${probeRegion}`, period: 60, region: probeRegion },
        ]),
      );
    });
  });
}
