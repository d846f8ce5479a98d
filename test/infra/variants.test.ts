// Other configs: fewer or more probe regions, no Slack, a single probe region. Each synthesized once.
import { describe, expect, it } from 'vitest';
import { alarmRelayCases } from './alarm-relay.cases';
import { appCases } from './app.cases';
import { Match } from 'aws-cdk-lib/assertions';
import { regionKeyCases } from './region-key.cases';
import { dashboardCases } from './observability.cases';
import { configWith, rendered, resourcesOfType, roleStatements, useScenario } from './synth';

const two = useScenario(() => configWith(['eu-west-1', 'us-west-2']));
appCases('2 probe regions', two);
regionKeyCases('2 probe regions', two);
alarmRelayCases('2 probe regions', two);
// Also the dashboard, which a config asks for (observability.dashboard).
const four = useScenario(() => configWith(['us-east-1', 'eu-west-1', 'ap-southeast-1', 'sa-east-1'], { observability: { dashboard: true } }));
appCases('4 probe regions', four);
dashboardCases(four);
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
    expect(Object.keys(resourcesOfType(json, 'AWS::SQS::Queue')).sort()).toEqual(['ParkedMessages', 'ProberRounds']);
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
    // (The status page's schedule, too: the one region is home.)
    expect(Object.keys(rules).sort()).toEqual(['ProberEveryMinute', 'ProberHeartbeatWatchPeer', 'StatusPageEvery5Minutes']);
    expect(rules.ProberHeartbeatWatchPeer?.Properties?.EventPattern).toMatchObject({ region: ['eu-west-1'] });
  });
});

const aligned = useScenario(() => configWith(['us-east-1', 'eu-west-1'], { probing: { detection: 'rounds' } as never }));
appCases('the first design (aligned rounds, no confirmation)', aligned);

describe('without confirm on failure (probing.detection rounds, or one probe region)', () => {
  it('has no confirmation transport (no cross-region send, no CONFIRMATIONS_QUEUE_URL), and only PutItem on the tables', () => {
    for (const [scenario, region] of [[aligned, 'eu-west-1'], [single, 'eu-west-1']] as const) {
      const json = scenario.current.json(region);
      expect(Object.keys(resourcesOfType(json, 'AWS::SQS::Queue')).filter((id) => id.startsWith('ProberConfirmations'))).toEqual([]);
      const text = JSON.stringify(json);
      // No queue of another region (its own rounds queue is addressed by its logical id).
      expect(JSON.stringify(roleStatements(json, 'ProberRole'))).not.toContain('arn:aws:sqs:');
      expect(text).not.toContain('CONFIRMATIONS_QUEUE_URL');
      expect(text).not.toContain('dynamodb:UpdateItem');
    }
  });
});

// The status page on the *.cloudfront.net name (no domain of its own), and the private variant.
const cloudfrontName = useScenario(() => configWith(['us-east-1', 'eu-west-1'], { statusPage: { mode: 'public' } }));
appCases('a public status page on its CloudFront name', cloudfrontName);

describe('a public status page without a domain of its own', () => {
  it('is served on the distribution name, and only the home region can link to it', () => {
    const { json, stack, template } = cloudfrontName.current;
    const config = (resourcesOfType(json('us-east-1'), 'AWS::CloudFront::Distribution').StatusPageDistribution?.Properties as { DistributionConfig: Record<string, unknown> }).DistributionConfig;
    expect(config.Aliases).toBeUndefined();
    // The default *.cloudfront.net certificate (CloudFront fixes its policy; cdk-nag's CFR4 is acknowledged with why).
    expect(config.ViewerCertificate).toBeUndefined();
    expect(rendered(stack('us-east-1'), (json('us-east-1') as unknown as { Outputs: { StatusPageUrl: { Value: unknown } } }).Outputs.StatusPageUrl.Value)).toBe('https://${StatusPageDistribution.DomainName}/');
    template('us-east-1').hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'acme-regionwatch-pagerduty-oncall', Environment: { Variables: Match.objectLike({ STATUS_PAGE_URL: Match.anyValue() }) } });
    const eu = Object.values(resourcesOfType(json('eu-west-1'), 'AWS::Lambda::Function')).find((f) => f.Properties?.FunctionName === 'acme-regionwatch-pagerduty-oncall');
    expect((eu?.Properties?.Environment as { Variables: Record<string, unknown> }).Variables.STATUS_PAGE_URL).toBeUndefined();
  });
});

const privatePage = useScenario(() => configWith(['us-east-1', 'eu-west-1'], { statusPage: { mode: 'private', vpcEndpointIds: ['vpce-0123456789abcdef0'] } }));
appCases('a private status page', privatePage);

