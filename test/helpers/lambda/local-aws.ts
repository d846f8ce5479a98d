// The AWS a synthesized deployment runs on in the harness: its tables in DynamoDB Local (the test file's database),
// its queues, topics and buckets in fauxqs (SQS, SNS and S3), a Secrets Manager that answers GetSecretValue, every
// function of the templates that something triggers in a LambdaFunction, and the triggers themselves (stream and queue
// mappings, schedules, SNS subscriptions with their filter policies), all read from the templates. Intrinsics the harness cannot resolve fail loudly: a template
// that names a resource the harness has never heard of is a finding, not something to paper over.
import { randomUUID } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, type CreateTableCommandInput, type DescribeTableCommandOutput, type StreamViewType } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SQSClient, SendMessageCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import type { TestStore } from '../store';
import { assetDirectory, resourceOf, type CfnResource, type Deployment, type StackTemplate } from './deployment';
import { asyncInvoker, QueueMapping, Schedule, SnsToLambda, type AsyncInvoker } from './event-sources';
import { LambdaFunction, type FunctionLogLine } from './function';
import { startSqsEndpoint, type HarnessQueue, type PolicyStatement, type SqsCall, type SqsCaller } from './sqs-endpoint';
import { StreamMapping, streamMappingSettings } from './stream-mapping';

export const HARNESS_ACCOUNT = '000000000000';

/** A value in a template the harness cannot resolve to a local one. */
export class UnresolvableError extends Error {
  override readonly name = 'UnresolvableError';
}

export interface LocalAwsOptions {
  deployment: Deployment;
  /** The test file's DynamoDB Local database: every region's table requests land in it (a global table without lag). */
  store: TestStore;
  /** Which probe regions' stacks run (default: all). */
  regions?: string[];
  /** Secrets Manager's contents by name. */
  secrets?: Record<string, string>;
  /** Variables added to one function's environment beyond the template's (by function name), e.g. a test-only switch. */
  extraEnvironment?: Record<string, Record<string, string>>;
  /** Changes a function's spec before it runs: how a test breaks a deployment on purpose. */
  tamper?: (spec: LambdaFunction['spec'], stack: StackTemplate, logicalId: string) => void;
  onLog?: (line: FunctionLogLine) => void;
}

interface Physical {
  ref: string;
  attributes: Record<string, string>;
}

/** One DynamoDB request that reached DynamoDB Local through the harness's endpoint. */
export interface DynamoCall {
  region: string;
  operation: string;
  tableName?: string;
}

export class LocalAws {
  readonly functions = new Map<string, LambdaFunction>();
  readonly streamMappings = new Map<string, StreamMapping>();
  readonly queueMappings: QueueMapping[] = [];
  readonly schedules = new Map<string, Schedule>();
  readonly snsToLambda: SnsToLambda[] = [];
  /** Every DynamoDB call the functions made, in order. */
  readonly dynamoCalls: DynamoCall[] = [];
  /** Every SQS call the functions made, in order, with what the endpoint made of it (sqs-endpoint.ts). */
  readonly sqsCalls: SqsCall[] = [];
  /** Heartbeats: the on-success records a function's async destination on the default event bus received. */
  readonly busEvents: { region: string; event: Record<string, unknown> }[] = [];
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  readonly s3: S3Client;
  private readonly physical = new Map<string, Physical>();
  private readonly servers: Server[] = [];
  private readonly streams: DynamoDBStreamsClient;
  private dynamoEndpoint = '';
  private secretsEndpoint = '';
  private sqsEndpoint = '';
  private readonly queues: HarnessQueue[] = [];
  /** Each function's own access key id → the function and its role's statements: SQS authorizes by them. */
  private readonly callers = new Map<string, SqsCaller>();
  private readonly asyncInvokers = new Map<string, AsyncInvoker>();

  private constructor(
    private readonly options: LocalAwsOptions,
    readonly fauxqs: FauxqsServer,
  ) {
    const { store } = options;
    const credentials = { accessKeyId: 'harness', secretAccessKey: 'harness' };
    this.sqs = new SQSClient({ region: 'us-east-1', endpoint: fauxqs.address, credentials, useQueueUrlAsEndpoint: false });
    this.sns = new SNSClient({ region: 'us-east-1', endpoint: fauxqs.address, credentials });
    // An IP endpoint makes the SDK address buckets path-style, which fauxqs serves beside SQS and SNS.
    this.s3 = new S3Client({ region: 'us-east-1', endpoint: fauxqs.address, credentials });
    this.streams = new DynamoDBStreamsClient({ region: store.region, endpoint: store.endpoint, credentials: store.credentials });
  }

