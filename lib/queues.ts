// Queues: dead-letter and failure queues (encrypted with SSE-SQS, TLS only, kept 14 days for replay) and the helpers that wire a function to a queue.
import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { BindableFunction } from './binding';

/**
 * A queue that is itself the end of the line for failed work: what lands here is alarmed on and replayed by hand.
 *
 * Its RedriveAllowPolicy says which SQS queues may use it as their dead-letter queue. `sourceQueueArns` are those
 * queues (byQueue: only them); each must have a fixed name, since it names this queue and this queue names it. A
 * queue that only Lambda or SNS send failures to has no source queue, and gets allowAll, which is SQS's own default
 * for a queue without the policy, rather than the truer denyAll: CT.SQS.PR.1 counts a queue as a dead-letter queue
 * only with allowAll or byQueue, and would demand a dead-letter queue behind it, which would only move the same
 * messages again (and an operator reading a message would move it there). A Control Tower hook enforces that control
 * at deploy time, where no acknowledgement reaches.
 */
export function deadLetterQueue(scope: Construct, id: string, what: string, sourceQueueArns: readonly string[] = []): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    redriveAllowPolicy:
      sourceQueueArns.length > 0
        ? {
            redrivePermission: sqs.RedrivePermission.BY_QUEUE,
            sourceQueues: sourceQueueArns.map((arn, i) => sqs.Queue.fromQueueArn(scope, `${id}Source${i}`, arn)),
          }
        : { redrivePermission: sqs.RedrivePermission.ALLOW_ALL },
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is the dead-letter destination for ${what}; a DLQ behind it would only move the same messages again. An alarm fires on its first message.`,
  });
  return queue;
}

/**
 * The region's one queue for what failed every retry: the prober's round messages (its rounds queue's dead-letter
 * queue, so `roundsQueueArn` alone may redrive here), the aggregator's poison and failed stream records, each channel
 * notifier's undeliverable notifications (Lambda's on-failure destination and the SNS subscription's dead-letter queue)
 * and the status page renderer's failed batches. One queue, one alarm ($0.10 a month each): one per source was five
 * alarms in the home region and three in each other for a queue that is empty unless something broke. What failed is
 * in the message: a round message names its slot and probe region, a Lambda failure record its function
 * (`requestContext.functionArn`) and the error, an SNS message its topic, a quarantined stream record its reason.
 */
export function parkedMessagesQueue(scope: Construct, id: string, roundsQueueArn: string): sqs.Queue {
  return deadLetterQueue(
    scope,
    id,
    "everything in its region that failed every retry (the prober's rounds queue, the aggregator's stream records, the channel notifiers, the status page renderer)",
    [roundsQueueArn],
  );
}

/**
 * Lets `fn` send to `queue` itself: sets `envName` to the queue's URL and grants exactly sqs:SendMessage on it,
 * together, so the variable and the permission cannot drift apart. (SSE-SQS queues need no KMS grant.)
 */
export function bindQueueSender(fn: BindableFunction, queue: sqs.IQueue, envName: string): void {
  fn.addEnvironment(envName, queue.queueUrl);
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
}

/**
 * A Lambda destination (async on-failure) that sends to `queue`, granting the function only
 * sqs:SendMessage on it (the stock SqsDestination also grants GetQueueAttributes and GetQueueUrl).
 */
export function queueDestination(fn: BindableFunction, queue: sqs.IQueue): lambda.IDestination {
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
  return { bind: () => ({ destination: queue.queueArn }) };
}

export interface QueueEventSourceOptions {
  /** Messages per invocation. */
  readonly batchSize: number;
  /** Concurrent invocations the mapping may start (2 to 1,000); keep it under the function's reserved concurrency. */
  readonly maxConcurrency: number;
}

/**
 * An SQS event source mapping that reports partial batch failures, with exactly the actions Lambda's poller
 * needs on that queue alone (the stock SqsEventSource also grants sqs:GetQueueUrl). The mapping waits for the
 * grant: Lambda checks the role when the mapping is created.
 */
export function queueEventSource(
  scope: Construct,
  id: string,
  fn: BindableFunction & { readonly function: lambda.IFunction; readonly role: iam.IRole },
  queue: sqs.IQueue,
  options: QueueEventSourceOptions,
): lambda.EventSourceMapping {
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
      resources: [queue.queueArn],
    }),
  );
  const mapping = new lambda.EventSourceMapping(scope, id, {
    target: fn.function,
    eventSourceArn: queue.queueArn,
    batchSize: options.batchSize,
    reportBatchItemFailures: true,
    maxConcurrency: options.maxConcurrency,
  });
  mapping.node.addDependency(fn.role);
  return mapping;
}
