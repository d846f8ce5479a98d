// The hosted status page: a KMS-encrypted, versioned, TLS-only, private bucket written by a renderer on the incident
// table's stream (and a schedule), served by CloudFront through origin access control, or read through VPC endpoints.
import { describe, expect, it } from 'vitest';
import { STATUS_PAGE_CSP } from '../../lambda/status-page/html';
import { rendered, resourcesOfType, roleStatements, type Scenario } from './synth';

/** Cases for the example config (public, on its own domain). */
export function statusPageCases(scenario: { readonly current: Scenario }): void {
  describe('StatusPage (public, on its own domain)', () => {
    it('exists in the home region only', () => {
      const { json } = scenario.current;
      expect(Object.keys(resourcesOfType(json('us-east-1'), 'AWS::S3::Bucket'))).toEqual(['StatusPageFiles']);
      expect(Object.keys(resourcesOfType(json('us-east-1'), 'AWS::CloudFront::Distribution'))).toEqual(['StatusPageDistribution']);
      for (const region of ['eu-west-1', 'ap-southeast-1']) {
        expect(resourcesOfType(json(region), 'AWS::S3::Bucket')).toEqual({});
        expect(resourcesOfType(json(region), 'AWS::CloudFront::Distribution')).toEqual({});
      }
    });

    it('keeps its files in a private, versioned, TLS-only bucket encrypted with the region key, retained; writes reach EventBridge', () => {
      const { json, stack } = scenario.current;
      const home = stack('us-east-1');
      const bucket = resourcesOfType(json('us-east-1'), 'AWS::S3::Bucket').StatusPageFiles;
      expect(bucket?.DeletionPolicy).toBe('Retain');
      expect(rendered(home, bucket?.Properties)).toMatchObject({
        // CT.S3.PR.10, with an S3 Bucket Key (S3 asks KMS for a data key now and then, not per request).
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { KMSMasterKeyID: '${NotificationsKey.Arn}', SSEAlgorithm: 'aws:kms' } }] },
        // CT.S3.PR.4, natively (no custom-resource Lambda).
        NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        VersioningConfiguration: { Status: 'Enabled' },
        LifecycleConfiguration: { Rules: [{ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, NoncurrentVersionExpiration: { NoncurrentDays: 1 }, Status: 'Enabled' }] },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      });
      const policy = rendered(home, resourcesOfType(json('us-east-1'), 'AWS::S3::BucketPolicy').StatusPageFilesPolicy?.Properties) as { PolicyDocument: { Statement: unknown[] } };
      expect(policy.PolicyDocument.Statement).toEqual([
        { Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Effect: 'Deny', Principal: { AWS: '*' }, Resource: ['${StatusPageFiles.Arn}', '${StatusPageFiles.Arn}/*'] },
        { Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } }, Effect: 'Deny', Principal: { AWS: '*' }, Resource: ['${StatusPageFiles.Arn}', '${StatusPageFiles.Arn}/*'] },
        // Only this distribution, through origin access control, reads the files.
        {
          Action: 's3:GetObject',
          Condition: { StringEquals: { 'AWS:SourceArn': 'arn:aws:cloudfront::${AWS::AccountId}:distribution/${StatusPageDistribution}' } },
          Effect: 'Allow',
          Principal: { Service: 'cloudfront.amazonaws.com' },
          Resource: '${StatusPageFiles.Arn}/*',
        },
      ]);
    });

    it('serves it through CloudFront with origin access control, HTTPS only, TLS 1.2+, and the page CSP', () => {
      const { json, stack } = scenario.current;
      const home = stack('us-east-1');
      const config = (rendered(home, resourcesOfType(json('us-east-1'), 'AWS::CloudFront::Distribution').StatusPageDistribution?.Properties) as { DistributionConfig: Record<string, unknown> }).DistributionConfig;
      expect(config).toMatchObject({
        Aliases: ['status.acme.example'],
        DefaultRootObject: 'index.html',
        HttpVersion: 'http2and3',
        PriceClass: 'PriceClass_100',
        DefaultCacheBehavior: { AllowedMethods: ['GET', 'HEAD'], ViewerProtocolPolicy: 'redirect-to-https', Compress: true, ResponseHeadersPolicyId: '${StatusPageHeaders}' },
        Origins: [{ DomainName: '${StatusPageFiles.RegionalDomainName}', OriginAccessControlId: '${StatusPageDistributionOrigin1S3OriginAccessControl.Id}', S3OriginConfig: { OriginAccessIdentity: '' } }],
        ViewerCertificate: {
          AcmCertificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d',
          MinimumProtocolVersion: 'TLSv1.2_2021',
          SslSupportMethod: 'sni-only',
        },
      });
      // Origin access control decrypts with the region key: the key policy cannot name the distribution (a cycle), the
      // bucket policy above does.
      const key = resourcesOfType(json('us-east-1'), 'AWS::KMS::Key').NotificationsKey;
      const keyStatements = (rendered(home, key?.Properties?.KeyPolicy) as { Statement: Record<string, unknown>[] }).Statement;
      expect(keyStatements.filter((s) => JSON.stringify(s.Principal).includes('cloudfront'))).toEqual([
        {
          Action: 'kms:Decrypt',
          Condition: { ArnLike: { 'AWS:SourceArn': 'arn:aws:cloudfront::${AWS::AccountId}:distribution/*' } },
          Effect: 'Allow',
          Principal: { Service: 'cloudfront.amazonaws.com' },
          Resource: '*',
        },
      ]);
      const oac = Object.values(resourcesOfType(json('us-east-1'), 'AWS::CloudFront::OriginAccessControl'))[0]?.Properties;
      expect(oac).toMatchObject({ OriginAccessControlConfig: { OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' } });
      const headers = resourcesOfType(json('us-east-1'), 'AWS::CloudFront::ResponseHeadersPolicy').StatusPageHeaders?.Properties as { ResponseHeadersPolicyConfig: { SecurityHeadersConfig: Record<string, unknown> } };
      expect(headers.ResponseHeadersPolicyConfig.SecurityHeadersConfig).toMatchObject({
        ContentSecurityPolicy: { ContentSecurityPolicy: STATUS_PAGE_CSP, Override: true },
        StrictTransportSecurity: { AccessControlMaxAgeSec: 31536000, IncludeSubdomains: true, Override: true },
        FrameOptions: { FrameOption: 'DENY', Override: true },
      });
      expect(json('us-east-1')).toMatchObject({ Outputs: { StatusPageUrl: { Value: 'https://status.acme.example/' } } });
    });

    it('renders on the incident table stream (incident, status and checker items only) and every five minutes', () => {
      const { json, stack } = scenario.current;
      const home = stack('us-east-1');
      expect(rendered(home, resourcesOfType(json('us-east-1'), 'AWS::Lambda::EventSourceMapping').StatusPageIncidentsStream?.Properties)).toEqual({
        BatchSize: 100,
        DestinationConfig: { OnFailure: { Destination: '${ParkedMessages.Arn}' } },
        EventSourceArn: '${IncidentsTable.StreamArn}',
        FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ dynamodb: { NewImage: { kind: { S: ['incident', 'status', 'checker'] } } } }) }] },
        FunctionName: '${StatusPageRendererFunction}',
        MaximumBatchingWindowInSeconds: 10,
        MaximumRecordAgeInSeconds: 3600,
        MaximumRetryAttempts: 2,
        ParallelizationFactor: 1,
        StartingPosition: 'LATEST',
        Tags: expect.anything(),
      });
      expect(resourcesOfType(json('us-east-1'), 'AWS::Events::Rule').StatusPageEvery5Minutes?.Properties).toMatchObject({ ScheduleExpression: 'rate(5 minutes)' });
      // One render at a time, so an older render never overwrites a newer page.
      expect(resourcesOfType(json('us-east-1'), 'AWS::Lambda::Function').StatusPageRendererFunction?.Properties).toMatchObject({
        FunctionName: 'acme-regionwatch-status-renderer',
        ReservedConcurrentExecutions: 1,
        Environment: { Variables: { STATUS_PAGE_URL: 'https://status.acme.example/', INCIDENTS_TABLE_NAME: 'acme-regionwatch-incidents' } },
      });
    });

    it('lets the renderer read the table and its stream, write exactly the page files (with the key), and read status.json', () => {
      const statements = roleStatements(scenario.current.json('us-east-1'), 'StatusPageRendererRole');
      const files = ['index.html', 'status.json', 'incidents.json', 'feed.atom', 'badge/us.svg', 'badge/eu.svg', 'badge/apac.svg'];
      expect(statements).toEqual([
        { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: '${StatusPageRendererLogs.Arn}' },
        { Action: ['dynamodb:GetItem', 'dynamodb:Query'], Effect: 'Allow', Resource: '${IncidentsTable.Arn}' },
        { Action: 'dynamodb:Query', Effect: 'Allow', Resource: ['${IncidentsTable.Arn}/index/open-incidents', '${IncidentsTable.Arn}/index/region-incidents'] },
        { Action: 's3:PutObject', Effect: 'Allow', Resource: files.map((f) => `\${StatusPageFiles.Arn}/${f}`).sort() },
        { Action: 's3:GetObject', Effect: 'Allow', Resource: '${StatusPageFiles.Arn}/status.json' },
        // The region key for those, through S3 in this region only.
        { Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } }, Effect: 'Allow', Resource: '${NotificationsKey.Arn}' },
        { Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'], Effect: 'Allow', Resource: '${IncidentsTable.StreamArn}' },
        { Action: 'dynamodb:ListStreams', Effect: 'Allow', Resource: '*' },
        { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: '${ParkedMessages.Arn}' },
      ]);
    });

    it('links notifications from every region to the page on its own domain', () => {
      const { template } = scenario.current;
      for (const region of ['us-east-1', 'eu-west-1', 'ap-southeast-1']) {
        template(region).hasResourceProperties('AWS::Lambda::Function', {
          FunctionName: 'acme-regionwatch-webhook-opsgenie',
          Environment: { Variables: { STATUS_PAGE_URL: 'https://status.acme.example/' } },
        });
      }
    });
  });
}