  get regions(): string[] {
    return this.options.regions ?? this.options.deployment.config.probeRegions;
  }

  stack(region: string): StackTemplate {
    const stack = this.options.deployment.stacks.find((s) => s.region === region);
    if (!stack) throw new Error(`no stack for ${region}`);
    return stack;
  }

  static async start(options: LocalAwsOptions): Promise<LocalAws> {
    const fauxqs = await startFauxqs({ port: 0, logger: false });
    const aws = new LocalAws(options, fauxqs);
    try {
      await aws.provision();
    } catch (error: unknown) {
      await aws.stop();
      throw error;
    }
    return aws;
  }

  /** The function a stack defines under a logical id starting with `prefix` (e.g. `ProberFunction`). */
  fn(region: string, prefix: string): LambdaFunction {
    const found = [...this.functions.entries()].filter(([key]) => key.startsWith(`${region}/${prefix}`));
    if (found.length !== 1) throw new Error(`expected one function ${prefix}… in ${region}, found ${found.length}`);
    return (found[0] as [string, LambdaFunction])[1];
  }

  /** A stack's schedule (rule logical id prefix), to fire by hand as a rule's first trigger. */
  schedule(region: string, prefix: string): Schedule {
    const [id] = resourceOf(this.stack(region), 'AWS::Events::Rule', prefix);
    const found = this.schedules.get(`${region}/${id}`);
    if (!found) throw new Error(`${region}/${id} is not a schedule the harness runs`);
    return found;
  }

