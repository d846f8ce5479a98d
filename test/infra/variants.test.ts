// Other configs: fewer or more probe regions, no Slack, a single probe region. Each synthesized once.
import { describe, expect, it } from 'vitest';
import { alarmRelayCases } from './alarm-relay.cases';
import { appCases } from './app.cases';
import { regionKeyCases } from './region-key.cases';
import { configWith, resourcesOfType, useScenario } from './synth';

const two = useScenario(() => configWith(['eu-west-1', 'us-west-2']));
appCases('2 probe regions', two);
regionKeyCases('2 probe regions', two);
alarmRelayCases('2 probe regions', two);
const four = useScenario(() => configWith(['us-east-1', 'eu-west-1', 'ap-southeast-1', 'sa-east-1']));
appCases('4 probe regions', four);
regionKeyCases('4 probe regions', four);
alarmRelayCases('4 probe regions', four);

const noSlack = useScenario(() =>
  configWith(['us-east-1', 'eu-west-1'], { notifications: { emails: [], slackWebhookSecretName: null, reminderMinutes: 30 } }),
);
appCases('no Slack secret', noSlack, { slack: false });

describe('without a Slack secret', () => {
  it('has no Slack notifier, dead-letter queue, subscription or secret access', () => {
    const json = noSlack.current.json('eu-west-1');
    expect(Object.keys(resourcesOfType(json, 'AWS::Lambda::Function')).sort()).toEqual([
      'AWS679f53fac002430cb0da5b7982bd2287',
      'AggregatorFunction',
      'ProberFunction',
    ]);
    expect(Object.keys(resourcesOfType(json, 'AWS::SQS::Queue')).sort()).toEqual(['AggregatorFailedRecords', 'ProberConfirmations', 'ProberRounds', 'ProberRoundsDeadLetters']);
    expect(Object.keys(resourcesOfType(json, 'AWS::SNS::Subscription'))).toEqual([]);
    expect(JSON.stringify(json)).not.toContain('secretsmanager');
  });
});

// Also a deployer who keeps logs a month: below Control Tower's year, acknowledged with the configured value.
const single = useScenario(() => configWith(['eu-west-1'], { defaults: { quorum: 1 }, logs: { retentionDays: 30 } }));
appCases('1 probe region and 30-day logs', single);
regionKeyCases('1 probe region and 30-day logs', single);
alarmRelayCases('1 probe region', single);

describe('with one probe region', () => {
  it('watches its own prober and forwards nothing', () => {
    const rules = resourcesOfType(single.current.json('eu-west-1'), 'AWS::Events::Rule');
    expect(Object.keys(rules).sort()).toEqual(['ProberEveryMinute', 'ProberHeartbeatWatchPeer']);
    expect(rules.ProberHeartbeatWatchPeer?.Properties?.EventPattern).toMatchObject({ region: ['eu-west-1'] });
  });
});

const aligned = useScenario(() => configWith(['us-east-1', 'eu-west-1'], { probing: { detection: 'rounds' } as never }));
appCases('the first design (aligned rounds, no confirmation)', aligned);

describe('without confirm on failure (probing.detection rounds, or one probe region)', () => {
  it('has no confirmations queue, mapping or cross-region send, and only PutItem on the results table', () => {
    for (const [scenario, region] of [[aligned, 'eu-west-1'], [single, 'eu-west-1']] as const) {
      const json = scenario.current.json(region);
      expect(Object.keys(resourcesOfType(json, 'AWS::SQS::Queue')).filter((id) => id.startsWith('ProberConfirmations'))).toEqual([]);
      const text = JSON.stringify(json);
      expect(text).not.toContain('prober-confirmations');
      expect(text).not.toContain('CONFIRMATIONS_QUEUE_URL');
      expect(text).not.toContain('dynamodb:UpdateItem');
    }
  });
});
