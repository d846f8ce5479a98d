// SQS as the deployed functions reach it in the harness: every region's SQS endpoint is one front to fauxqs that does
// what AWS does and fauxqs does not. A queue URL names a region, an account and a queue (`https://sqs.<region>.
// amazonaws.com/<account>/<name>`, the form a prober builds for another region's rounds queue to ask it for a confirmation); a client
// signing for one region reaches only that region's queues; and a call is allowed only when the calling function's
// execution role (its identity policies in the template) allows the action on the queue's ARN. fauxqs knows none of
// that: it finds a queue by its own URL, in any region, for anyone.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One statement of an identity policy, its Action and Resource resolved to strings. */
export interface PolicyStatement {
  effect: 'Allow' | 'Deny';
  actions: string[];
  resources: string[];
}

/** The function a call came from (by its credentials), and what its role allows. */
export interface SqsCaller {
  functionName: string;
  statements: PolicyStatement[];
}

/** A queue of the deployment, as fauxqs holds it. */
export interface HarnessQueue {
  region: string;
  name: string;
  arn: string;
  /** fauxqs's own URL for it. */
  fauxqsUrl: string;
}

/** One SQS call a function made, as the endpoint judged it. */
export interface SqsCall {
  functionName: string;
  /** The region the client signed for (its endpoint's). */
  region: string;
  operation: string;
  queue?: string;
  outcome: 'forwarded' | 'no-such-queue' | 'access-denied';
}

/** IAM's action for an SQS operation: a batch call is authorized as its single action. */
export function sqsIamAction(operation: string): string {
  return `sqs:${operation.replace(/Batch$/, '')}`;
}

const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');

/** IAM's decision for one action on one resource: an explicit Deny wins, else some Allow must match. */
export function isAllowed(statements: readonly PolicyStatement[], action: string, resource: string): boolean {
  const matches = (s: PolicyStatement) => s.actions.some((a) => glob(a).test(action)) && s.resources.some((r) => glob(r).test(resource));
  if (statements.some((s) => s.effect === 'Deny' && matches(s))) return false;
  return statements.some((s) => s.effect === 'Allow' && matches(s));
}

const AWS_QUEUE_URL = /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com\/(\d{12})\/([A-Za-z0-9_-]+(?:\.fifo)?)$/;

export interface SqsEndpointOptions {
  /** fauxqs's address, where every allowed call goes on. */
  fauxqs: string;
  account: string;
  queues: () => readonly HarnessQueue[];
  /** The caller of an access key id, or undefined for a key the harness never handed out. */
  callerOf: (accessKeyId: string) => SqsCaller | undefined;
  onCall?: (call: SqsCall) => void;
}

/** Starts the endpoint on loopback; resolves with its server and URL. */
export async function startSqsEndpoint(options: SqsEndpointOptions): Promise<{ server: Server; url: string }> {
  const target = new URL(options.fauxqs);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, type: string, message: string) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': `${type};Sender` });
        res.end(JSON.stringify({ __type: `com.amazonaws.sqs#${type}`, message }));
      };
      const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const { accessKeyId, region } = credentialScope(req);
      const caller = options.callerOf(accessKeyId);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>;
      } catch {
        return reply(400, 'InvalidParameterValue', 'the harness SQS endpoint speaks the JSON protocol only');
      }
      const functionName = caller?.functionName ?? `unknown key ${accessKeyId}`;
      if (!caller) {
        options.onCall?.({ functionName, region, operation, outcome: 'access-denied' });
        return reply(403, 'InvalidClientTokenId', `The security token included in the request is invalid (${accessKeyId})`);
      }
      const queueUrl = typeof body.QueueUrl === 'string' ? body.QueueUrl : undefined;
      if (queueUrl !== undefined) {
        const queue = findQueue(options, queueUrl);
        // A client reaches its own region's endpoint: a queue of another region does not exist there.
        if (!queue || queue.region !== region) {
          options.onCall?.({ functionName, region, operation, queue: queueUrl, outcome: 'no-such-queue' });
          return reply(400, 'QueueDoesNotExist', `The specified queue does not exist (${queueUrl}, asked in ${region}).`);
        }
        const action = sqsIamAction(operation);
        if (!isAllowed(caller.statements, action, queue.arn)) {
          options.onCall?.({ functionName, region, operation, queue: queue.arn, outcome: 'access-denied' });
          return reply(403, 'AccessDenied', `User: ${functionName} is not authorized to perform: ${action} on resource: ${queue.arn} because no identity-based policy allows the ${action} action`);
        }
        body.QueueUrl = queue.fauxqsUrl;
        options.onCall?.({ functionName, region, operation, queue: queue.arn, outcome: 'forwarded' });
      } else {
        options.onCall?.({ functionName, region, operation, outcome: 'forwarded' });
      }
      const forwarded = Buffer.from(JSON.stringify(body));
      const upstream = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host, 'content-length': String(forwarded.length) } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', (error) => {
        res.writeHead(502);
        res.end(String(error));
      });
      upstream.end(forwarded);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function credentialScope(req: IncomingMessage): { accessKeyId: string; region: string } {
  const m = /Credential=([^/]+)\/\d{8}\/([^/]+)\/sqs\//.exec(String(req.headers.authorization ?? ''));
  return { accessKeyId: m?.[1] ?? '', region: m?.[2] ?? '' };
}

/** The queue a URL names: AWS's form by region, account and name, or fauxqs's own URL (a Ref in the template). */
function findQueue(options: SqsEndpointOptions, url: string): HarnessQueue | undefined {
  const aws = AWS_QUEUE_URL.exec(url);
  if (aws) {
    const [, region, account, name] = aws;
    if (account !== options.account) return undefined;
    return options.queues().find((q) => q.region === region && q.name === name);
  }
  return options.queues().find((q) => q.fauxqsUrl === url);
}
