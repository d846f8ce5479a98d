// The alarm relay along the heartbeat ring: each region forwards its alarm changes to the next, which publishes them.
import { describe, expect, it } from 'vitest';
import { resourceNames, watchedProbeRegion, watcherProbeRegion } from '../../lib/names';
import { rendered, resourcesOfType, roleStatements, type Scenario } from './synth';

const CHANGE = 'CloudWatch Alarm State Change';

/** Cases for any synthesized scenario: the ring over its probe regions, or nothing relayed with one probe region. */
export function alarmRelayCases(label: string, scenario: { readonly current: Scenario }): void {
  describe(`AlarmRelay with ${label}`, () => {
    const regionsOf = () => scenario.current.config.probeRegions;
    const prefix = () => resourceNames(scenario.current.config.platform).alarmPrefix;
    const pattern = (region: string) => ({
      source: ['aws.cloudwatch'],
      'detail-type': [CHANGE],
      region: [region],
      detail: { alarmName: [{ prefix: prefix() }], state: { value: ['ALARM', 'OK'] } },
    });

    it('names every alarm with the prefix the relay matches', () => {
      const { json, config } = scenario.current;
      for (const region of config.probeRegions) {
        const alarms = Object.entries(resourcesOfType(json(region), 'AWS::CloudWatch::Alarm'));
        expect(alarms.length).toBeGreaterThan(0);
        for (const [id, alarm] of alarms) expect(alarm.Properties?.AlarmName).toBe(`${prefix()}${id.replace(/^Observability/, '')}`);
      }
    });

    it("forwards each region's own ALARM and OK changes to the next region's bus with the heartbeat ring's role, and nothing else", () => {
      const { json, stack } = scenario.current;
      const regions = regionsOf();
      for (const region of regions) {
        const watcher = watcherProbeRegion(regions, region);
        const rules = resourcesOfType(json(region), 'AWS::Events::Rule');
        if (regions.length === 1) {
          expect(rules.AlarmRelayForwardToWatcher).toBeUndefined();
          continue;
        }
        const bus = `arn:aws:events:${watcher}:\${AWS::AccountId}:event-bus/default`;
        expect(rendered(stack(region), rules.AlarmRelayForwardToWatcher?.Properties)).toMatchObject({
          EventPattern: pattern(region),
          Targets: [{ Arn: bus, RoleArn: '${ProberHeartbeatForwardToWatcherEventsRole.Arn}', Id: 'Target0' }],
        });
        // One forwarding role per region, shared with the heartbeat forward, allowed exactly this.
        expect(Object.keys(resourcesOfType(json(region), 'AWS::IAM::Role')).filter((id) => id.includes('Forward'))).toEqual(['ProberHeartbeatForwardToWatcherEventsRole']);
        expect(roleStatements(json(region), 'ProberHeartbeatForwardToWatcherEventsRole')).toEqual([{ Action: 'events:PutEvents', Effect: 'Allow', Resource: bus }]);
      }
    });

    it('publishes the changes relayed from the previous region to the checker topic as one readable line and the key fields', () => {
      const { json, stack } = scenario.current;
      const regions = regionsOf();
      for (const region of regions) {
        const watched = watchedProbeRegion(regions, region);
        const rules = resourcesOfType(json(region), 'AWS::Events::Rule');
        if (regions.length === 1) {
          expect(rules.AlarmRelayPublishRelayed).toBeUndefined();
          continue;
        }
        const receive = rendered(stack(region), rules.AlarmRelayPublishRelayed?.Properties) as { EventPattern: unknown; Targets: { InputTransformer: { InputTemplate: string } }[] };
        expect(receive.EventPattern).toEqual(pattern(watched));
        expect(receive.Targets).toEqual([
          {
            Arn: '${ObservabilityCheckerTopic}',
            Id: 'Target0',
            InputTransformer: {
              InputPathsMap: {
                region: '$.region',
                'detail-alarmName': '$.detail.alarmName',
                'detail-state-value': '$.detail.state.value',
                'detail-state-reason': '$.detail.state.reason',
                'detail-previousState-value': '$.detail.previousState.value',
                'detail-state-timestamp': '$.detail.state.timestamp',
                'detail-configuration-description': '$.detail.configuration.description',
              },
              InputTemplate: expect.any(String) as unknown,
            },
          },
        ]);
        // A JSON string: SNS receives its text.
        const text = JSON.parse(receive.Targets[0]?.InputTransformer.InputTemplate ?? '') as string;
        expect(text.split('\n')).toEqual([
          '[CHECKER] relayed from <region>: <detail-alarmName> is <detail-state-value>: <detail-state-reason>',
          'alarm: <detail-alarmName>',
          'state: <detail-state-value> (was <detail-previousState-value>) at <detail-state-timestamp>',
          'region: <region>',
          'about: <detail-configuration-description>',
          `Relayed by ${region}: the alarm's own region also notified its checker topic, which may not be delivering.`,
        ]);
      }
    });

    it('lets EventBridge publish to the checker topic for the relay rule only, and use the topic key', () => {
      const { json, stack } = scenario.current;
      const regions = regionsOf();
      for (const region of regions) {
        const policies = resourcesOfType(json(region), 'AWS::SNS::TopicPolicy');
        const topicStatements = (rendered(stack(region), policies.ObservabilityCheckerTopicPolicy?.Properties?.PolicyDocument) as { Statement: Record<string, unknown>[] }).Statement;
        const keys = resourcesOfType(json(region), 'AWS::KMS::Key');
        const keyStatements = (rendered(stack(region), keys.NotificationsKey?.Properties?.KeyPolicy) as { Statement: Record<string, unknown>[] }).Statement;
        const forEvents = (statements: Record<string, unknown>[]) => statements.filter((s) => JSON.stringify(s.Principal).includes('events.amazonaws.com'));
        if (regions.length === 1) {
          expect(forEvents(topicStatements)).toEqual([]);
          expect(forEvents(keyStatements)).toEqual([]);
          continue;
        }
        expect(forEvents(topicStatements)).toEqual([
          {
            Action: 'sns:Publish',
            Condition: { ArnEquals: { 'aws:SourceArn': '${AlarmRelayPublishRelayed.Arn}' } },
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Resource: '${ObservabilityCheckerTopic}',
            Sid: expect.any(String) as unknown,
          },
        ]);
        // The TLS-only deny stays.
        expect(topicStatements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
        // Unconditioned on purpose (see lib/alarm-relay.ts): the key request of an EventBridge publish carries no source keys.
        expect(forEvents(keyStatements)).toEqual([
          { Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Resource: '*' },
        ]);
        // Nothing else is published to: the platform notifications topic keeps its aggregator-only policy.
        expect(JSON.stringify(policies.NotificationsTopicPolicy ?? {})).not.toContain('events.amazonaws.com');
      }
    });

    it('closes the ring: every region relays to exactly one other, and every region receives from exactly one', () => {
      const { json, stack } = scenario.current;
      const regions = regionsOf();
      const edges = regions.flatMap((region) => {
        const rules = resourcesOfType(json(region), 'AWS::Events::Rule');
        const forward = rendered(stack(region), rules.AlarmRelayForwardToWatcher?.Properties) as { Targets?: { Arn: string }[] } | undefined;
        const receive = rendered(stack(region), rules.AlarmRelayPublishRelayed?.Properties) as { EventPattern?: { region: string[] } } | undefined;
        const to = forward?.Targets?.[0]?.Arn.split(':')[3];
        const from = receive?.EventPattern?.region[0];
        return to === undefined && from === undefined ? [] : [{ region, to, from }];
      });
      if (regions.length === 1) {
        expect(edges).toEqual([]);
        return;
      }
      expect(edges.map((e) => `${e.region}->${e.to}`)).toEqual(regions.map((r, i) => `${r}->${regions[(i + 1) % regions.length]}`));
      // What a region forwards, the next one receives.
      for (const e of edges) expect(edges.find((x) => x.region === e.to)?.from).toBe(e.region);
    });
  });
}
