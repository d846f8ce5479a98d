// The heartbeat ring: each region forwards its prober's successful runs to the next, and watches the previous.
import { describe, expect, it } from 'vitest';
import { watchedProbeRegion, watcherProbeRegion } from '../../lib/names';
import { rendered, resourcesOfType, roleStatements, type Scenario } from './synth';

const SUCCESS = 'Lambda Function Invocation Result - Success';

/** Cases run against the example config's synthesized app (see example-app.test.ts). */
export function proberHeartbeatCases(scenario: { readonly current: Scenario }): void {
  describe('ProberHeartbeat', () => {
    it('forms a ring in config order: each region is watched by the next one', () => {
      const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-1'];
      expect(regions.map((r) => watcherProbeRegion(regions, r))).toEqual(['eu-west-1', 'ap-southeast-1', 'us-east-1']);
      expect(regions.map((r) => watchedProbeRegion(regions, r))).toEqual(['ap-southeast-1', 'us-east-1', 'eu-west-1']);
      expect(watchedProbeRegion(['us-east-1'], 'us-east-1')).toBe('us-east-1');
    });

    it.each([
      ['us-east-1', 'eu-west-1', 'ap-southeast-1'],
      ['eu-west-1', 'ap-southeast-1', 'us-east-1'],
      ['ap-southeast-1', 'us-east-1', 'eu-west-1'],
    ])('in %s forwards its own prober\'s successes to %s and counts those of %s', (region, watcher, watched) => {
      const { json, stack } = scenario.current;
      const s = stack(region);
      const rules = resourcesOfType(json(region), 'AWS::Events::Rule');
      expect(rendered(s, rules.ProberHeartbeatForwardToWatcher?.Properties)).toMatchObject({
        EventPattern: { source: ['lambda'], 'detail-type': [SUCCESS], resources: [{ prefix: '${ProberFunction.Arn}' }] },
        Targets: [{ Arn: `arn:aws:events:${watcher}:\${AWS::AccountId}:event-bus/default`, RoleArn: '${ProberHeartbeatForwardToWatcherEventsRole.Arn}', Id: 'Target0' }],
      });
      expect(roleStatements(json(region), 'ProberHeartbeatForwardToWatcherEventsRole')).toEqual([
        { Action: 'events:PutEvents', Effect: 'Allow', Resource: `arn:aws:events:${watcher}:\${AWS::AccountId}:event-bus/default` },
      ]);
      expect(rendered(s, rules.ProberHeartbeatWatchPeer?.Properties)).toMatchObject({
        EventPattern: {
          source: ['lambda'],
          'detail-type': [SUCCESS],
          region: [watched],
          resources: [{ prefix: `arn:aws:lambda:${watched}:\${AWS::AccountId}:function:acme-regionwatch-prober` }],
        },
        Targets: [{ Arn: `arn:aws:logs:${region}:\${AWS::AccountId}:log-group:\${ProberHeartbeatWatchedHeartbeats}`, Id: 'Target0' }],
      });
    });

    it.each(['us-east-1', 'eu-west-1', 'ap-southeast-1'])(
      'in %s lets EventBridge write the heartbeat log for the watching rule only, through a plain resource policy (no custom resource)',
      (region) => {
        const { json, stack } = scenario.current;
        const s = stack(region);
        const policies = resourcesOfType(json(region), 'AWS::Logs::ResourcePolicy');
        const document = JSON.parse(String(rendered(s, policies.ProberHeartbeatLetEventBridgeWriteResourcePolicy?.Properties?.PolicyDocument))) as unknown;
        expect(document).toEqual({
          Statement: [
            {
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              Effect: 'Allow',
              Principal: { Service: ['events.amazonaws.com', 'delivery.logs.amazonaws.com'] },
              Resource: '${ProberHeartbeatWatchedHeartbeats.Arn}',
              // Only for the rule that counts the watched prober's heartbeats: no other rule in the account writes here.
              Condition: { ArnEquals: { 'aws:SourceArn': '${ProberHeartbeatWatchPeer.Arn}' } },
            },
          ],
          Version: '2012-10-17',
        });
        // The policy names the rule, so the rule cannot also wait for the policy: CloudFormation would refuse the cycle.
        const rule = Object.entries(json(region).Resources).find(([id]) => id.startsWith('ProberHeartbeatWatchPeer'))?.[1];
        expect(rule?.DependsOn ?? []).toEqual([]);
        // Like every log group: the region's key, a year.
        expect(rendered(s, resourcesOfType(json(region), 'AWS::Logs::LogGroup').ProberHeartbeatWatchedHeartbeats?.Properties)).toMatchObject({
          KmsKeyId: '${NotificationsKey.Arn}',
          RetentionInDays: 365,
        });
      },
    );
  });
}
