// The incident table: a global table with PITR, deletion protection, RETAIN and the two dashboard indexes.
import { describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { INCIDENTS_TABLE } from '../../lambda/store/tables';
import { rendered, type Scenario } from './synth';

/** Cases run against the example config's synthesized app (see example-app.test.ts). */
export function incidentsTableCases(scenario: { readonly current: Scenario }): void {
  describe('IncidentsTable', () => {
    it('is retained and protected in every replica, with point-in-time recovery', () => {
      const template = scenario.current.template('us-east-1');
      const replica = (region: string) => ({
        Region: region,
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        GlobalSecondaryIndexes: [{ IndexName: 'open-incidents' }, { IndexName: 'region-incidents' }],
        Tags: Match.anyValue(),
      });
      template.hasResource('AWS::DynamoDB::GlobalTable', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: Match.objectLike({
          TableName: 'acme-regionwatch-incidents',
          BillingMode: 'PAY_PER_REQUEST',
          SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
          Replicas: [replica('eu-west-1'), replica('ap-southeast-1'), replica('us-east-1')],
        }),
      });
    });

    it('has the indexes DESIGN.md promises, built from INCIDENTS_TABLE', () => {
      const { openIncidentsIndex: open, regionIncidentsIndex: byRegion } = INCIDENTS_TABLE;
      scenario.current.template('us-east-1').hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        TableName: 'acme-regionwatch-incidents',
        KeySchema: [
          { AttributeName: INCIDENTS_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: INCIDENTS_TABLE.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'open-incidents',
            KeySchema: [
              { AttributeName: open.partitionKey, KeyType: 'HASH' },
              { AttributeName: open.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
          {
            IndexName: 'region-incidents',
            KeySchema: [
              { AttributeName: byRegion.partitionKey, KeyType: 'HASH' },
              { AttributeName: byRegion.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      });
    });

    it('is addressed by name in the other regions', () => {
      const { stack, template } = scenario.current;
      const ap = stack('ap-southeast-1');
      template('ap-southeast-1').resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
      expect(rendered(ap, ap.incidentsTable.tableArn)).toBe('arn:aws:dynamodb:ap-southeast-1:${AWS::AccountId}:table/acme-regionwatch-incidents');
    });
  });
}
