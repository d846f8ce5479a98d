// The aggregator: its region's replica stream, filtered to round items, poison records quarantined in an encrypted queue.
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { BATCHING_WINDOW_MS, RETRY_ATTEMPTS } from '../../lambda/simulate/simulator';
import { TAGS, rendered, resourcesOfType, roleStatements, type Scenario } from './synth';

/** Cases run against the example config's synthesized app (see example-app.test.ts). */
export function aggregatorCases(scenario: { readonly current: Scenario }): void {
  describe('Aggregator', () => {
    it.each(['us-east-1', 'eu-west-1', 'ap-southeast-1'])('consumes the results stream of its own region (%s) with bounded retries', (region) => {
      const { json, stack } = scenario.current;
      const s = stack(region);
      // The prober's rounds-queue mapping is the region's other one (prober.cases.ts).
      const mappings = Object.entries(resourcesOfType(json(region), 'AWS::Lambda::EventSourceMapping')).filter(([id]) => id.startsWith('Aggregator')).map(([, m]) => m);
      expect(mappings).toHaveLength(1);
      expect(rendered(s, mappings[0]?.Properties)).toEqual({
        FunctionName: '${AggregatorFunction}',
        EventSourceArn: region === 'us-east-1' ? '${ResultsTable.StreamArn}' : '${ResultsReplicaStreamDescribeReplica.Table.LatestStreamArn}',
        StartingPosition: 'LATEST',
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 2,
        ParallelizationFactor: 1,
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumRetryAttempts: 3,
        MaximumRecordAgeInSeconds: 600,
        DestinationConfig: { OnFailure: { Destination: '${ParkedMessages.Arn}' } },
        FilterCriteria: { Filters: [{ Pattern: '{"eventName":["INSERT","MODIFY"],"dynamodb":{"NewImage":{"kind":{"S":["round","confirmation"]}}}}' }] },
        Tags: TAGS,
      });
    });

    it('is what the simulator models: the batching window and retries of the deployed mapping', () => {
      const { json } = scenario.current;
      const [mapping] = Object.entries(resourcesOfType(json('us-east-1'), 'AWS::Lambda::EventSourceMapping')).filter(([id]) => id.startsWith('Aggregator')).map(([, m]) => m);
      expect({ window: BATCHING_WINDOW_MS, retries: RETRY_ATTEMPTS }).toEqual({
        window: Number(mapping?.Properties?.MaximumBatchingWindowInSeconds) * 1000,
        retries: mapping?.Properties?.MaximumRetryAttempts,
      });
    });

    it('only sees round and confirmation items inserted or modified: the filter matches INSERT/MODIFY of kind=round or confirmation', () => {
      const { json } = scenario.current;
      const [mapping] = Object.entries(resourcesOfType(json('eu-west-1'), 'AWS::Lambda::EventSourceMapping')).filter(([id]) => id.startsWith('Aggregator')).map(([, m]) => m);
      const filters = (mapping?.Properties?.FilterCriteria as { Filters: { Pattern: string }[] }).Filters;
      const pattern = JSON.parse(filters[0]?.Pattern ?? '{}') as Record<string, unknown>;
      expect(pattern).toEqual({ eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { kind: { S: ['round', 'confirmation'] } } } });
    });

    it('creates the mapping only after its role can read the stream', () => {
      const { json } = scenario.current;
      const resources = json('eu-west-1').Resources;
      const [mappingId] = Object.keys(resources).filter((id) => id.startsWith('AggregatorResultsStream'));
      const dependsOn = resources[mappingId ?? '']?.DependsOn ?? [];
      expect(dependsOn.some((d) => d.startsWith('AggregatorRoleDefaultPolicy'))).toBe(true);
    });

    it('quarantines poison records in the region\'s parked-messages queue: SSE-encrypted, TLS-only, kept 14 days (FAULTS row 9)', () => {
      const { json, stack } = scenario.current;
      const eu = stack('eu-west-1');
      const queues = resourcesOfType(json('eu-west-1'), 'AWS::SQS::Queue');
      // The rounds queue's dead-letter queue too (byQueue: only it may redrive here, CT.SQS.PR.1; lib/queues.ts).
      expect(rendered(eu, queues.ParkedMessages?.Properties)).toEqual({
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 1209600,
        RedriveAllowPolicy: { redrivePermission: 'byQueue', sourceQueueArns: ['arn:aws:sqs:eu-west-1:${AWS::AccountId}:RegionWatch-eu-west-1-prober-rounds'] },
        Tags: TAGS,
      });
      const policies = resourcesOfType(json('eu-west-1'), 'AWS::SQS::QueuePolicy');
      const statements = (rendered(eu, policies.ParkedMessagesPolicy?.Properties?.PolicyDocument) as { Statement: unknown[] }).Statement;
      expect(statements[0]).toEqual({ Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Effect: 'Deny', Principal: { AWS: '*' }, Resource: '${ParkedMessages.Arn}' });
      // Besides TLS only, SNS may park each channel's undeliverable notifications here, for this region's topic alone.
      for (const s of statements.slice(1)) expect(s).toMatchObject({ Action: 'sqs:SendMessage', Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Condition: { ArnEquals: { 'aws:SourceArn': '${NotificationsTopic}' } } });
    });

    it('sets exactly the environment the handler reads', () => {
      const { template, stack } = scenario.current;
      const eu = stack('eu-west-1');
      template('eu-west-1').hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: 'acme-regionwatch-aggregator',
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 512,
        Timeout: 60,
        Environment: {
          Variables: Match.objectEquals({
            PROBE_REGION: 'eu-west-1',
            RESULTS_TABLE_NAME: 'acme-regionwatch-results',
            INCIDENTS_TABLE_NAME: 'acme-regionwatch-incidents',
            NOTIFICATIONS_TOPIC_ARN: eu.resolve(eu.notifier.topic.topicArn),
            FAILURE_QUEUE_URL: eu.resolve(eu.aggregator.failureQueue.queueUrl),
          }),
        },
      });
    });

    it.each(['us-east-1', 'eu-west-1'])('has exactly these IAM statements in %s', (region) => {
      const { json } = scenario.current;
      const home = region === 'us-east-1';
      const arn = (table: string) => `arn:aws:dynamodb:${region}:\${AWS::AccountId}:table/acme-regionwatch-${table}`;
      expect(roleStatements(json(region), 'AggregatorRole')).toEqual([
        { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: '${AggregatorLogs.Arn}' },
        { Action: 'dynamodb:Query', Effect: 'Allow', Resource: home ? '${ResultsTable.Arn}' : arn('results') },
        {
          Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
          Effect: 'Allow',
          Resource: home ? '${ResultsTable.StreamArn}' : '${ResultsReplicaStreamDescribeReplica.Table.LatestStreamArn}',
        },
        { Action: 'dynamodb:ListStreams', Effect: 'Allow', Resource: '*' },
        {
          Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
          Effect: 'Allow',
          Resource: home ? '${IncidentsTable.Arn}' : arn('incidents'),
        },
        { Action: 'sns:Publish', Effect: 'Allow', Resource: '${NotificationsTopic}' },
        { Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Effect: 'Allow', Resource: '${NotificationsKey.Arn}' },
        // The handler's quarantine and the mapping's on-failure destination share this one statement.
        { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: '${ParkedMessages.Arn}' },
      ]);
    });
  });
}
