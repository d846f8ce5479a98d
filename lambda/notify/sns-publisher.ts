// The SNS adapter for notifications: builds DESIGN.md's SNS message and publishes it, turning every failure into a typed error.
import { createHash } from 'node:crypto';
import { PublishCommand, type PublishCommandInput, type SNSClient } from '@aws-sdk/client-sns';
import { fallbackSubject } from '../core/incident-text';
import type { Notification, NotificationBody, NotificationPublisher } from '../core/notification';

/** SNS subject limit: AWS documents "less than 100 characters"; we keep to 99 so either reading holds. */
export const SNS_SUBJECT_MAX = 99;
/** SNS message size limit (message plus attributes), in bytes. */
export const SNS_MESSAGE_MAX_BYTES = 262_144;
/**
 * The `region` message attribute of a notification whose `region` is null (a checker notification about the checker
 * as a whole). SNS attribute values cannot be empty, and filter policies need something to match:
 * `{"region": ["us"]}` skips these, `{"region": [{"anything-but": "none"}]}` keeps only platform regions.
 */
export const NO_REGION_ATTRIBUTE = 'none';

/** Turns a subject line into one SNS accepts: printable ASCII, no line breaks, starts with a visible character, at most 99 characters. */
export function sanitizeSubject(subject: string, fallback = 'regionwatch notification'): string {
  const ascii = subject
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // accents off letters: "é" -> "e"
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/[\u2013\u2014]/g, '-')
    .replace(/\u2026/g, '...')
    .replace(/[\r\n\t\f\v]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/ {2,}/g, ' ')
    .trim();
  const line = ascii === '' ? fallback : ascii;
  return line.length <= SNS_SUBJECT_MAX ? line : `${line.slice(0, SNS_SUBJECT_MAX - 3).trimEnd()}...`;
}

/** Exactly DESIGN.md's body, in its key order, whatever else the notification object carries. */
export function notificationBody(n: NotificationBody): NotificationBody {
  return {
    event: n.event,
    incidentId: n.incidentId,
    region: n.region,
    severity: n.severity,
    at: n.at,
    summary: n.summary,
    evidence: n.evidence,
    dedupKey: n.dedupKey,
  };
}

/**
 * Keeps the body under SNS's size limit without dropping the notification: first the per-probe-region detail goes,
 * then targets beyond what fits (the summary still names the situation). Real incidents never get near 256 KB.
 */
export function fitBody(body: NotificationBody, maxBytes = SNS_MESSAGE_MAX_BYTES - 2_048): string {
  const first = JSON.stringify(body);
  if (Buffer.byteLength(first) <= maxBytes) return first;
  const slim: NotificationBody = { ...body, evidence: { ...body.evidence, targets: body.evidence.targets.map((t) => ({ ...t, seenBy: [] })) } };
  let targets = slim.evidence.targets;
  let text = JSON.stringify(slim);
  while (Buffer.byteLength(text) > maxBytes && targets.length > 0) {
    targets = targets.slice(0, Math.floor(targets.length / 2));
    text = JSON.stringify({ ...slim, evidence: { ...slim.evidence, targets } });
  }
  return text;
}

/** The message attributes SNS filter policies match (`event`, `region`, `severity`), as strings. */
export function notificationAttributes(body: Pick<NotificationBody, 'event' | 'region' | 'severity'>): Record<'event' | 'region' | 'severity', string> {
  return { event: body.event, region: body.region ?? NO_REGION_ATTRIBUTE, severity: body.severity };
}

/** The SNS PublishCommand input for a notification (pure). FIFO topics get a group per region and a deduplication id from `dedupKey`. */
export function toPublishInput(notification: Notification, topicArn: string): PublishCommandInput {
  const body = notificationBody(notification);
  const input: PublishCommandInput = {
    TopicArn: topicArn,
    Subject: sanitizeSubject(notification.subject, fallbackSubject(body)),
    Message: fitBody(body),
    MessageAttributes: Object.fromEntries(Object.entries(notificationAttributes(body)).map(([k, v]) => [k, { DataType: 'String', StringValue: v }])),
  };
  if (topicArn.endsWith('.fifo')) {
    input.MessageGroupId = body.region ?? NO_REGION_ATTRIBUTE;
    // SNS allows 128 characters from a restricted set: a hash of the key fits and keeps "same key, same id".
    input.MessageDeduplicationId = createHash('sha256').update(body.dedupKey).digest('hex');
  }
  return input;
}

/** Why a publish failed, in the words the outbox and the checker's alarms use. */
export type PublishFailureKind = 'throttled' | 'access-denied' | 'kms' | 'not-found' | 'invalid' | 'network' | 'service' | 'unknown';

/**
 * A notification that could not be delivered. The outbox keeps it pending whatever the kind; `retryable` says whether
 * trying again soon may help (throttling, network, SNS or KMS hiccups) or whether someone must fix something first
 * (access denied, topic gone, key disabled) — the checker alarm should say which.
 */