describe('a private status page', () => {
  it('has no distribution; anyone may read the files through the named S3 endpoint only, the bucket stays non-public', () => {
    const { json, stack } = privatePage.current;
    expect(resourcesOfType(json('us-east-1'), 'AWS::CloudFront::Distribution')).toEqual({});
    const policy = rendered(stack('us-east-1'), resourcesOfType(json('us-east-1'), 'AWS::S3::BucketPolicy').StatusPageFilesPolicy?.Properties) as { PolicyDocument: { Statement: { Sid?: string }[] } };
    expect(policy.PolicyDocument.Statement.find((s) => s.Sid === 'ReadThroughVpcEndpoints')).toEqual({
      Sid: 'ReadThroughVpcEndpoints',
      Action: 's3:GetObject',
      Condition: { StringEquals: { 'aws:SourceVpce': ['vpce-0123456789abcdef0'] } },
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Resource: '${StatusPageFiles.Arn}/*',
    });
    // Anonymous readers cannot read SSE-KMS objects: SSE-S3 (CT.S3.PR.10 acknowledged), and no key for the renderer.
    expect(resourcesOfType(json('us-east-1'), 'AWS::S3::Bucket').StatusPageFiles?.Properties?.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    expect(JSON.stringify(roleStatements(json('us-east-1'), 'StatusPageRendererRole'))).not.toContain('kms:');
    expect(resourcesOfType(json('us-east-1'), 'AWS::S3::Bucket').StatusPageFiles?.Properties?.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(rendered(stack('us-east-1'), (json('us-east-1') as unknown as { Outputs: { StatusPageUrl: { Value: unknown } } }).Outputs.StatusPageUrl.Value)).toBe('https://${StatusPageFiles.RegionalDomainName}/index.html');
  });
});

// A round that fans out: 2,000 https targets, ten to a host, at the default 500 ms expected latency hold 768 checks a
// shard, so 3 shards per probe region (lambda/config/capacity.ts).
const sharded = useScenario(() =>
  configWith(['us-east-1', 'eu-west-1'], {
    regions: { us: { targets: Array.from({ length: 2000 }, (_, i) => ({ name: `t${i}`, type: 'https', url: `https://h${Math.floor(i / 10)}.us.acme.example/t${i}` })) } },
    maintenance: [],
  }),
);
appCases('a round in 3 shards', sharded);

describe('with a round in 3 shards', () => {
  it('lets the rounds queue run every shard of a slot, one more and the confirmations at once, and reserves that plus the scheduled run', () => {
    const json = sharded.current.json('eu-west-1');
    const prober = resourcesOfType(json, 'AWS::Lambda::Function').ProberFunction;
    // The rounds queue's mapping: 3 shards + 1 still writing, and 2 confirmations (confirm on failure: they ride the
    // same queue); reserved: that and 1 scheduled run.
    const mapping = Object.entries(resourcesOfType(json, 'AWS::Lambda::EventSourceMapping')).find(([id]) => id.startsWith('ProberRounds'))?.[1];
    expect(mapping?.Properties?.ScalingConfig).toEqual({ MaximumConcurrency: 6 });
    expect(prober?.Properties?.ReservedConcurrentExecutions).toBe(7);
  });

  it('alarms when rounds stay incomplete (a shard that never ran), from the aggregator\'s IncompleteRounds', () => {
    const alarms = resourcesOfType(sharded.current.json('eu-west-1'), 'AWS::CloudWatch::Alarm');
    const incomplete = Object.entries(alarms).find(([id]) => id.includes('RoundsIncomplete'))?.[1];
    expect(incomplete?.Properties).toMatchObject({ MetricName: 'IncompleteRounds', Namespace: 'RegionWatch', Statistic: 'Maximum', Threshold: 3, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect(incomplete?.Properties?.Dimensions).toEqual([{ Name: 'ProbeRegion', Value: 'eu-west-1' }]);
    // An unsharded deployment has neither the alarm nor the metric to pay for.
    expect(Object.keys(resourcesOfType(two.current.json('eu-west-1'), 'AWS::CloudWatch::Alarm')).some((id) => id.includes('RoundsIncomplete'))).toBe(false);
  });

  it('needs no new permission: the prober\'s role is the unsharded one (fanning out is more messages on its own queue)', () => {
    // The same probe regions, one shard.
    const statements = (scenario: typeof sharded) => roleStatements(scenario.current.json('eu-west-1'), 'ProberRole');
    expect(statements(sharded)).toEqual(statements(noSlack));
  });
});
