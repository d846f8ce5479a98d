// Reading what reached a queue of the in-process SQS emulator (fauxqs): shared by the SNS, quarantine and prober tests.
import { ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';

/** Everything in the queue right now (fauxqs delivers synchronously; bounded: ten receives at most). */
export async function drainQueue(sqs: SQSClient, url: string): Promise<Message[]> {
  const out: Message[] = [];
  for (let i = 0; i < 10; i += 1) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }));
    const got = r.Messages ?? [];
    out.push(...got);
    if (got.length === 0) break;
  }
  return out;
}