export class NotificationPublishError extends Error {
  override readonly name = 'NotificationPublishError';
  constructor(
    message: string,
    readonly kind: PublishFailureKind,
    readonly retryable: boolean,
    /** The AWS error code (`ThrottledException`, `AuthorizationErrorException`, ...) or the system error code. */
    readonly code: string | undefined,
    readonly dedupKey: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const KIND_BY_CODE: Record<string, { kind: PublishFailureKind; retryable: boolean }> = {
  ThrottledException: { kind: 'throttled', retryable: true },
  Throttling: { kind: 'throttled', retryable: true },
  ThrottlingException: { kind: 'throttled', retryable: true },
  TooManyRequestsException: { kind: 'throttled', retryable: true },
  KMSThrottlingException: { kind: 'kms', retryable: true },
  KMSAccessDeniedException: { kind: 'kms', retryable: false },
  KMSDisabledException: { kind: 'kms', retryable: false },
  KMSInvalidStateException: { kind: 'kms', retryable: false },
  KMSNotFoundException: { kind: 'kms', retryable: false },
  KMSOptInRequired: { kind: 'kms', retryable: false },
  AuthorizationErrorException: { kind: 'access-denied', retryable: false },
  AccessDeniedException: { kind: 'access-denied', retryable: false },
  AccessDenied: { kind: 'access-denied', retryable: false },
  InvalidClientTokenId: { kind: 'access-denied', retryable: false },
  UnrecognizedClientException: { kind: 'access-denied', retryable: false },
  ExpiredTokenException: { kind: 'access-denied', retryable: true },
  CredentialsProviderError: { kind: 'access-denied', retryable: false },
  NotFoundException: { kind: 'not-found', retryable: false },
  NotFound: { kind: 'not-found', retryable: false },
  InvalidParameterException: { kind: 'invalid', retryable: false },
  InvalidParameterValueException: { kind: 'invalid', retryable: false },
  ValidationError: { kind: 'invalid', retryable: false },
  InternalErrorException: { kind: 'service', retryable: true },
  InternalFailure: { kind: 'service', retryable: true },
  ServiceUnavailable: { kind: 'service', retryable: true },
  TimeoutError: { kind: 'network', retryable: true },
  RequestTimeout: { kind: 'network', retryable: true },
};

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET']);

function field(error: unknown, key: string): unknown {
  return typeof error === 'object' && error !== null && key in error ? (error as Record<string, unknown>)[key] : undefined;
}

/** Classifies whatever the SNS client threw (pure, so every branch is testable without AWS). */
export function classifyPublishError(error: unknown, dedupKey: string): NotificationPublishError {
  if (error instanceof NotificationPublishError) return error;
  const name = typeof field(error, 'name') === 'string' ? (field(error, 'name') as string) : undefined;
  const sysCode = typeof field(error, 'code') === 'string' ? (field(error, 'code') as string) : undefined;
  const causeCode = field(field(error, 'cause'), 'code');
  const netCode = [sysCode, typeof causeCode === 'string' ? causeCode : undefined].find((c) => c !== undefined && NETWORK_CODES.has(c));
  const status = field(field(error, '$metadata'), 'httpStatusCode');
  const text = error instanceof Error ? error.message : String(error);

  let code = name;
  let verdict = name !== undefined ? KIND_BY_CODE[name] : undefined;
  if (verdict === undefined && netCode !== undefined) {
    code = netCode;
    verdict = { kind: 'network', retryable: true };
  }
  if (verdict === undefined && name?.startsWith('KMS')) verdict = { kind: 'kms', retryable: false };
  if (verdict === undefined && typeof status === 'number') {
    if (status === 429) verdict = { kind: 'throttled', retryable: true };
    else if (status === 401 || status === 403) verdict = { kind: 'access-denied', retryable: false };
    else if (status === 404) verdict = { kind: 'not-found', retryable: false };
    else if (status >= 500) verdict = { kind: 'service', retryable: true };
    else if (status >= 400) verdict = { kind: 'invalid', retryable: false };
  }
  // Unknown failures are worth another try: the outbox holds the notification either way.
  verdict ??= { kind: 'unknown', retryable: true };
  return new NotificationPublishError(`SNS publish of ${dedupKey} failed (${verdict.kind}${code !== undefined && code !== 'Error' ? `, ${code}` : ''}): ${text}`, verdict.kind, verdict.retryable, code, dedupKey, {
    cause: error,
  });
}

export interface SnsPublisherProps {
  /** Built once per container by the handler; its retry settings are the first line of retries. */
  readonly client: SNSClient;
  readonly topicArn: string;
}

/** Publishes notifications to the SNS topic; resolves once SNS accepted the message, throws `NotificationPublishError` otherwise. */
export class SnsPublisher implements NotificationPublisher {
  private readonly client: SNSClient;
  readonly topicArn: string;

  constructor(props: SnsPublisherProps) {
    if (!props.topicArn.startsWith('arn:')) throw new Error(`SnsPublisher: topicArn must be an SNS topic ARN, got "${props.topicArn}"`);
    this.client = props.client;
    this.topicArn = props.topicArn;
  }

  async publish(notification: Notification): Promise<void> {
    await this.publishWithId(notification);
  }

  /** Like `publish`, returning SNS's message id for the outbox record. */
  async publishWithId(notification: Notification): Promise<string> {
    let messageId: string | undefined;
    try {
      const out = await this.client.send(new PublishCommand(toPublishInput(notification, this.topicArn)));
      messageId = out.MessageId;
    } catch (error: unknown) {
      throw classifyPublishError(error, notification.dedupKey);
    }
    if (messageId === undefined || messageId === '') {
      throw new NotificationPublishError(`SNS publish of ${notification.dedupKey} returned no MessageId`, 'service', true, undefined, notification.dedupKey);
    }
    return messageId;
  }
}
