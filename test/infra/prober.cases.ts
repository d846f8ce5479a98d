// The prober: Node 24 on arm64, every minute, one run at a time, PutItem on its region's replica and nothing else.
import { describe, expect, it } from 'vitest';
import { rendered, roleStatements, type Scenario } from './synth';

/** Cases run against the example config's synthesized app (see example-app.test.ts). */
export function proberCases(scenario: { readonly current: Scenario }): void {
  describe('Prober', () => {
    it('is a named Node 24 arm64 function with a reasoned timeout and memory, and reserved concurrency 1', () => {
      scenario.current.template('eu-west-1').hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: 'acme-regionwatch-prober',
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 512,
        Timeout: 70,
        ReservedConcurrentExecutions: 1,
        Environment: { Variables: { PROBE_REGION: 'eu-west-1', RESULTS_TABLE_NAME: 'acme-regionwatch-results' } },
      });
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

    it('has a log group with a retention, written only by its own role', () => {
      const { template, stack } = scenario.current;
      const eu = stack('eu-west-1');
      template('eu-west-1').hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
      template('eu-west-1').hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: 'acme-regionwatch-prober',
        LoggingConfig: { LogGroup: eu.resolve(eu.prober.fn.logGroup.logGroupName), LogFormat: 'JSON' },
      });
    });

    it.each(['us-east-1', 'eu-west-1'])('has exactly these IAM statements in %s', (region) => {
      const { json } = scenario.current;
      const table = region === 'us-east-1' ? '${ResultsTable.Arn}' : `arn:aws:dynamodb:${region}:\${AWS::AccountId}:table/acme-regionwatch-results`;
      expect(roleStatements(json(region), 'ProberRole')).toEqual([
        { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: '${ProberLogs.Arn}' },
        { Action: 'events:PutEvents', Effect: 'Allow', Resource: `arn:aws:events:${region}:\${AWS::AccountId}:event-bus/default` },
        { Action: 'dynamodb:PutItem', Effect: 'Allow', Resource: table },
      ]);
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
