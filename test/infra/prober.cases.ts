// The prober: Node 24 on arm64, started every minute, one invocation per round or confirmation request through its
// rounds queue, its region's replica, its claims table and exactly the queue actions it needs.
import { describe, expect, it } from 'vitest';
import { CONFIRMATIONS_MAX_CONCURRENCY, proberReservedConcurrency, ROUNDS_MAX_RECEIVE_COUNT, roundsMappingConcurrency } from '../../lib/prober';
import { shardPlan } from '../../lambda/config/capacity';
import { TAGS, rendered, resourcesOfType, roleStatements, type Scenario } from './synth';

/** The prober's one SQS mapping, on its rounds queue: rounds and confirmation requests alike. */
const ROUNDS_MAPPING = {
  FunctionName: '${ProberFunction}',
  EventSourceArn: '${ProberRounds.Arn}',
  BatchSize: 1,
  FunctionResponseTypes: ['ReportBatchItemFailures'],
  // A confirmation waits up to minFaultSeconds before it checks: it must not hold a queued round back.
  ScalingConfig: { MaximumConcurrency: 2 + CONFIRMATIONS_MAX_CONCURRENCY },
  Tags: TAGS,
};

/** Cases run against the example config's synthesized app (see example-app.test.ts). */
export function proberCases(scenario: { readonly current: Scenario }): void {
  describe('Prober', () => {
    it('is a named Node 24 arm64 function at 256 MB, 70 s (the queue fallback runs a whole minute), reserved concurrency 5', () => {
      const eu = scenario.current.stack('eu-west-1');
      const fn = Object.values(scenario.current.template('eu-west-1').findResources('AWS::Lambda::Function', { Properties: { FunctionName: 'acme-regionwatch-prober' } }))[0];
      expect(rendered(eu, fn?.Properties)).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 256,
        Timeout: 70,
        ReservedConcurrentExecutions: 5,
        Environment: {
          Variables: {
            PROBE_REGION: 'eu-west-1',
            RESULTS_TABLE_NAME: 'acme-regionwatch-results',
            CLAIMS_TABLE_NAME: 'acme-regionwatch-prober-claims',
            ROUNDS_QUEUE_URL: '${ProberRounds}',
            // Confirmation requests go to the probe regions' rounds queues: one URL, the prober puts the region in.
            CONFIRMATIONS_QUEUE_URL: 'https://sqs.{region}.${AWS::URLSuffix}/${AWS::AccountId}/RegionWatch-{region}-prober-rounds',
          },
        },
      });
      // The scheduled run always has a slot next to the most queued rounds and confirmations the mapping may run at once:
      // one shard, one queued round at a time and one still writing (Lambda's floor is 2), and 2 confirmations.
      const { config } = scenario.current;
      const aligned = { ...config, probing: { ...config.probing, detection: 'rounds' as const } };
      expect(shardPlan(config).shards).toBe(1);
      expect(roundsMappingConcurrency(config)).toBe(2 + CONFIRMATIONS_MAX_CONCURRENCY);
      expect(proberReservedConcurrency(config)).toBe(2 + CONFIRMATIONS_MAX_CONCURRENCY + 1);
      expect(roundsMappingConcurrency(aligned)).toBe(2);
      expect(proberReservedConcurrency(aligned)).toBe(2 + 1);
    });

    it('takes confirmation requests on its rounds queue: no queue of their own (its idle polls were most of their cost), room for them beside the rounds', () => {
      const { json, stack } = scenario.current;
      const eu = stack('eu-west-1');
      expect(Object.keys(resourcesOfType(json('eu-west-1'), 'AWS::SQS::Queue')).filter((id) => id.startsWith('ProberConfirmations'))).toEqual([]);
      const mappings = Object.values(resourcesOfType(json('eu-west-1'), 'AWS::Lambda::EventSourceMapping')).filter((m) => rendered(eu, m.Properties?.FunctionName) === '${ProberFunction}');
      expect(mappings.map((m) => rendered(eu, m.Properties))).toEqual([ROUNDS_MAPPING]);
    });

    it('queues later rounds on an encrypted, TLS-only queue whose failures are retried once, then parked in the region\'s parked-messages queue', () => {
      const { json, stack } = scenario.current;
      const eu = stack('eu-west-1');
      const queues = resourcesOfType(json('eu-west-1'), 'AWS::SQS::Queue');
      expect(rendered(eu, queues.ProberRounds?.Properties)).toEqual({
        // Named, because its dead-letter queue's RedriveAllowPolicy names it; the stack name first, for the dashboard's queue search.
        QueueName: 'RegionWatch-eu-west-1-prober-rounds',
        SqsManagedSseEnabled: true,
        // Lambda requires at least the function's timeout (70 s).
        VisibilityTimeout: 120,
        MessageRetentionPeriod: 900,
        RedrivePolicy: { deadLetterTargetArn: '${ParkedMessages.Arn}', maxReceiveCount: ROUNDS_MAX_RECEIVE_COUNT },
        Tags: TAGS,
      });
      expect(ROUNDS_MAX_RECEIVE_COUNT).toBe(2);
      // Its dead-letter queue is the region's parked-messages queue (its RedriveAllowPolicy names this queue: the
      // aggregator cases pin it), not one of its own.
      expect(Object.keys(queues).filter((id) => id.startsWith('Prober'))).toEqual(['ProberRounds']);

      const policies = Object.entries(resourcesOfType(json('eu-west-1'), 'AWS::SQS::QueuePolicy')).filter(([id]) => id.startsWith('ProberRounds'));
      expect(policies).toHaveLength(1);
      for (const [, policy] of policies) {
        expect(rendered(eu, policy.Properties?.PolicyDocument)).toMatchObject({
          Statement: [{ Action: 'sqs:*', Effect: 'Deny', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }],
        });
      }
    });

    it('serves each queued round in its own invocation: batch size 1, no batching window, partial batch failures, at most 2 at once beside 2 confirmations', () => {
      const { json, stack } = scenario.current;
      const eu = stack('eu-west-1');
      const mappings = Object.entries(resourcesOfType(json('eu-west-1'), 'AWS::Lambda::EventSourceMapping')).filter(([id]) => id.startsWith('ProberRounds'));
      expect(mappings).toHaveLength(1);
      const mapping = mappings[0]?.[1];
      expect(rendered(eu, mapping?.Properties)).toEqual(ROUNDS_MAPPING);
      // Lambda checks the role when it creates the mapping: the grant comes first.
      expect((mapping?.DependsOn ?? []).some((d) => d.startsWith('ProberRoleDefaultPolicy'))).toBe(true);
    });

    it('runs every minute; neither EventBridge nor Lambda retries a late run, and a success is sent to the default bus', () => {
      const { template, stack } = scenario.current;
      const eu = stack('eu-west-1');
      template('eu-west-1').hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 minute)',
        Targets: [{ Arn: eu.resolve(eu.prober.fn.function.functionArn), Id: 'Target0', RetryPolicy: { MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 0 } }],
      });
      const configs = template('eu-west-1').findResources('AWS::Lambda::EventInvokeConfig');
      const proberConfig = Object.values(configs).find((r) => JSON.stringify(r).includes('ProberFunction'));
      expect(rendered(eu, proberConfig?.Properties)).toEqual({
        FunctionName: '${ProberFunction}',
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 0,
        MaximumEventAgeInSeconds: 60,
        DestinationConfig: { OnSuccess: { Destination: 'arn:aws:events:eu-west-1:${AWS::AccountId}:event-bus/default' } },
      });
    });

    it("has a log group kept a year and encrypted with the region's key, written only by its own role", () => {
      const { json, template, stack } = scenario.current;
      const eu = stack('eu-west-1');
      expect(rendered(eu, resourcesOfType(json('eu-west-1'), 'AWS::Logs::LogGroup').ProberLogs?.Properties)).toEqual({
        KmsKeyId: '${NotificationsKey.Arn}',
        RetentionInDays: 365,
        Tags: TAGS,
      });
      template('eu-west-1').hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: 'acme-regionwatch-prober',
        LoggingConfig: { LogGroup: eu.resolve(eu.prober.fn.logGroup.logGroupName), LogFormat: 'JSON', SystemLogLevel: 'WARN' },
      });
    });

    it("sends only Lambda's warnings, not START/END/REPORT per invocation, for the two busy functions (logs.invocationReports off; the cost model prices no platform lines for them)", () => {
      const { json, config } = scenario.current;
      expect(config.logs.invocationReports).toBe(false);
      const levels = Object.values(resourcesOfType(json('eu-west-1'), 'AWS::Lambda::Function')).map((f) => [
        f.Properties?.FunctionName ?? f.Properties?.Description,
        (f.Properties?.LoggingConfig as { SystemLogLevel?: string } | undefined)?.SystemLogLevel,
      ]);
      expect(levels).toContainEqual(['acme-regionwatch-prober', 'WARN']);
      expect(levels).toContainEqual(['acme-regionwatch-aggregator', 'WARN']);
      // The channel notifiers run a few times a month: their REPORT lines stay.
      expect(levels.filter(([, level]) => level === 'INFO').map(([name]) => name)).toEqual(['acme-regionwatch-slack-notifier', 'acme-regionwatch-pagerduty-oncall', 'acme-regionwatch-webhook-opsgenie']);
    });

    it.each(['us-east-1', 'eu-west-1'])('has exactly these IAM statements in %s', (region) => {
      const { json } = scenario.current;
      const table = region === 'us-east-1' ? '${ResultsTable.Arn}' : `arn:aws:dynamodb:${region}:\${AWS::AccountId}:table/acme-regionwatch-results`;
      expect(roleStatements(json(region), 'ProberRole')).toEqual([
        { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: '${ProberLogs.Arn}' },
        { Action: 'events:PutEvents', Effect: 'Allow', Resource: `arn:aws:events:${region}:\${AWS::AccountId}:event-bus/default` },
        // Rounds and confirmations (PutItem) and its own newest checks (Query), in the rounds partition only …
        {
          Action: ['dynamodb:PutItem', 'dynamodb:Query'],
          Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['rounds'] } },
          Effect: 'Allow',
          Resource: table,
        },
        // … and its claims in its own region's claims table (PutItem, UpdateItem for a slot's confirmation claim).
        { Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'], Effect: 'Allow', Resource: '${ClaimsTable.Arn}' },
        // Sending (the scheduled run queues the minute's later rounds, a round asks for confirmations) and what the event source mapping's poller needs, on its rounds queue …
        {
          Action: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:SendMessage'],
          Effect: 'Allow',
          Resource: '${ProberRounds.Arn}',
        },
        // … and sending a confirmation request to the other probe regions' rounds queues, by name and region.
        {
          Action: 'sqs:SendMessage',
          Effect: 'Allow',
          Resource: ['ap-southeast-1', 'eu-west-1', 'us-east-1'].filter((r) => r !== region).map((r) => `arn:aws:sqs:${r}:\${AWS::AccountId}:RegionWatch-${r}-prober-rounds`),
        },
      ]);
    });

    it.each(['us-east-1', 'eu-west-1', 'ap-southeast-1'])('claims its minutes and slots in a regional table of its own in %s: never replicated, TTL, on-demand, encrypted', (region) => {
      const template = scenario.current.template(region);
      // A plain table: a claim replicated to the other regions, and its TTL delete replicated back, was four paid writes more.
      template.resourceCountIs('AWS::DynamoDB::Table', 1);
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        TableName: 'acme-regionwatch-prober-claims',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        SSESpecification: { SSEEnabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
      const table = Object.values(template.findResources('AWS::DynamoDB::Table'))[0] as { Properties: Record<string, unknown> };
      expect(table.Properties.StreamSpecification).toBeUndefined();
      expect(table.Properties.Replicas).toBeUndefined();
    });

    it('has a role with no managed policies, assumable by Lambda only', () => {
      scenario.current.template('eu-west-1').hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }] },
        Description: 'regionwatch prober: checks every target of every platform region once per slot (execution role)',
      });
      const roles = scenario.current.template('eu-west-1').findResources('AWS::IAM::Role');
      const prober = Object.entries(roles).find(([id]) => id.startsWith('ProberRole'));
      expect(prober?.[1].Properties.ManagedPolicyArns).toBeUndefined();
    });
  });
}
