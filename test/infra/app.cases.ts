// The whole app of any config: a stack per probe region, replicas equal to the probe regions, home first, cdk-nag and
// AWS Control Tower clean.
import { shardPlan } from '../../lambda/config/capacity';
import { describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { COMPLIANT_LOG_RETENTION_DAYS } from '../../lambda/config/schema';
import { DEFAULT_ASSUMPTIONS, estimateCost } from '../../lambda/cost/model';
import { resourceNames, stackName } from '../../lib/names';
import { controlTowerFindings, resourcesOfType, validationViolations, type Scenario } from './synth';

/** Cases for any synthesized scenario; `label` names the config in test titles. */
export function appCases(label: string, scenario: { readonly current: Scenario }, options: { readonly slack: boolean } = { slack: true }): void {
  describe(`the app with ${label}`, () => {
    // Synthesis itself ran cdk-nag and the CloudFormation rules and would have thrown on an error.
    it('synthesizes with cdk-nag on: zero unacknowledged findings, zero warnings', () => {
      const { assembly, config } = scenario.current;
      expect(validationViolations(assembly)).toEqual([]);
      for (const region of config.probeRegions) {
        const messages = assembly.getStackByName(stackName(region)).messages.filter((m) => m.level !== 'info');
        expect(messages).toEqual([]);
      }
    });

    it('passes every AWS Control Tower control; acknowledges CT.LAMBDA.PR.3 on every function only without vpc, CT.CLOUDWATCH.PR.2 on every log group only under a year, and the status page\'s by its mode', () => {
      const { assembly, config, json } = scenario.current;
      const { violations, acknowledged } = controlTowerFindings(assembly);
      expect(violations).toEqual([]);
      const expected: string[] = [];
      for (const region of config.probeRegions) {
        const resources = Object.entries(json(region).Resources);
        const ids = (type: string) => resources.filter(([, r]) => r.Type === type).map(([id]) => id);
        if (config.vpc === undefined) expected.push(...ids('AWS::Lambda::Function').map((id) => `CT.LAMBDA.PR.3 ${stackName(region)} ${id}`));
        if (config.logs.retentionDays < COMPLIANT_LOG_RETENTION_DAYS) expected.push(...ids('AWS::Logs::LogGroup').map((id) => `CT.CLOUDWATCH.PR.2 ${stackName(region)} ${id}`));
        // The status page (home region): no access logs or Object Lock on its bucket; one origin and no access logs on
        // its distribution; the *.cloudfront.net certificate without a domain; SSE-S3 for anonymous VPC-endpoint readers.
        const page = config.statusPage;
        if (page.mode === 'off') continue;
        for (const id of ids('AWS::S3::Bucket')) {
          expected.push(`CT.S3.PR.2 ${stackName(region)} ${id}`, `CT.S3.PR.9 ${stackName(region)} ${id}`);
          if (page.mode === 'private' && page.vpcEndpointIds.length > 0) expected.push(`CT.S3.PR.10 ${stackName(region)} ${id}`);
        }
        for (const id of ids('AWS::CloudFront::Distribution')) {
          const controls = ['CT.CLOUDFRONT.PR.4', 'CT.CLOUDFRONT.PR.5', ...(page.mode === 'public' && !page.domainName ? ['CT.CLOUDFRONT.PR.6', 'CT.CLOUDFRONT.PR.7', 'CT.CLOUDFRONT.PR.9'] : [])];
          expected.push(...controls.map((control) => `${control} ${stackName(region)} ${id}`));
        }
      }
      expect(acknowledged.map((f) => `${f.control} ${f.stack} ${f.logicalId}`).sort()).toEqual(expected.sort());
      const reasons: Record<string, RegExp> = {
        'CT.LAMBDA.PR.3': /sets no `vpc`/,
        'CT.CLOUDWATCH.PR.2': /logs\.retentionDays is \d+/,
        'CT.S3.PR.10': /statusPage\.vpcEndpointIds/,
        'CT.CLOUDFRONT.PR.6': /statusPage\.domainName/,
        'CT.CLOUDFRONT.PR.7': /statusPage\.domainName/,
        'CT.CLOUDFRONT.PR.9': /statusPage\.domainName/,
      };
      for (const finding of acknowledged) expect(finding.reason).toMatch(reasons[finding.control] ?? /\w+ \w+ \w+/);
    });

    it('keeps CloudFormation rule findings as errors (validateAgainstDefaultRules) in the synthesized app', () => {
      expect(scenario.current.app.node.tryGetContext('@aws-cdk/core:validateAgainstDefaultRules')).toBe(true);
    });

    it('has one stack per probe region, named RegionWatch-<region>, account-agnostic with an explicit region', () => {
      const { assembly, config } = scenario.current;
      const stacks = assembly.stacks.map((s) => ({ name: s.stackName, region: s.environment.region, account: s.environment.account }));
      expect(stacks.map((s) => s.name).sort()).toEqual(config.probeRegions.map(stackName).sort());
      for (const s of stacks) {
        expect(s.name).toBe(stackName(s.region));
        expect(s.account).toBe('unknown-account');
      }
    });

    it('replicates both global tables to exactly the probe regions, from the home stack only', () => {
      const { config, template } = scenario.current;
      const replicas = config.probeRegions.filter((r) => r !== config.homeRegion).concat(config.homeRegion);
      for (const table of ['results', 'incidents']) {
        template(config.homeRegion).hasResourceProperties('AWS::DynamoDB::GlobalTable', {
          TableName: `${config.platform}-regionwatch-${table}`,
          Replicas: replicas.map((region) => Match.objectLike({ Region: region })),
        });
      }
      for (const region of config.probeRegions.filter((r) => r !== config.homeRegion)) {
        template(region).resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
      }
    });

    it('deploys the home stack first: every other stack depends on it', () => {
      const { assembly, config } = scenario.current;
      for (const region of config.probeRegions) {
        const deps = assembly
          .getStackByName(stackName(region))
          .dependencies.map((d) => d.id)
          .filter((id) => id.startsWith('RegionWatch-') && !id.endsWith('.assets'));
        expect(deps).toEqual(region === config.homeRegion ? [] : [stackName(config.homeRegion)]);
      }
    });

    it('gives every region the same functions, stream mapping and alarms (and the home region the status page)', () => {
      const { config, json } = scenario.current;
      const names = resourceNames(config.platform);
      const channels = [
        ...(options.slack ? [names.slackNotifierFunction] : []),
        ...config.notifications.pagerDuty.map((p) => names.pagerDutyFunction(p.name)),
        ...config.notifications.webhooks.map((w) => names.webhookFunction(w.name)),
      ];
      const page = config.statusPage.mode !== 'off';
      for (const region of config.probeRegions) {
        const home = region === config.homeRegion;
        const functions = [names.aggregatorFunction, names.proberFunction, ...channels, ...(home && page ? [names.statusRendererFunction] : [])].sort();
        const found = Object.values(resourcesOfType(json(region), 'AWS::Lambda::Function'))
          .map((f) => f.Properties?.FunctionName)
          .filter((n): n is string => typeof n === 'string');
        expect(found.sort()).toEqual(functions);
        // The aggregator's stream mapping, the prober's rounds-queue mapping (confirmation requests come on it too),
        // and at home the renderer's stream mapping.
        expect(Object.keys(resourcesOfType(json(region), 'AWS::Lambda::EventSourceMapping'))).toHaveLength(2 + (home && page ? 1 : 0));
        // The cost model prices the same count: DEFAULT_ASSUMPTIONS.alarmsPerRegion, a dead-letter alarm per channel
        // notifier, and the status page's two at home.
        const alarms = Object.keys(resourcesOfType(json(region), 'AWS::CloudWatch::Alarm'));
        // With rounds in shards, the incomplete rounds alarm too.
        expect(alarms).toHaveLength(DEFAULT_ASSUMPTIONS.alarmsPerRegion + (home && page ? 1 : 0) + (shardPlan(config).shards > 1 ? 1 : 0));
      }
      const estimate = estimateCost(config);
      const total = config.probeRegions.reduce((n, r) => n + Object.keys(resourcesOfType(json(r), 'AWS::CloudWatch::Alarm')).length, 0);
      expect(estimate.lines.find((l) => l.item.startsWith('alarms'))?.quantity).toBe(total);
    });
  });
}
