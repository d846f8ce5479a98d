// What invokes a deployed function in the harness, each as the AWS service does: Lambda's async invocation queue
// (retries, maximum event age, destinations), an SQS event source mapping, an EventBridge schedule, and an SNS
// subscription of protocol lambda. Delays that AWS counts in minutes (async retries) are shortened and say so.
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { ScheduledEvent, SNSEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import type { LambdaFunction } from './function';
import type { InvokeOutcome } from './stream-mapping';

/** Lambda waits about a minute, then two, between async retries; the harness waits this many ms instead. */
export const ASYNC_RETRY_DELAYS_MS = [1_000, 2_000] as const;

export interface AsyncInvocation {
  requestId: string;
  event: unknown;
  attempts: InvokeOutcome[];
  /** `success`, `failed` (retries spent or too old: sent to the on-failure destination if any). */
  result?: 'success' | 'failed';
}

export interface AsyncInvoker {
  readonly invocations: AsyncInvocation[];
  /** Queues an event (InvocationType Event) and returns at once, as Lambda's Invoke API does. */
  invoke(event: unknown): AsyncInvocation;
  /** Resolves when every queued event has succeeded or failed for good. */
  settled(): Promise<void>;
}

export interface AsyncInvokerOptions {
  fn: LambdaFunction;
  maximumRetryAttempts: number;
  maximumEventAgeSeconds: number;
  onSuccess?: (record: Record<string, unknown>) => Promise<void>;
  onFailure?: (record: Record<string, unknown>) => Promise<void>;
}

export function asyncInvoker(options: AsyncInvokerOptions): AsyncInvoker {
  const invocations: AsyncInvocation[] = [];
  const running = new Set<Promise<void>>();
  const record = (invocation: AsyncInvocation, condition: string, last: InvokeOutcome): Record<string, unknown> => ({
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: { requestId: invocation.requestId, functionArn: `${options.fn.spec.functionArn}:$LATEST`, condition, approximateInvokeCount: invocation.attempts.length },
    requestPayload: invocation.event,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', ...(last.ok ? {} : { functionError: 'Unhandled' }) },
    responsePayload: last.ok ? last.response : { errorType: last.errorType, errorMessage: last.errorMessage },
  });
  const run = async (invocation: AsyncInvocation, queuedAt: number) => {
    let errors = 0;
    for (;;) {
      const outcome = await options.fn.invoke(invocation.event);
      invocation.attempts.push(outcome);
      if (outcome.ok) {
        invocation.result = 'success';
        await options.onSuccess?.(record(invocation, 'Success', outcome));
        return;
      }
      // A throttle is retried until the event is too old; a function error only MaximumRetryAttempts times.
      const throttled = outcome.errorType === 'TooManyRequestsException';
      if (!throttled) errors++;
      const tooOld = Date.now() - queuedAt > options.maximumEventAgeSeconds * 1000;
      if (tooOld || (!throttled && errors > options.maximumRetryAttempts)) {
        invocation.result = 'failed';
        await options.onFailure?.(record(invocation, tooOld ? 'EventAgeExceeded' : 'RetriesExhausted', outcome));
        return;
      }
      await delay(throttled ? 200 : (ASYNC_RETRY_DELAYS_MS[errors - 1] ?? 2_000));
    }
  };
  return {
    invocations,
    invoke(event) {
      const invocation: AsyncInvocation = { requestId: randomUUID(), event, attempts: [] };
      invocations.push(invocation);
      const task = run(invocation, Date.now()).finally(() => running.delete(task));
      running.add(task);
      return invocation;
    },
    async settled() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}

/** EventBridge's scheduled event for a rule firing at `at` (its `time` has whole seconds, as EventBridge sends it). */
export function scheduledEvent(region: string, ruleArn: string, at: number): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: ruleArn.split(':')[4] ?? '',
    time: new Date(Math.floor(at / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
    region,
    resources: [ruleArn],
    detail: {},
  };
}

/**
 * A `rate(N minute(s))` rule's schedule. EventBridge fires a rate rule at some second of each minute, a period after
 * its first trigger, and sends that second as the event's time: the harness fires on the minute until the test fires
 * it once (`fire(at)`, a rule's first trigger), and from then on a period after that, at the same second of the minute.
 */
export class Schedule {
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private readonly periodMs: number;
  readonly fired: ScheduledEvent[] = [];

  constructor(private readonly options: { expression: string; region: string; ruleArn: string; invoker: AsyncInvoker }) {
    const m = /^rate\((\d+) (minute|minutes|hour|hours)\)$/.exec(options.expression);
    if (!m) throw new Error(`schedule ${options.expression} is not modelled (rate in minutes or hours only)`);
    this.periodMs = Number(m[1]) * (m[2]?.startsWith('hour') ? 3_600_000 : 60_000);
  }

  /** Invokes the target now with an event whose time is `at` (default now); a started schedule fires next a period later. */
  fire(at = Date.now()): ScheduledEvent {
    const event = scheduledEvent(this.options.region, this.options.ruleArn, at);
    this.fired.push(event);
    this.options.invoker.invoke(event);
    if (this.started) this.next(Math.floor(at / 1000) * 1000 + this.periodMs);
    return event;
  }

  start(): void {
    this.started = true;
    this.next(Math.ceil((Date.now() + 1) / this.periodMs) * this.periodMs);
  }

  private next(due: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fire(due), Math.max(0, due - Date.now()));
  }

  stop(): void {
    this.started = false;
    clearTimeout(this.timer);
  }
}

function sqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? '',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, v]) => [
        name,
        { dataType: v.DataType ?? 'String', stringValue: v.StringValue, binaryValue: v.BinaryValue ? Buffer.from(v.BinaryValue).toString('base64') : undefined, stringListValues: [], binaryListValues: [] },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/** Lambda's SQS poller for one mapping: batches up to BatchSize, at most MaximumConcurrency invocations at once. */
export class QueueMapping {
  readonly invocations: { messageIds: string[]; outcome: InvokeOutcome }[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly options: {
      sqs: SQSClient;
      queueUrl: string;
      queueArn: string;
      region: string;
      batchSize: number;
      batchingWindowMs: number;
      maximumConcurrency: number;
      reportBatchItemFailures: boolean;
      fn: LambdaFunction;
    },
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await Promise.all([...this.inFlight]);
  }

  private async run(): Promise<void> {
    const { sqs, queueUrl, batchSize } = this.options;
    while (!this.stopped) {
      if (this.inFlight.size >= this.options.maximumConcurrency) {
        await Promise.race([...this.inFlight]);
        continue;
      }
      const batch: Message[] = [];
      const windowEnds = Date.now() + this.options.batchingWindowMs;
      do {
        // Short polls a tenth of a second apart: a delayed message is handed out within ~100 ms of becoming visible.
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: Math.min(10, batchSize - batch.length), WaitTimeSeconds: 0, AttributeNames: ['All'], MessageAttributeNames: ['All'] }),
        );
        batch.push(...Messages);
        if (batch.length >= batchSize || (batch.length > 0 && Date.now() >= windowEnds)) break;
        await delay(100);
      } while (!this.stopped);
      if (batch.length === 0) continue;
      const task = this.dispatch(batch).finally(() => this.inFlight.delete(task));
      this.inFlight.add(task);
    }
  }

  private async dispatch(batch: Message[]): Promise<void> {
    const { sqs, queueUrl, queueArn, region, fn } = this.options;
    const event: SQSEvent = { Records: batch.map((m) => sqsRecord(m, queueArn, region)) };
    const outcome = await fn.invoke(event);
    this.invocations.push({ messageIds: batch.map((m) => m.MessageId ?? ''), outcome });
    // A function error (or throttle) deletes nothing: the messages come back after the visibility timeout.
    if (!outcome.ok) return;
    let failed = new Set<string>();
    if (this.options.reportBatchItemFailures) {
      const failures = (outcome.response as { batchItemFailures?: { itemIdentifier?: unknown }[] } | null)?.batchItemFailures ?? [];
      const ids = new Set(batch.map((m) => m.MessageId));
      // An identifier that is not a message of the batch fails the whole batch.
      if (failures.some((f) => typeof f.itemIdentifier !== 'string' || !ids.has(f.itemIdentifier))) return;
      failed = new Set(failures.map((f) => String(f.itemIdentifier)));
    }
    const done = batch.filter((m) => !failed.has(m.MessageId ?? ''));
    if (done.length > 0) {
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })) }));
    }
  }
}

