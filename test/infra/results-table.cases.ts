// The results table: a global table owned by the home stack, replicas in every other probe region.
import { describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { RESULTS_TABLE } from '../../lambda/store/tables';
import { rendered, resourcesOfType, type Scenario } from './synth';

/** Cases run against the example config's synthesized app (see example-app.test.ts). */
export function resultsTableCases(scenario: { readonly current: Scenario }): void {
  describe('ResultsTable', () => {
    it('is one global table in the home stack, replicated to every probe region, on-demand and KMS-encrypted', () => {
      const { template } = scenario.current;
      template('us-east-1').resourceCountIs('AWS::DynamoDB::GlobalTable', 2);
      template('us-east-1').hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        TableName: 'acme-regionwatch-results',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: RESULTS_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: RESULTS_TABLE.sortKey, KeyType: 'RANGE' },
        ],
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        Replicas: [
          Match.objectLike({ Region: 'eu-west-1' }),
          Match.objectLike({ Region: 'ap-southeast-1' }),
          Match.objectLike({ Region: 'us-east-1' }),
        ],
      });
    });

    it('has its stream (NEW_IMAGE, what the aggregator filters on) and TTL on expiresAt', () => {
      scenario.current.template('us-east-1').hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        TableName: 'acme-regionwatch-results',
        StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
        TimeToLiveSpecification: { AttributeName: RESULTS_TABLE.ttlAttribute, Enabled: true },
      });
    });

    it('is not created by the other stacks, which address their own replica by name', () => {
      for (const region of ['eu-west-1', 'ap-southeast-1']) {
        const { stack, template } = scenario.current;
        template(region).resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
        expect(rendered(stack(region), stack(region).resultsTable.tableArn)).toBe(
          `arn:aws:dynamodb:${region}:\${AWS::AccountId}:table/acme-regionwatch-results`,
        );
      }
    });

    it('reads the exact stream ARN of a replica at deploy time, with DescribeTable on that replica only', () => {
      const { json, stack } = scenario.current;
      const eu = stack('eu-west-1');
      expect(rendered(eu, eu.resultsTable.streamArn)).toBe('${ResultsReplicaStreamDescribeReplica.Table.LatestStreamArn}');
      const custom = resourcesOfType(json('eu-west-1'), 'Custom::AWS');
      expect(Object.keys(custom)).toEqual(['ResultsReplicaStreamDescribeReplica']);
      const create = JSON.parse(String(custom.ResultsReplicaStreamDescribeReplica?.Properties?.Create)) as Record<string, unknown>;
      expect(create).toMatchObject({ service: 'DynamoDB', action: 'describeTable', parameters: { TableName: 'acme-regionwatch-results' } });
      const policies = resourcesOfType(json('eu-west-1'), 'AWS::IAM::Policy');
      expect(rendered(eu, policies.ResultsReplicaStreamDescribeReplicaCustomResourcePolicy?.Properties?.PolicyDocument)).toEqual({
        Version: '2012-10-17',
        Statement: [{ Action: 'dynamodb:DescribeTable', Effect: 'Allow', Resource: 'arn:aws:dynamodb:eu-west-1:${AWS::AccountId}:table/acme-regionwatch-results' }],
      });
    });

    it('uses the global table\'s own stream attribute in the home region', () => {
      const { stack } = scenario.current;
      const home = stack('us-east-1');
      expect(rendered(home, home.resultsTable.streamArn)).toBe('${ResultsTable.StreamArn}');
      scenario.current.template('us-east-1').resourceCountIs('Custom::AWS', 0);
    });
  });
}
