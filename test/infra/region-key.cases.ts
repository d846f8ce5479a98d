// The region's one customer managed key: both topics and every log group use it; its policy denies grants that are
// not for AWS resources (CT.KMS.PR.3) and lets CloudWatch Logs use it for this account's log groups in its region only.
import { describe, expect, it } from 'vitest';
import { REGION_KEY_LOGICAL_ID } from '../../lib/region-key';
import { rendered, resourcesOfType, type Scenario } from './synth';

/** Cases for any synthesized scenario; `label` names the config in test titles. */
export function regionKeyCases(label: string, scenario: { readonly current: Scenario }): void {
  describe(`the region key with ${label}`, () => {
    it('is one rotating key per region, under the logical id it had when the notifier owned it (an upgrade keeps the key)', () => {
      const { config, json } = scenario.current;
      for (const region of config.probeRegions) {
        const keys = Object.entries(json(region).Resources).filter(([, r]) => r.Type === 'AWS::KMS::Key');
        expect(keys.map(([id]) => id)).toEqual([REGION_KEY_LOGICAL_ID]);
        expect(keys[0]?.[1].Properties?.EnableKeyRotation).toBe(true);
      }
    });

    it('denies kms:CreateGrant unless the grant is for an AWS resource or asked by an AWS service, and lets CloudWatch Logs use it for this region only', () => {
      const { config, json, stack } = scenario.current;
      for (const region of config.probeRegions) {
        const key = resourcesOfType(json(region), 'AWS::KMS::Key').NotificationsKey;
        const statements = (rendered(stack(region), key?.Properties?.KeyPolicy) as { Statement: Record<string, unknown>[] }).Statement;
        expect(statements).toContainEqual({
          Sid: 'GrantsOnlyForAwsResources',
          Action: 'kms:CreateGrant',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Resource: '*',
          Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
        });
        const forLogs = statements.filter((s) => JSON.stringify(s.Principal).includes('logs.'));
        expect(forLogs).toEqual([
          {
            Sid: 'CloudWatchLogsOfThisRegion',
            Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'],
            Effect: 'Allow',
            Principal: { Service: `logs.${region}.amazonaws.com` },
            Resource: '*',
            Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:${region}:\${AWS::AccountId}:log-group:*` } },
          },
        ]);
        // Nothing else is allowed kms:CreateGrant by name: only the account's own administration statement (kms:*), which the deny narrows.
        const allowsGrants = statements.filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Action).includes('CreateGrant'));
        expect(allowsGrants).toEqual([]);
      }
    });

    it(`encrypts every log group with it and keeps them ${'`logs.retentionDays`'}`, () => {
      const { config, json, stack } = scenario.current;
      for (const region of config.probeRegions) {
        const groups = Object.values(resourcesOfType(json(region), 'AWS::Logs::LogGroup'));
        // Prober, aggregator and heartbeat log groups at least; the Slack notifier's and the stream custom resource's where they exist.
        expect(groups.length).toBeGreaterThanOrEqual(3);
        for (const group of groups) {
          expect(rendered(stack(region), group.Properties)).toMatchObject({ KmsKeyId: '${NotificationsKey.Arn}', RetentionInDays: config.logs.retentionDays });
        }
      }
    });
  });
}
