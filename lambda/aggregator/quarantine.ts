// The failure queue adapter: a poison stream record, whole and with its reason, sent to SQS (FAULTS row 9).
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBRecord } from 'aws-lambda';
import type { Quarantine } from './stream';

/** The message body: what an operator needs to read, fix and replay the record without the stream. */
export interface QuarantineMessage {
  kind: 'poison-record';
  reason: string;
  /** Where the record came from, so a message from any region's queue is unambiguous. */
  eventSourceARN: string | null;
  sequenceNumber: string | null;
  /** The stream record exactly as Lambda delivered it (binary attributes base64). */
  record: DynamoDBRecord;
}

export function quarantineMessage(record: DynamoDBRecord, reason: string): QuarantineMessage {
  return {
    kind: 'poison-record',
    reason,
    eventSourceARN: record.eventSourceARN ?? null,
    sequenceNumber: record.dynamodb?.SequenceNumber ?? null,
    record,
  };
}

/**
 * A `Quarantine` that sends each record to `queueUrl`. A failed send rejects (SQS down, access denied, or a record
 * larger than SQS's message limit), and the stream handler then reports the record failed instead.
 */
export function sqsQuarantine(options: { client: SQSClient; queueUrl: string }): Quarantine {
  return async (record, reason) => {
    const message = quarantineMessage(record, reason);
    await options.client.send(
      new SendMessageCommand({
        QueueUrl: options.queueUrl,
        MessageBody: JSON.stringify(message),
        MessageAttributes: { kind: { DataType: 'String', StringValue: message.kind } },
      }),
    );
  };
}