  /** Subscribes a new queue to a stack's topic (logical id prefix) and returns its URL: what reaches it is what was published. */
  async subscribeQueue(region: string, topicPrefix: string, queueName: string): Promise<string> {
    const [topicId] = resourceOf(this.stack(region), 'AWS::SNS::Topic', topicPrefix);
    const topicArn = this.lookup(region, topicId).ref;
    const queue = this.fauxqs.createQueue(queueName, { region });
    await this.sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queue.queueArn }));
    return queue.queueUrl;
  }

  /** The physical name of a stack's bucket (logical id prefix). */
  bucketName(region: string, prefix: string): string {
    const [id] = resourceOf(this.stack(region), 'AWS::S3::Bucket', prefix);
    return this.lookup(region, id).ref;
  }

  /** Every object in a stack's bucket (logical id prefix) with its body as text and its content type: what readers get. */
  async bucketObjects(region: string, prefix: string): Promise<Map<string, { body: string; contentType: string | undefined }>> {
    const bucket = this.bucketName(region, prefix);
    const out = new Map<string, { body: string; contentType: string | undefined }>();
    const { Contents = [] } = await this.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    for (const { Key } of Contents) {
      if (Key === undefined) continue;
      const object = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
      out.set(Key, { body: (await object.Body?.transformToString()) ?? '', contentType: object.ContentType });
    }
    return out;
  }

  /** The queue URL of a stack's queue (logical id prefix). */
  queueUrl(region: string, prefix: string): string {
    const [id] = resourceOf(this.stack(region), 'AWS::SQS::Queue', prefix);
    return this.lookup(region, id).ref;
  }

  /** Starts every trigger: stream and queue mappings, SNS subscriptions to functions, and the schedules. */
  async startTriggers(options: { schedules?: boolean } = {}): Promise<void> {
    for (const mapping of this.streamMappings.values()) await mapping.start();
    for (const mapping of this.queueMappings) mapping.start();
    for (const subscription of this.snsToLambda) subscription.start();
    if (options.schedules !== false) for (const schedule of this.schedules.values()) schedule.start();
  }

  async stop(): Promise<void> {
    for (const schedule of this.schedules.values()) schedule.stop();
    await Promise.all([...this.streamMappings.values()].map((m) => m.stop()));
    await Promise.all(this.queueMappings.map((m) => m.stop()));
    await Promise.all(this.snsToLambda.map((m) => m.stop()));
    await Promise.all([...this.asyncInvokers.values()].map((a) => a.settled()));
    await Promise.all([...this.functions.values()].map((f) => f.close()));
    this.sqs.destroy();
    this.sns.destroy();
    this.s3.destroy();
    this.streams.destroy();
    for (const server of this.servers) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await this.fauxqs.stop();
  }

  private lookup(region: string, logicalId: string): Physical {
    const found = this.physical.get(`${region}/${logicalId}`);
    if (!found) throw new UnresolvableError(`${region}: ${logicalId} is not a resource the harness provides (${this.stack(region).resources[logicalId]?.Type ?? 'not in the template'})`);
    return found;
  }

  /** Resolves a template value (Ref, Fn::GetAtt, Fn::Join, pseudo parameters) to the local resource it names. */
  resolve(region: string, value: unknown, path = 'value'): string {
    if (typeof value === 'string') return value;
    if (typeof value === 'number') return String(value);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const entries = Object.entries(value);
      const [key, arg] = entries[0] ?? [];
      if (entries.length === 1 && key === 'Ref' && typeof arg === 'string') {
        const pseudo: Record<string, string> = { 'AWS::Region': region, 'AWS::AccountId': HARNESS_ACCOUNT, 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com', 'AWS::StackName': this.stack(region).stackName };
        return pseudo[arg] ?? this.lookup(region, arg).ref;
      }
      if (entries.length === 1 && key === 'Fn::GetAtt' && Array.isArray(arg)) {
        const [id, attribute] = arg as [string, string];
        const found = this.lookup(region, id).attributes[attribute];
        if (found === undefined) throw new UnresolvableError(`${path}: ${id} has no attribute ${attribute} in the harness`);
        return found;
      }
      if (entries.length === 1 && key === 'Fn::Join' && Array.isArray(arg)) {
        const [separator, parts] = arg as [string, unknown[]];
        return parts.map((part, i) => this.resolve(region, part, `${path}[${i}]`)).join(separator);
      }
    }
    throw new UnresolvableError(`${path}: cannot resolve ${JSON.stringify(value)} locally`);
  }

  private async provision(): Promise<void> {
    await this.startEndpoints();
    for (const region of this.regions) await this.provisionData(this.stack(region));
    for (const region of this.regions) this.provisionFunctions(this.stack(region));
    for (const region of this.regions) await this.provisionTriggers(this.stack(region));
  }

  /** The regional endpoints the functions are pointed at: DynamoDB (through a proxy) and Secrets Manager. */
  private async startEndpoints(): Promise<void> {
    const { store } = this.options;
    const target = new URL(store.endpoint);
    // Every region's DynamoDB endpoint is this one database: the proxy re-scopes each request's credential to the test
    // file's access key id and region (DynamoDB Local reads the scope to pick a database; it never checks signatures).
    const dynamo = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        this.recordDynamoCall(req, body);
        const authorization = String(req.headers.authorization ?? '').replace(/Credential=[^/]+\/(\d{8})\/[^/]+\/dynamodb\//, `Credential=${store.credentials.accessKeyId}/$1/${store.region}/dynamodb/`);
        const forward = request(
          { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host, authorization } },
          (upstream) => {
            res.writeHead(upstream.statusCode ?? 500, upstream.headers);
            upstream.pipe(res);
          },
        );
        forward.on('error', (error) => {
          res.writeHead(502);
          res.end(String(error));
        });
        forward.end(body);
      });
    });
    this.dynamoEndpoint = await listen(dynamo);
    this.servers.push(dynamo);

    const secrets = this.options.secrets ?? {};
    // Secrets Manager's JSON protocol, GetSecretValue only: the bundle's real client does real HTTP to it.
    const secretsServer = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        const { SecretId } = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { SecretId?: string };
        const reply = (status: number, body: unknown) => {
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify(body));
        };
        if (target !== 'secretsmanager.GetSecretValue') return reply(400, { __type: 'InvalidRequestException', message: `${target} is not served by the harness` });
        const value = SecretId === undefined ? undefined : secrets[SecretId];
        if (value === undefined) return reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
        return reply(200, {
          ARN: `arn:aws:secretsmanager:us-east-1:${HARNESS_ACCOUNT}:secret:${SecretId}-AbCdEf`,
          Name: SecretId,
          SecretString: value,
          VersionId: 'harness-version',
          VersionStages: ['AWSCURRENT'],
          CreatedDate: Math.floor(Date.now() / 1000),
        });
      });
    });
    this.secretsEndpoint = await listen(secretsServer);
    this.servers.push(secretsServer);

    const sqsEndpoint = await startSqsEndpoint({
      fauxqs: this.fauxqs.address,
      account: HARNESS_ACCOUNT,
      queues: () => this.queues,
      callerOf: (key) => this.callers.get(key),
      onCall: (call) => this.sqsCalls.push(call),
    });
    this.sqsEndpoint = sqsEndpoint.url;
    this.servers.push(sqsEndpoint.server);
  }

  private recordDynamoCall(req: IncomingMessage, body: Buffer): void {
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    const region = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
    let tableName: string | undefined;
    try {
      tableName = (JSON.parse(body.toString()) as { TableName?: string }).TableName;
    } catch {
      tableName = undefined;
    }
    this.dynamoCalls.push({ region, operation, ...(tableName !== undefined ? { tableName } : {}) });
  }

  /** Tables (from the home stack's global tables), queues, topics and buckets. */
  private async provisionData(stack: StackTemplate): Promise<void> {
    const { region } = stack;
    const set = (id: string, ref: string, attributes: Record<string, string> = {}) => this.physical.set(`${region}/${id}`, { ref, attributes });
    for (const [id, resource] of Object.entries(stack.resources)) {
      const p = resource.Properties ?? {};
      if (resource.Type === 'AWS::DynamoDB::GlobalTable' || resource.Type === 'AWS::DynamoDB::Table') {
        const table = await this.createTable(p);
        set(id, table.name, { Arn: table.arn, StreamArn: table.streamArn ?? '' });
      } else if (resource.Type === 'AWS::SQS::Queue') {
        const attributes: Record<string, string> = {};
        for (const key of ['VisibilityTimeout', 'MessageRetentionPeriod', 'DelaySeconds', 'ReceiveMessageWaitTimeSeconds', 'MaximumMessageSize']) {
          if (p[key] !== undefined) attributes[key] = String(p[key]);
        }
        // A fixed QueueName is the queue's name, as CloudFormation creates it: other regions address it by that name.
        const queue = this.fauxqs.createQueue(typeof p.QueueName === 'string' ? p.QueueName : `${stack.stackName}-${stripHash(id)}`, { region, attributes });
        this.queues.push({ region, name: queue.queueName, arn: queue.queueArn, fauxqsUrl: queue.queueUrl });
        set(id, queue.queueUrl, { Arn: queue.queueArn, QueueUrl: queue.queueUrl, QueueName: queue.queueName });
      } else if (resource.Type === 'AWS::SNS::Topic') {
        const name = `${stack.stackName}-${stripHash(id)}`;
        const { topicArn } = this.fauxqs.createTopic(name, { region });
        set(id, topicArn, { TopicArn: topicArn, TopicName: name });
      } else if (resource.Type === 'AWS::S3::Bucket') {
        if (p.BucketName !== undefined && typeof p.BucketName !== 'string') throw new UnresolvableError(`${stack.stackName}/${id}: BucketName must be a literal`);
        // CloudFormation's generated names are lowercase and start with the stack name; so are these.
        const name = typeof p.BucketName === 'string' ? p.BucketName : `${stack.stackName}-${stripHash(id)}`.toLowerCase();
        const { bucketName } = this.fauxqs.createBucket(name);
        set(id, bucketName, {
          Arn: `arn:aws:s3:::${bucketName}`,
          DomainName: `${bucketName}.s3.amazonaws.com`,
          RegionalDomainName: `${bucketName}.s3.${region}.amazonaws.com`,
        });
      } else if (resource.Type === 'AWS::Lambda::Function') {
        const name = typeof p.FunctionName === 'string' ? p.FunctionName : `${stack.stackName}-${stripHash(id)}`;
        const arn = `arn:aws:lambda:${region}:${HARNESS_ACCOUNT}:function:${name}`;
        set(id, name, { Arn: arn });
      }
    }
    // Redrive policies name other queues: set once every queue of the stack exists.
    for (const [id, resource] of Object.entries(stack.resources)) {
      const redrive = resource.Properties?.RedrivePolicy as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown } | undefined;
      if (resource.Type !== 'AWS::SQS::Queue' || redrive === undefined) continue;
      const policy = { deadLetterTargetArn: this.resolve(region, redrive.deadLetterTargetArn, `${id}.RedrivePolicy`), maxReceiveCount: redrive.maxReceiveCount };
      await this.sqs.send(new SetQueueAttributesCommand({ QueueUrl: this.lookup(region, id).ref, Attributes: { RedrivePolicy: JSON.stringify(policy) } }));
    }
    // AwsCustomResource calls CloudFormation would make at deploy time; the harness makes the ones it knows.
    for (const [id, resource] of Object.entries(stack.resources)) {
      if (resource.Type !== 'Custom::AWS') continue;
      const call = JSON.parse(String(resource.Properties?.Create ?? '{}')) as { service?: string; action?: string; parameters?: { TableName?: string } };
      if (call.service !== 'DynamoDB' || call.action !== 'describeTable' || call.parameters?.TableName === undefined) {
        throw new UnresolvableError(`${stack.stackName}/${id}: the harness does not make the custom resource call ${call.service}.${call.action}`);
      }
      const described = await this.options.store.client.send(new DescribeTableCommand({ TableName: call.parameters.TableName }));
      set(id, id, flatten(described));
    }
  }

  /** Creates a table as the template defines it (keys, indexes, stream), once: every region's replica is this table. */
  private async createTable(p: Record<string, unknown>): Promise<{ name: string; arn: string; streamArn?: string }> {
    const name = String(p.TableName);
    const { client } = this.options.store;
    const existing = await client.send(new DescribeTableCommand({ TableName: name })).catch(() => undefined);
    if (!existing) {
      const stream = p.StreamSpecification as { StreamViewType?: StreamViewType } | undefined;
      await client.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: p.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
          KeySchema: p.KeySchema as CreateTableCommandInput['KeySchema'],
          ...(p.GlobalSecondaryIndexes !== undefined
            ? { GlobalSecondaryIndexes: (p.GlobalSecondaryIndexes as { IndexName: string; KeySchema: unknown; Projection: unknown }[]).map((g) => ({ IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection })) as CreateTableCommandInput['GlobalSecondaryIndexes'] }
            : {}),
          ...(stream?.StreamViewType !== undefined ? { StreamSpecification: { StreamEnabled: true, StreamViewType: stream.StreamViewType } } : {}),
        }),
      );
    }
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    return { name, arn: Table?.TableArn ?? '', ...(Table?.LatestStreamArn !== undefined ? { streamArn: Table.LatestStreamArn } : {}) };
  }

  /** Which functions something in the stack triggers: those the harness runs. */
  private triggeredFunctions(stack: StackTemplate): Set<string> {
    const ids = new Set<string>();
    const functionId = (value: unknown): string | undefined => {
      const v = value as { Ref?: unknown; 'Fn::GetAtt'?: unknown[] } | undefined;
      const id = typeof v?.Ref === 'string' ? v.Ref : Array.isArray(v?.['Fn::GetAtt']) ? String(v['Fn::GetAtt'][0]) : undefined;
      return id !== undefined && stack.resources[id]?.Type === 'AWS::Lambda::Function' ? id : undefined;
    };
    for (const resource of Object.values(stack.resources)) {
      const p = resource.Properties ?? {};
      const found =
        resource.Type === 'AWS::Lambda::EventSourceMapping'
          ? [functionId(p.FunctionName)]
          : resource.Type === 'AWS::SNS::Subscription' && p.Protocol === 'lambda'
            ? [functionId(p.Endpoint)]
            : resource.Type === 'AWS::Events::Rule' && p.ScheduleExpression !== undefined
              ? ((p.Targets ?? []) as { Arn?: unknown }[]).map((t) => functionId(t.Arn))
              : [];
      for (const id of found) if (id !== undefined) ids.add(id);
    }
    return ids;
  }

  private provisionFunctions(stack: StackTemplate): void {
    const { region } = stack;
    for (const id of this.triggeredFunctions(stack)) {
      const resource = stack.resources[id] as CfnResource;
      const p = resource.Properties ?? {};
      const variables = ((p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<string, unknown>;
      const name = this.lookup(region, id).ref;
      // The execution role's temporary credentials, one key per function: SQS authorizes each call by its role.
      const accessKeyId = `ASIAHARNESS${String(this.callers.size).padStart(4, '0')}`;
      this.callers.set(accessKeyId, { functionName: name, statements: this.sqsStatementsOf(stack, id) });
      const platformEnvironment: Record<string, string> = {
        AWS_ACCESS_KEY_ID: accessKeyId,
        AWS_SECRET_ACCESS_KEY: 'harness',
        AWS_SESSION_TOKEN: 'harness-session',
        // The regional endpoints: the SQS front to fauxqs, the DynamoDB proxy, fauxqs for SNS and S3, the Secrets Manager
        // stand-in.
        AWS_ENDPOINT_URL_DYNAMODB: this.dynamoEndpoint,
        AWS_ENDPOINT_URL_SQS: this.sqsEndpoint,
        AWS_ENDPOINT_URL_SNS: this.fauxqs.address,
        AWS_ENDPOINT_URL_S3: this.fauxqs.address,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: this.secretsEndpoint,
      };
      const spec = {
        functionName: name,
        functionArn: this.lookup(region, id).attributes.Arn ?? '',
        region,
        taskRoot: assetDirectory(this.options.deployment, resource),
        handler: String(p.Handler),
        runtime: String(p.Runtime),
        timeoutSeconds: Number(p.Timeout ?? 3),
        memorySize: Number(p.MemorySize ?? 128),
        ...(typeof p.ReservedConcurrentExecutions === 'number' ? { reservedConcurrency: p.ReservedConcurrentExecutions } : {}),
        environment: {
          ...Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, this.resolve(region, v, `${id}.Environment.Variables.${k}`)])),
          ...this.options.extraEnvironment?.[name],
        },
        ...((p.LoggingConfig as { LogFormat?: string } | undefined)?.LogFormat !== undefined ? { logFormat: (p.LoggingConfig as { LogFormat: string }).LogFormat } : {}),
      };
      this.options.tamper?.(spec, stack, id);
      this.functions.set(`${region}/${id}`, new LambdaFunction(spec, { platformEnvironment, ...(this.options.onLog ? { onLog: this.options.onLog } : {}) }));
    }
  }

  /**
   * The SQS statements of a function's execution role: its inline policies and every AWS::IAM::Policy of the stack
   * attached to it, resources resolved. Managed policies are left out: the one the functions have (basic execution)
   * grants no SQS action.
   */
  private sqsStatementsOf(stack: StackTemplate, functionId: string): PolicyStatement[] {
    const roleId = ((stack.resources[functionId]?.Properties?.Role as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt'] ?? [])[0];
    if (roleId === undefined) throw new UnresolvableError(`${stack.stackName}/${functionId}: its Role is not a role of the stack`);
    type Statement = { Effect?: string; Action?: string | string[]; Resource?: unknown };
    const documents: { Statement?: Statement[] }[] = [];
    for (const inline of ((stack.resources[roleId]?.Properties?.Policies ?? []) as { PolicyDocument?: { Statement?: Statement[] } }[])) if (inline.PolicyDocument) documents.push(inline.PolicyDocument);
    for (const resource of Object.values(stack.resources)) {
      if (resource.Type !== 'AWS::IAM::Policy') continue;
      const roles = (resource.Properties?.Roles ?? []) as { Ref?: string }[];
      if (roles.some((r) => r.Ref === roleId)) documents.push(resource.Properties?.PolicyDocument as { Statement?: Statement[] });
    }
    const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
    return documents
      .flatMap((d) => d.Statement ?? [])
      .filter((s) => list(s.Action).some((a) => a === '*' || a.toLowerCase().startsWith('sqs:')))
      .map((s, n) => ({
        effect: s.Effect === 'Deny' ? 'Deny' : 'Allow',
        actions: list(s.Action),
        resources: list(s.Resource).map((r, i) => this.resolve(stack.region, r, `${roleId} statement ${n} Resource[${i}]`)),
      }));
  }

  /** The async invocation of a function as its EventInvokeConfig says (retries, maximum age, destinations). */
  private asyncInvokerOf(stack: StackTemplate, functionId: string): AsyncInvoker {
    const key = `${stack.region}/${functionId}`;
    const existing = this.asyncInvokers.get(key);
    if (existing) return existing;
    const configs = Object.values(stack.resources).filter(
      (r) => r.Type === 'AWS::Lambda::EventInvokeConfig' && (r.Properties?.FunctionName as { Ref?: string } | undefined)?.Ref === functionId,
    );
    const config = configs[0]?.Properties ?? {};
    const destinations = (config.DestinationConfig ?? {}) as { OnSuccess?: { Destination?: unknown }; OnFailure?: { Destination?: unknown } };
    const fn = this.functions.get(key);
    if (!fn) throw new Error(`${key} is not a function the harness runs`);
    const invoker = asyncInvoker({
      fn,
      maximumRetryAttempts: Number(config.MaximumRetryAttempts ?? 2),
      maximumEventAgeSeconds: Number(config.MaximumEventAgeInSeconds ?? 21_600),
      onSuccess: destinations.OnSuccess?.Destination === undefined ? undefined : this.destination(stack.region, destinations.OnSuccess.Destination),
      onFailure: destinations.OnFailure?.Destination === undefined ? undefined : this.destination(stack.region, destinations.OnFailure.Destination),
    });
    this.asyncInvokers.set(key, invoker);
    return invoker;
  }

  /** A destination ARN: an SQS queue of fauxqs, or the default event bus (recorded). */
  private destination(region: string, value: unknown): (record: Record<string, unknown>) => Promise<void> {
    const arn = this.resolve(region, value, 'destination');
    if (arn.startsWith('arn:aws:sqs:')) {
      const url = [...this.physical.values()].find((p) => p.attributes.Arn === arn)?.ref;
      if (url === undefined) throw new UnresolvableError(`destination ${arn} is not a queue of the deployment`);
      return async (record) => {
        await this.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(record) }));
      };
    }
    if (/^arn:aws:events:[^:]+:[^:]+:event-bus\/default$/.test(arn)) {
      return async (record) => {
        const context = record.requestContext as { condition?: string; functionArn?: string };
        const result = context.condition === 'Success' ? 'Success' : 'Failure';
        this.busEvents.push({ region, event: { source: 'lambda', 'detail-type': `Lambda Function Invocation Result - ${result}`, resources: [context.functionArn], detail: record } });
      };
    }
    throw new UnresolvableError(`destination ${arn} is neither a queue nor the default event bus`);
  }

  private async provisionTriggers(stack: StackTemplate): Promise<void> {
    const { region } = stack;
    for (const [id, resource] of Object.entries(stack.resources)) {
      const p = resource.Properties ?? {};
      if (resource.Type === 'AWS::Lambda::EventSourceMapping') {
        const functionId = String((p.FunctionName as { Ref?: string }).Ref);
        const fn = this.functions.get(`${region}/${functionId}`);
        if (!fn) throw new Error(`${stack.stackName}/${id} targets ${functionId}, which the harness does not run`);
        const sourceArn = this.resolve(region, p.EventSourceArn, `${id}.EventSourceArn`);
        if (sourceArn.includes(':sqs:') || sourceArn.startsWith('arn:aws:sqs')) {
          this.queueMappings.push(this.queueMapping(stack, id, p, sourceArn, fn));
        } else if (sourceArn.includes('/stream/')) {
          const settings = streamMappingSettings(p);
          const onFailure = settings.onFailureDestination === undefined ? undefined : this.destination(region, settings.onFailureDestination);
          this.streamMappings.set(
            `${region}/${id}`,
            new StreamMapping({
              settings,
              client: this.streams,
              streamArn: sourceArn,
              functionArn: fn.spec.functionArn,
              invoke: (event) => fn.invoke(event),
              ...(onFailure ? { onFailure: (record) => onFailure(record as unknown as Record<string, unknown>) } : {}),
            }),
          );
        } else throw new UnresolvableError(`${stack.stackName}/${id}: event source ${sourceArn} is not modelled`);
      } else if (resource.Type === 'AWS::Events::Rule' && typeof p.ScheduleExpression === 'string') {
        for (const target of (p.Targets ?? []) as { Arn?: unknown; RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number } }[]) {
          const functionId = (target.Arn as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt']?.[0];
          if (functionId === undefined || !this.functions.has(`${region}/${functionId}`)) throw new UnresolvableError(`${stack.stackName}/${id}: the schedule's target is not a function the harness runs`);
          const ruleArn = `arn:aws:events:${region}:${HARNESS_ACCOUNT}:rule/${stack.stackName}-${stripHash(id)}`;
          this.schedules.set(`${region}/${id}`, new Schedule({ expression: p.ScheduleExpression, region, ruleArn, invoker: this.asyncInvokerOf(stack, functionId) }));
        }
      } else if (resource.Type === 'AWS::SNS::Subscription' && p.Protocol === 'lambda') {
        const understood = new Set(['Protocol', 'Endpoint', 'TopicArn', 'Region', 'FilterPolicy', 'FilterPolicyScope', 'RedrivePolicy']);
        const unknown = Object.keys(p).filter((k) => !understood.has(k));
        if (unknown.length > 0) throw new UnresolvableError(`${stack.stackName}/${id}: the subscription stand-in does not model ${unknown.join(', ')}`);
        // SNS moves a message to the subscription's dead-letter queue only when Lambda refuses the async invocation
        // itself (the function is gone, or SNS's own retries to reach Lambda run out); the harness's Invoke accepts every
        // event of a function it runs, as Lambda does, so that queue stays empty. It must still be a queue of the stack.
        const redrive = p.RedrivePolicy as { deadLetterTargetArn?: unknown } | undefined;
        if (redrive !== undefined) {
          const arn = this.resolve(region, redrive.deadLetterTargetArn, `${id}.RedrivePolicy.deadLetterTargetArn`);
          if (![...this.physical.values()].some((x) => x.attributes.Arn === arn)) throw new UnresolvableError(`${stack.stackName}/${id}: dead-letter queue ${arn} is not a queue of the deployment`);
        }
        if (p.Region !== undefined && this.resolve(region, p.Region, `${id}.Region`) !== region) throw new UnresolvableError(`${stack.stackName}/${id}: cross-region subscriptions are not modelled`);
        const functionId = String((p.Endpoint as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]);
        const topicArn = this.resolve(region, p.TopicArn, `${id}.TopicArn`);
        // SNS delivers to Lambda asynchronously; the harness carries each message through a queue of its own, subscribed
        // with the template's filter policy, which fauxqs evaluates as SNS does (attributes or body, $or, anything-but …).
        const inbox = this.fauxqs.createQueue(`${stack.stackName}-${stripHash(id)}-harness`, { region });
        const filter: Record<string, string> = {};
        if (p.FilterPolicy !== undefined) filter.FilterPolicy = JSON.stringify(p.FilterPolicy);
        if (p.FilterPolicyScope !== undefined) filter.FilterPolicyScope = String(p.FilterPolicyScope);
        const { SubscriptionArn } = await this.sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: inbox.queueArn, ...(p.FilterPolicy !== undefined ? { Attributes: filter } : {}) }));
        this.snsToLambda.push(new SnsToLambda({ sqs: this.sqs, queueUrl: inbox.queueUrl, subscriptionArn: SubscriptionArn ?? `${topicArn}:${randomUUID()}`, invoker: this.asyncInvokerOf(stack, functionId) }));
      }
    }
  }

  private queueMapping(stack: StackTemplate, id: string, p: Record<string, unknown>, queueArn: string, fn: LambdaFunction): QueueMapping {
    const understood = new Set(['FunctionName', 'EventSourceArn', 'BatchSize', 'MaximumBatchingWindowInSeconds', 'FunctionResponseTypes', 'ScalingConfig', 'Enabled', 'Tags']);
    const unknown = Object.keys(p).filter((k) => !understood.has(k));
    if (unknown.length > 0) throw new UnresolvableError(`${stack.stackName}/${id}: the queue mapping stand-in does not model ${unknown.join(', ')}`);
    const url = [...this.physical.values()].find((x) => x.attributes.Arn === queueArn)?.ref;
    if (url === undefined) throw new UnresolvableError(`${stack.stackName}/${id}: ${queueArn} is not a queue of the deployment`);
    return new QueueMapping({
      sqs: this.sqs,
      queueUrl: url,
      queueArn,
      region: stack.region,
      batchSize: Number(p.BatchSize ?? 10),
      batchingWindowMs: Number(p.MaximumBatchingWindowInSeconds ?? 0) * 1000,
      maximumConcurrency: Number((p.ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency ?? 1000),
      reportBatchItemFailures: ((p.FunctionResponseTypes ?? []) as unknown[]).includes('ReportBatchItemFailures'),
      fn,
    });
  }
}

function stripHash(logicalId: string): string {
  return logicalId.replace(/[0-9A-F]{8}$/, '');
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** `{Table: {LatestStreamArn}}` → `{'Table.LatestStreamArn': …}`: the attribute names AwsCustomResource gives. */
function flatten(output: DescribeTableCommandOutput): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (value: unknown, prefix: string) => {
    if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
      for (const [k, v] of Object.entries(value)) if (k !== '$metadata') walk(v, prefix ? `${prefix}.${k}` : k);
    } else if (value !== undefined && value !== null) out[prefix] = value instanceof Date ? value.toISOString() : String(value);
  };
  walk(output, '');
  return out;
}
