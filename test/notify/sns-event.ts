// SNS events as Lambda receives them: from what SnsPublisher published, or from what a subscribed queue got (fauxqs).
import type { Message } from '@aws-sdk/client-sqs';
import type { SNSEvent, SNSEventRecord } from 'aws-lambda';
import type { Notification } from '../../lambda/core/notification';
import { toPublishInput } from '../../lambda/notify/sns-publisher';

export const TOPIC = 'arn:aws:sns:us-east-1:123456789012:regionwatch-notifications';

export function snsRecord(message: string, messageId: string, subject?: string, attributes: SNSEventRecord['Sns']['MessageAttributes'] = {}): SNSEventRecord {
  return {
    EventVersion: '1.0',
    EventSubscriptionArn: `${TOPIC}:sub`,
    EventSource: 'aws:sns',
    Sns: {
      SignatureVersion: '1',
      Timestamp: '2026-04-11T12:04:11.000Z',
      Signature: 'x',
      SigningCertUrl: 'https://example',
      MessageId: messageId,
      Message: message,
      MessageAttributes: attributes,
      Type: 'Notification',
      UnsubscribeUrl: 'https://example',
      TopicArn: TOPIC,
      Subject: subject ?? '',
    },
  };
}

/** The SNS record Lambda receives for what SnsPublisher published. */
export function recordFor(n: Notification, messageId: string): SNSEventRecord {
  const input = toPublishInput(n, TOPIC);
  return snsRecord(input.Message ?? '', messageId, input.Subject);
}

interface Envelope {
  MessageId: string;
  Subject?: string;
  Message: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

/** What SNS delivered to a subscribed queue (the JSON envelope), as the Lambda subscription would receive it. */
export function eventFromQueue(messages: readonly Message[]): SNSEvent {
  return {
    Records: messages.map((m) => {
      const e = JSON.parse(m.Body ?? '{}') as Envelope;
      return snsRecord(e.Message, e.MessageId, e.Subject, e.MessageAttributes ?? {});
    }),
  };
}
