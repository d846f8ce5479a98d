// Local-mode sinks: the terminal line, the fsync'd JSONL file in a temp dir, the Slack webhook sink, and the fan-out.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Notification, NotificationPublisher } from '../../lambda/core/notification';
import {
  ConsolePublisher,
  FanOutPublishError,
  FanOutPublisher,
  JsonlFilePublisher,
  NotificationSinkError,
  SlackWebhookPublisher,
  formatNotificationLine,
} from '../../lambda/notify/local-sinks';
import { parseNotificationBody } from '../../lambda/notify/parse-body';
import { WebhookSecretError } from '../../lambda/notify/webhook-secret';
import { checkerNotification, degradedNotification, downNotification } from './fixtures';
import { startFakeSlack, type FakeSlack } from './fake-receiver';

let dir: string;
let slack: FakeSlack;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'regionwatch-sinks-'));
  slack = await startFakeSlack();
});
afterAll(async () => {
  await slack?.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  slack.requests.length = 0;
  slack.script([]);
});

describe('ConsolePublisher', () => {
  it('prints one readable line per notification', async () => {
    const lines: string[] = [];
    const p = new ConsolePublisher({ write: (l) => lines.push(l) });
    await p.publish(downNotification({ incidentId: 'us-00002' }));
    await p.publish(degradedNotification({ incidentId: 'us-00002' }));
    await p.publish(checkerNotification());
    // The whole incident id, as `regionwatch incidents` and the status page show it.
    expect(lines).toEqual([
      '12:04:10 [DOWN] us is down: api, write-path failing from 3/3 probe regions · incident us-00002 opened',
      '12:04:10 [READ-ONLY] us is read-only now (was down): write-path refused from 2/3 probe regions · incident us-00002',
      '13:00:00 [CHECKER] probe region ap-southeast-1 is impaired: it sees every region fail, the others do not',
    ]);
    expect(lines.every((l) => !l.includes('\n'))).toBe(true);
  });

  it('falls back to the summary when the subject is empty, and names the incident once', () => {
    expect(formatNotificationLine(downNotification({ subject: '', incidentId: 'us-00002' }))).toBe(
      '12:04:10 [DOWN] us is down: api, write-path failing from 3/3 probe regions · incident us-00002 opened',
    );
    expect(formatNotificationLine(downNotification({ subject: '[DOWN] us is down again, 3 min after recovering: incident us-00002 reopened', incidentId: 'us-00002' }))).toBe(
      '12:04:10 [DOWN] us is down again, 3 min after recovering: incident us-00002 reopened',
    );
  });

  it('turns a writer failure into a typed error', async () => {
    const p = new ConsolePublisher({
      write: () => {
        throw new Error('EPIPE');
      },
    });
    await expect(p.publish(downNotification())).rejects.toBeInstanceOf(NotificationSinkError);
  });
});

describe('JsonlFilePublisher', () => {
  it('appends the SNS body as one JSON line per notification, in order, even when published concurrently', async () => {
    const dataDir = join(dir, 'data', 'nested');
    const p = new JsonlFilePublisher({ dataDir });
    const ns: Notification[] = Array.from({ length: 20 }, (_, i) => downNotification({ dedupKey: `k${i}` }));
    await Promise.all(ns.map((n) => p.publish(n)));
    const text = await readFile(join(dataDir, 'notifications.jsonl'), 'utf8');
    const lines = text.split('\n');
    expect(lines.at(-1)).toBe('');
    const bodies = lines.slice(0, -1).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(bodies.map((b) => b.dedupKey)).toEqual(ns.map((n) => n.dedupKey));
    expect(Object.keys(bodies[0] ?? {})).toEqual(['event', 'incidentId', 'region', 'severity', 'at', 'summary', 'evidence', 'dedupKey']);
    // Each line reads back as a notification body.
    expect(parseNotificationBody(lines[0] ?? '').ok).toBe(true);
  });

  it('reports a data dir it cannot write as a typed error', async () => {
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, 'x');
    await chmod(blocker, 0o400);
    const p = new JsonlFilePublisher({ dataDir: blocker });
    const error = await p.publish(downNotification()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotificationSinkError);
    expect(error).toMatchObject({ sink: 'jsonl' });
  });
});

describe('SlackWebhookPublisher', () => {
  it('posts the Block Kit message to the webhook', async () => {
    const p = new SlackWebhookPublisher({ url: slack.url, allowLoopback: true });
    await p.publish(downNotification());
    expect(slack.requests).toHaveLength(1);
    const payload = JSON.parse(slack.requests[0]?.body ?? '{}') as { text: string; attachments: Array<{ color: string }> };
    expect(payload.text).toBe(downNotification().subject);
    expect(payload.attachments[0]?.color).toBe('#d93025');
  });

  it('refuses a loopback URL unless allowed', () => {
    expect(() => new SlackWebhookPublisher({ url: slack.url })).toThrow(WebhookSecretError);
  });
});

describe('FanOutPublisher', () => {
  it('publishes to every sink; on retry skips the sinks that already took the notification', async () => {
    const lines: string[] = [];
    let flakyCalls = 0;
    const flaky: NotificationPublisher = {
      async publish() {
        flakyCalls += 1;
        if (flakyCalls === 1) throw new NotificationSinkError('flaky down', 'flaky', true);
      },
    };
    const jsonl = new JsonlFilePublisher({ dataDir: join(dir, 'fanout') });
    const fan = new FanOutPublisher([new ConsolePublisher({ write: (l) => lines.push(l) }), jsonl, flaky]);
    const error = await fan.publish(downNotification()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FanOutPublishError);
    expect(error).toMatchObject({ name: 'FanOutPublishError', retryable: true });
    expect((error as FanOutPublishError).errors).toHaveLength(1);
    await fan.publish(downNotification());
    expect(flakyCalls).toBe(2);
    expect(lines).toHaveLength(1);
    expect((await readFile(jsonl.file, 'utf8')).trim().split('\n')).toHaveLength(1);
    // A different transition goes to all of them again.
    await fan.publish(degradedNotification());
    expect(lines).toHaveLength(2);
  });

  it('is not retryable when a sink failed for good', async () => {
    const bad: NotificationPublisher = {
      async publish() {
        throw new NotificationSinkError('read-only disk', 'jsonl', false);
      },
    };
    await expect(new FanOutPublisher([bad]).publish(downNotification())).rejects.toMatchObject({ retryable: false });
  });
});
