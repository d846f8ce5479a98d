// Notifications: an encrypted, TLS-only topic only the aggregator may publish to; email and Slack subscribers.
import { describe, expect, it } from 'vitest';
import { TAGS, rendered, resourcesOfType, roleStatements, type Scenario } from './synth';

/** Cases run against the example config's synthesized app (see example-app.test.ts). */
export function notifierCases(scenario: { readonly current: Scenario }): void {
  describe('Notifier', () => {
    it('encrypts the topic with the region\'s rotating topic key (shared with the checker topic)', () => {
      const { json, stack } = scenario.current;
      const eu = stack('eu-west-1');
      const topics = resourcesOfType(json('eu-west-1'), 'AWS::SNS::Topic');
      expect(rendered(eu, topics.NotificationsTopic?.Properties)).toEqual({ DisplayName: 'regionwatch acme', KmsMasterKeyId: '${NotificationsKey.Arn}', Tags: TAGS });
      expect(resourcesOfType(json('eu-west-1'), 'AWS::KMS::Key').NotificationsKey?.Properties?.EnableKeyRotation).toBe(true);
    });

    it('has a topic policy: TLS only, and nobody but the aggregator role publishes', () => {
      const { json, stack } = scenario.current;
      const eu = stack('eu-west-1');
      const policies = resourcesOfType(json('eu-west-1'), 'AWS::SNS::TopicPolicy');
      expect(rendered(eu, policies.NotificationsTopicPolicy?.Properties)).toEqual({
        Topics: ['${NotificationsTopic}'],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'AllowPublishThroughSSLOnly',
              Action: 'sns:Publish',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Effect: 'Deny',
              Principal: '*',
              Resource: '${NotificationsTopic}',
            },
            {
              Sid: '1',
              Action: 'sns:Publish',
              Condition: { ArnNotEquals: { 'aws:PrincipalArn': ['${AggregatorRole.Arn}'] } },
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Resource: '${NotificationsTopic}',
            },
            { Sid: '2', Action: 'sns:Publish', Effect: 'Allow', Principal: { AWS: '${AggregatorRole.Arn}' }, Resource: '${NotificationsTopic}' },
          ],
        },
      });
    });

    it('subscribes every configured email and each channel notifier with its route as a filter policy and a dead-letter queue', () => {
      const { json, stack } = scenario.current;
      const eu = stack('eu-west-1');
      const subscriptions = Object.values(resourcesOfType(json('eu-west-1'), 'AWS::SNS::Subscription'))
        .map((s) => rendered(eu, s.Properties) as Record<string, unknown>)
        .filter((s) => s.TopicArn === '${NotificationsTopic}');
      const lambda = (fn: string, dlq: string, filter: unknown) => ({
        Protocol: 'lambda',
        Endpoint: `\${Notifications${fn}Function.Arn}`,
        TopicArn: '${NotificationsTopic}',
        RedrivePolicy: { deadLetterTargetArn: `\${${dlq}.Arn}` },
        FilterPolicy: filter,
      });
      expect(subscriptions).toEqual([
        { Protocol: 'email', Endpoint: 'oncall@acme.example', TopicArn: '${NotificationsTopic}' },
        // Slack gets everything but tests (notify test invokes it directly).
        lambda('SlackNotifier', 'ParkedMessages', { event: [{ 'anything-but': ['test'] }] }),
        // PagerDuty pages on down and read-only only, and always gets the resolve that pairs with a trigger.
        lambda('PagerDutyOncall', 'ParkedMessages', {
          $or: [{ event: ['opened', 'escalated'], severity: ['down', 'read-only'] }, { event: ['resolved'] }],
        }),
        lambda('WebhookOpsgenie', 'ParkedMessages', {
          $or: [{ event: ['opened', 'escalated'], severity: ['down', 'read-only', 'degraded'] }, { event: ['resolved'] }],
        }),
      ]);
      // Every channel parks in the region's one parked-messages queue (lib/queues.ts): no queue of its own.
      const queues = resourcesOfType(json('eu-west-1'), 'AWS::SQS::Queue');
      expect(Object.keys(queues).filter((q) => q.startsWith('Notifications'))).toEqual([]);
    });

    it('gives the PagerDuty notifier its secret by name, one GetItem on the incident table, and the status page link', () => {
      const { json, template } = scenario.current;
      template('eu-west-1').hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: 'acme-regionwatch-pagerduty-oncall',
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 256,
        Timeout: 15,
        Environment: {
          Variables: {
            PROBE_REGION: 'eu-west-1',
            CHANNEL_SECRET_NAME: 'regionwatch/pagerduty',
            CHANNEL_NAME: 'oncall',
            STATUS_PAGE_URL: 'https://status.acme.example/',
            INCIDENTS_TABLE_NAME: 'acme-regionwatch-incidents',
          },
        },
      });
      expect(roleStatements(json('eu-west-1'), 'NotificationsPagerDutyOncallRole')).toEqual([
        { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: '${NotificationsPagerDutyOncallLogs.Arn}' },
        { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: '${ParkedMessages.Arn}' },
        { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: 'arn:aws:secretsmanager:eu-west-1:${AWS::AccountId}:secret:regionwatch/pagerduty-??????' },
        { Action: 'dynamodb:GetItem', Effect: 'Allow', Resource: 'arn:aws:dynamodb:eu-west-1:${AWS::AccountId}:table/acme-regionwatch-incidents' },
      ]);
      expect(roleStatements(json('eu-west-1'), 'NotificationsWebhookOpsgenieRole')).toEqual([
        { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: '${NotificationsWebhookOpsgenieLogs.Arn}' },
        { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: '${ParkedMessages.Arn}' },
        { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: 'arn:aws:secretsmanager:eu-west-1:${AWS::AccountId}:secret:regionwatch/webhook-opsgenie-??????' },
      ]);
      // Never the loopback switch the tests use.
      expect(JSON.stringify(json('eu-west-1'))).not.toContain('REGIONWATCH_ALLOW_LOOPBACK');
    });

    it('names the Slack secret in the environment, never its value, and reads only that secret', () => {
      const { json, template } = scenario.current;
      template('eu-west-1').hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: 'acme-regionwatch-slack-notifier',
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Environment: { Variables: { PROBE_REGION: 'eu-west-1', SLACK_WEBHOOK_SECRET_NAME: 'regionwatch/slack-webhook' } },
      });
      expect(roleStatements(json('eu-west-1'), 'NotificationsSlackNotifierRole')).toEqual([
        { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: '${NotificationsSlackNotifierLogs.Arn}' },
        { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: '${ParkedMessages.Arn}' },
        {
          Action: 'secretsmanager:GetSecretValue',
          Effect: 'Allow',
          Resource: 'arn:aws:secretsmanager:eu-west-1:${AWS::AccountId}:secret:regionwatch/slack-webhook-??????',
        },
      ]);
      expect(JSON.stringify(json('eu-west-1'))).not.toContain('hooks.slack.com');
    });

    it('sends invocations that fail after Lambda\'s retries to the same dead-letter queue', () => {
      const { json, stack } = scenario.current;
      const eu = stack('eu-west-1');
      const configs = Object.values(resourcesOfType(json('eu-west-1'), 'AWS::Lambda::EventInvokeConfig')).map((c) => rendered(eu, c.Properties));
      expect(configs).toContainEqual({
        FunctionName: '${NotificationsSlackNotifierFunction}',
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: '${ParkedMessages.Arn}' } },
      });
    });
  });
}
