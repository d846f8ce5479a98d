// The hosted status page (home region): an S3 bucket of rendered files, written by a renderer Lambda whenever the
// incident table changes (its stream) and every five minutes (so a silent checker shows as stale), served by
// CloudFront with origin access control (public) or read straight from S3 through VPC endpoints (private). Readers
// never touch the incident table, and the page stays up when the aggregator, the renderer or the home region's
// Lambda does not.
import { Annotations, CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { RegionwatchConfig } from '../lambda/config/schema';
import { ENV } from '../lambda/handlers/env';
import { filesEncryptedWithKey, statusFilePaths } from '../lambda/status-page/files';
import { STATUS_PAGE_CSP } from '../lambda/status-page/html';
import { STATUS_OBJECT_KEYS } from '../lambda/status-page/publish';
import { INCIDENTS_TABLE } from '../lambda/store/tables';
import { CONTROL_TOWER_RULES, acknowledgeControl } from './control-tower';
import { RegionwatchFunction, handlerEntry, type FunctionDefaults } from './function';
import type { IncidentsTable } from './incidents-table';

export interface StatusPageProps {
  /** The validated config: `statusPage` (mode, domain, endpoints, history) and what the page shows. */
  readonly config: RegionwatchConfig;
  /** The region's parked-messages queue (lib/queues.ts): stream batches that failed every render go there. */
  readonly parkedMessages: sqs.Queue;
  /** The region's key: it encrypts the files (SSE-KMS), except where readers cannot sign (see `filesEncryptedWithKey`). */
  readonly key: kms.IKey;
  /** Its home replica's stream triggers the renderer; the renderer reads it. */
  readonly incidentsTable: IncidentsTable;
  /** The region's log key and retention, and VPC, for the renderer. */
  readonly functionDefaults: FunctionDefaults;
  /** Physical name of the renderer. @default - generated */
  readonly functionName?: string;
}

/**
 * The stream mapping's settings: a burst of writes (an incident's timeline grows every slot while it is open)
 * renders once per window; a failed render is retried twice, then only its batch's coordinates land in the
 * dead-letter queue: the next change or the schedule renders everything again, so nothing is lost with it.
 */
export const STATUS_RENDER_STREAM = {
  batchSize: 100,
  maxBatchingWindow: Duration.seconds(10),
  retryAttempts: 2,
  maxRecordAge: Duration.hours(1),
} as const;

/** Every five minutes the renderer runs without a change, so the page says when the checker has gone quiet. */
export const STATUS_RENDER_SCHEDULE = Duration.minutes(5);

const DISTRIBUTION_LOGS_REASON =
  'Access logs of a public status page would record only anonymous reads of static files; they would cost more than the page. Turn on standard logging by hand if an audit needs them.';

export class StatusPage extends Construct {
  readonly bucket: s3.Bucket;
  readonly renderer: RegionwatchFunction;
  readonly deadLetters: sqs.Queue;
  readonly distribution?: cloudfront.Distribution;
  /** The page's address (`https://…/` public, `https://<bucket>…/index.html` private): notifications link to it. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: StatusPageProps) {
    super(scope, id);
    const page = props.config.statusPage;
    if (page.mode === 'off') throw new Error('StatusPage needs statusPage.mode public or private');

    const withKey = filesEncryptedWithKey(page);
    this.bucket = new s3.Bucket(this, 'Files', {
      // The region's key, with an S3 Bucket Key: S3 asks KMS for a data key now and then, not for each PUT or GET, so
      // renders and CloudFront's fetches add next to no KMS requests.
      ...(withKey ? { encryption: s3.BucketEncryption.KMS, encryptionKey: props.key, bucketKeyEnabled: true } : { encryption: s3.BucketEncryption.S3_MANAGED }),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Each render rewrites the files: a day of old versions is enough to see or roll back a bad render.
      versioned: true,
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(1), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      // Rendered files are rebuilt from the incident table on the next render; kept anyway, like the table.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CT.S3.PR.4: writes go to EventBridge's default bus (free for AWS service events; nothing listens unless you add a
    // rule, e.g. to alert on a writer other than the renderer). Set on the CloudFormation resource: CDK's own
    // `eventBridgeEnabled` would add a custom-resource Lambda for what CloudFormation does natively.
    (this.bucket.node.defaultChild as s3.CfnBucket).addPropertyOverride('NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled', true);
    const accessLogsReason =
      'Server access logs would record the renderer writing a few small files and CloudFront (or VPC-endpoint) reads of public, rendered status files; the renderer role is the only writer (IAM) and CloudTrail records its calls. Turn them on by hand if an audit needs read logs.';
    Validations.of(this.bucket).acknowledge({ id: 'AwsSolutions-S1', reason: accessLogsReason });
    acknowledgeControl(this.bucket, CONTROL_TOWER_RULES.bucketAccessLogs, accessLogsReason);
    acknowledgeControl(
      this.bucket,
      CONTROL_TOWER_RULES.bucketObjectLock,
      'Every render overwrites the same few files, rebuilt from the incident table (the record that matters); versioning keeps a day of old renders to roll back a bad one. Object Lock would keep thousands of renders a day immutable for its retention period, and the bucket could never turn it off.',
    );
    if (!withKey) {
      acknowledgeControl(
        this.bucket,
        CONTROL_TOWER_RULES.bucketKmsEncryption,
        'statusPage.vpcEndpointIds: readers inside your VPCs read the files anonymously through those S3 endpoints, and S3 refuses unsigned requests for SSE-KMS objects, so the files keep SSE-S3 (AES-256). Without vpcEndpointIds (readers with IAM credentials) they are encrypted with the region key.',
      );
    }

    this.renderer = new RegionwatchFunction(this, 'Renderer', {
      config: props.config,
      functionDefaults: props.functionDefaults,
      entry: handlerEntry('lambda/handlers/status-renderer.ts'),
      functionName: props.functionName,
      description: 'regionwatch status page renderer: renders the page files from the incident table to S3',
      // A handful of reads, a few files of HTML and JSON rendered, a few small PUTs.
      memorySize: 512,
      timeout: Duration.seconds(60),
      // One render at a time: a slower older render can never overwrite a newer page.
      reservedConcurrentExecutions: 1,
      // A failed scheduled render is not retried: the next change or schedule renders everything again.
      retryAttempts: 0,
      maxEventAge: Duration.minutes(5),
    });
    props.incidentsTable.bind(this.renderer, { access: 'read', indexes: [INCIDENTS_TABLE.openIncidentsIndex.name, INCIDENTS_TABLE.regionIncidentsIndex.name] });
    this.renderer.addEnvironment(ENV.statusBucket, this.bucket.bucketName);
    // Exactly the page's files (badges per platform region): the renderer can write nothing else into the bucket.
    const files = statusFilePaths(Object.keys(props.config.regions));
    this.renderer.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: files.map((f) => this.bucket.arnForObjects(f)) }));
    // The previous status.json says since when the page has watched (the uptime bars' "no data" before it).
    this.renderer.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects(STATUS_OBJECT_KEYS.status)] }));
    if (withKey) {
      // The key for those PUTs and that GET, only through S3 in this region.
      this.renderer.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [props.key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }

    const streamArn = props.incidentsTable.bindStream(this.renderer);
    this.deadLetters = props.parkedMessages;
    this.renderer.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetters.queueArn] }));
    const failureArn = this.deadLetters.queueArn;
    const mapping = new lambda.EventSourceMapping(this, 'IncidentsStream', {
      target: this.renderer.function,
      eventSourceArn: streamArn,
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize: STATUS_RENDER_STREAM.batchSize,
      maxBatchingWindow: STATUS_RENDER_STREAM.maxBatchingWindow,
      parallelizationFactor: 1,
      retryAttempts: STATUS_RENDER_STREAM.retryAttempts,
      maxRecordAge: STATUS_RENDER_STREAM.maxRecordAge,
      onFailure: { bind: () => ({ destination: failureArn }) },
      // What the page shows changed: an incident, a region's status or the checker. Lease renewals (every 30 s) do not
      // render; the schedule below covers the checker's liveness.
      filters: [lambda.FilterCriteria.filter({ dynamodb: { NewImage: { kind: { S: lambda.FilterRule.or('incident', 'status', 'checker') } } } })],
    });
    mapping.node.addDependency(this.renderer.role);
    new events.Rule(this, 'Every5Minutes', {
      description: 'regionwatch: re-render the status page, so it says when the checker has not reported',
      schedule: events.Schedule.rate(STATUS_RENDER_SCHEDULE),
      targets: [new targets.LambdaFunction(this.renderer.function, { retryAttempts: 0 })],
    });

    if (page.mode === 'public') {
      const certificate = page.certificateArn ? acm.Certificate.fromCertificateArn(this, 'Certificate', page.certificateArn) : undefined;
      const headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
        comment: 'regionwatch status page: CSP with the refresh script by hash, HSTS, no framing',
        securityHeadersBehavior: {
          contentSecurityPolicy: { contentSecurityPolicy: STATUS_PAGE_CSP, override: true },
          strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
          contentTypeOptions: { override: true },
          frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
          referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        },
      });
      // Origin access control on a bucket encrypted with the key adds a key policy statement for CloudFront. It cannot
      // name this distribution (key, bucket and distribution would depend on each other in a cycle), so CDK names any
      // distribution of this account and warns; the bucket policy is what names this one, and no other bucket of this
      // account holds objects under this key. (CDK warns on the key's construct, so the acknowledgement is there.)
      Annotations.of(props.key.node.scope ?? props.key).acknowledgeWarning(
        '@aws-cdk/aws-cloudfront-origins:wildcardKeyPolicyForOac',
        'The key policy lets CloudFront decrypt for any distribution of this account; only the status page bucket stores objects under the region key, and its policy lets only this distribution read.',
      );
      this.distribution = new cloudfront.Distribution(this, 'Distribution', {
        comment: `regionwatch status page of ${props.config.platform}`,
        defaultRootObject: STATUS_OBJECT_KEYS.index,
        defaultBehavior: {
          origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
          // Honours the files' own Cache-Control (15 s, stale-if-error a day): a reader sees a change within a refresh,
          // and an unreachable bucket still leaves the last page up.
          cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
          responseHeadersPolicy: headers,
          compress: true,
        },
        priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
        httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
        // TLS 1.2 or newer only: CloudFront lets a distribution choose only with a certificate of its own.
        ...(page.domainName && certificate ? { domainNames: [page.domainName], certificate, minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 } : {}),
      });
      Validations.of(this.distribution).acknowledge(
        {
          id: 'AwsSolutions-CFR1',
          reason: 'A status page is for everyone who depends on the platform, wherever they are: no geo restriction.',
        },
        {
          id: 'AwsSolutions-CFR2',
          reason: 'The page serves static, public, rendered files (GET and HEAD only) from a cache; there is nothing for a WAF to protect that would be worth its fixed monthly cost. Attach a web ACL by hand if your organisation requires one.',
        },
        { id: 'AwsSolutions-CFR3', reason: DISTRIBUTION_LOGS_REASON },
      );
      acknowledgeControl(this.distribution, CONTROL_TOWER_RULES.distributionAccessLogs, DISTRIBUTION_LOGS_REASON);
      acknowledgeControl(
        this.distribution,
        CONTROL_TOWER_RULES.distributionOriginFailover,
        'One origin: the bucket in the home region. When it cannot be read, CloudFront keeps serving the cached files (they allow stale-if-error for a day), so the page stays up with the last render; a second origin would need a bucket replicated to another region and a renderer there.',
      );
      if (!page.domainName) {
        const reason =
          'Without statusPage.domainName and certificateArn the page uses the *.cloudfront.net certificate, for which CloudFront fixes the TLSv1 security policy; set both to serve it on your domain with TLSv1.2_2021 only.';
        Validations.of(this.distribution).acknowledge({ id: 'AwsSolutions-CFR4', reason });
        acknowledgeControl(this.distribution, CONTROL_TOWER_RULES.distributionCustomCertificate, reason);
        acknowledgeControl(this.distribution, CONTROL_TOWER_RULES.distributionSni, reason);
        acknowledgeControl(this.distribution, CONTROL_TOWER_RULES.distributionViewerTls, reason);
      }
      this.url = `https://${page.domainName ?? this.distribution.distributionDomainName}/`;
    } else {
      // Private: no distribution. Anyone inside a VPC with one of the named S3 endpoints may read the files (S3 does
      // not count an endpoint-restricted policy as public); everyone else needs IAM credentials.
      if (page.vpcEndpointIds.length > 0) {
        this.bucket.addToResourcePolicy(
          new iam.PolicyStatement({
            sid: 'ReadThroughVpcEndpoints',
            principals: [new iam.AnyPrincipal()],
            actions: ['s3:GetObject'],
            resources: [this.bucket.arnForObjects('*')],
            conditions: { StringEquals: { 'aws:SourceVpce': [...page.vpcEndpointIds] } },
          }),
        );
      }
      this.url = `https://${this.bucket.bucketRegionalDomainName}/${STATUS_OBJECT_KEYS.index}`;
    }
    this.renderer.addEnvironment(ENV.statusPageUrl, this.url);
    new CfnOutput(Stack.of(this), 'StatusPageUrl', { value: this.url, description: `regionwatch status page (${page.mode})` });
  }
}