interface SnsEnvelope {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Subject?: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
  UnsubscribeURL: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

/** The event Lambda receives from an SNS subscription: the SNS message in Lambda's casing (SigningCertUrl, UnsubscribeUrl). */
export function snsEvent(envelope: SnsEnvelope, subscriptionArn: string): SNSEvent {
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: subscriptionArn,
        Sns: {
          Type: envelope.Type,
          MessageId: envelope.MessageId,
          TopicArn: envelope.TopicArn,
          Subject: envelope.Subject ?? '',
          Message: envelope.Message,
          Timestamp: envelope.Timestamp,
          SignatureVersion: envelope.SignatureVersion,
          Signature: envelope.Signature,
          SigningCertUrl: envelope.SigningCertURL,
          UnsubscribeUrl: envelope.UnsubscribeURL,
          MessageAttributes: envelope.MessageAttributes ?? {},
        },
      },
    ],
  };
}

/** An SNS subscription of protocol lambda: each message published to the topic is one async invocation. */
export class SnsToLambda {
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: { sqs: SQSClient; queueUrl: string; subscriptionArn: string; invoker: AsyncInvoker }) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    const { sqs, queueUrl } = this.options;
    while (!this.stopped) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      for (const message of Messages) this.options.invoker.invoke(snsEvent(JSON.parse(message.Body ?? '{}') as SnsEnvelope, this.options.subscriptionArn));
      if (Messages.length > 0) {
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })) }));
      } else await delay(100);
    }
  }
}
