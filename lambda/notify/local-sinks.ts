// Where notifications go in local mode: one readable terminal line, an fsync'd JSONL file, a Slack webhook, and a fan-out over several.
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Notification, NotificationPublisher } from '../core/notification';
import { count } from '../core/words';
import { slackMessage } from './slack-blocks';
import { postToSlack, type SlackPostOptions } from './slack-client';
import { notificationBody } from './sns-publisher';
import { parseWebhookUrl } from './webhook-secret';

/** A local sink could not take a notification; the outbox keeps it pending. */
export class NotificationSinkError extends Error {
  override readonly name = 'NotificationSinkError';
  constructor(
    message: string,
    readonly sink: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function retryableOf(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'retryable' in error ? error.retryable === true : true;
}

/** `HH:MM:SS` of an ISO time, in UTC or local time; the ISO text itself if it does not parse. */
function clockTime(iso: string, zone: 'utc' | 'local'): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const parts = zone === 'utc' ? [d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()] : [d.getHours(), d.getMinutes(), d.getSeconds()];
  return parts.map((p) => String(p).padStart(2, '0')).join(':');
}

/**
 * One line per notification: its time and its subject, which is a sentence after the severity tag, with the incident
 * when the subject does not name it: `12:04:10 [DOWN] us is down: api failing from 3/3 probe regions · incident us-00002 opened`.
 * A notification without a subject (hand-made) shows its summary after the tag instead.
 */
export function formatNotificationLine(n: Notification, zone: 'utc' | 'local' = 'utc'): string {
  const subject = n.subject.replace(/\s+/g, ' ').trim();
  const text = subject !== '' ? subject : `[${n.event === 'checker' ? 'CHECKER' : n.severity.toUpperCase()}] ${n.summary.replace(/\s+/g, ' ').trim()}`;
  // The whole id: it is short (`us-00002`) and it is what `regionwatch incidents` and the status page show. The
  // terminal is a log, so it also says where an incident begins and ends.
  const what = n.event === 'opened' || n.event === 'resolved' ? ` ${n.event}` : '';
  const inc = n.incidentId !== null && !text.includes(n.incidentId) ? ` · incident ${n.incidentId}${what}` : '';
  return `${clockTime(n.at, zone)} ${text}${inc}`;
}

export interface ConsolePublisherProps {
  /** Receives one line, no trailing newline (e.g. `(line) => process.stdout.write(line + '\n')`). */
  readonly write: (line: string) => void;
  /** Clock for the leading time. Default `utc`, so the line matches the notification's `at`. */
  readonly zone?: 'utc' | 'local';
}

/** Prints one readable line per notification. */
export class ConsolePublisher implements NotificationPublisher {
  constructor(private readonly props: ConsolePublisherProps) {}

  async publish(notification: Notification): Promise<void> {
    try {
      this.props.write(formatNotificationLine(notification, this.props.zone));
    } catch (error: unknown) {
      throw new NotificationSinkError(`console: could not write ${notification.dedupKey}`, 'console', true, { cause: error });
    }
  }
}

export const NOTIFICATIONS_FILE = 'notifications.jsonl';

/** Appends each notification's SNS body (exactly what SNS would carry) as one JSON line to `<dataDir>/notifications.jsonl`, fsync'd. */
export class JsonlFilePublisher implements NotificationPublisher {
  readonly file: string;
  /** Appends run one at a time so lines never interleave. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly props: { readonly dataDir: string }) {
    this.file = join(props.dataDir, NOTIFICATIONS_FILE);
  }

  publish(notification: Notification): Promise<void> {
    const line = `${JSON.stringify(notificationBody(notification))}\n`;
    const next = this.queue.then(() => this.append(line, notification.dedupKey));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async append(line: string, dedupKey: string): Promise<void> {
    try {
      await mkdir(this.props.dataDir, { recursive: true });
      const handle = await open(this.file, 'a');
      try {
        await handle.writeFile(line, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (error: unknown) {
      const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'error';
      throw new NotificationSinkError(`jsonl: could not append ${dedupKey} to ${this.file} (${code})`, 'jsonl', code !== 'EACCES' && code !== 'EROFS', { cause: error });
    }
  }
}

export interface SlackWebhookPublisherProps {
  /** The webhook URL itself (local mode has no Secrets Manager). */
  readonly url: string;
  /** Accept an `http://127.0.0.1` URL (a local stand-in for Slack). */
  readonly allowLoopback?: boolean;
  readonly post?: SlackPostOptions;
}

/** Posts each notification to a Slack webhook with the same Block Kit message and backoff as the Lambda. */
export class SlackWebhookPublisher implements NotificationPublisher {
  private readonly url: string;

  constructor(private readonly props: SlackWebhookPublisherProps) {
    this.url = parseWebhookUrl(props.url, 'Slack webhook URL', { allowLoopback: props.allowLoopback === true });
  }

  async publish(notification: Notification): Promise<void> {
    await postToSlack(this.url, slackMessage(notificationBody(notification), notification.subject), this.props.post);
  }
}

/** Several sinks failed for one notification; `errors` says which and why. */
export class FanOutPublishError extends Error {
  override readonly name = 'FanOutPublishError';
  constructor(
    message: string,
    readonly errors: unknown[],
    readonly retryable: boolean,
  ) {
    super(message, { cause: errors[0] });
  }
}

/**
 * Publishes to every sink at once; fails if any failed. When the outbox retries, sinks that already took that
 * `dedupKey` are skipped, so the terminal and the file do not show a notification twice because Slack was slow.
 */
export class FanOutPublisher implements NotificationPublisher {
  private readonly done = new Set<string>();

  constructor(
    private readonly publishers: readonly NotificationPublisher[],
    private readonly rememberKeys = 2_000,
  ) {}

  async publish(notification: Notification): Promise<void> {
    const pending = this.publishers.map((p, i) => ({ p, key: `${i}\u0000${notification.dedupKey}` })).filter(({ key }) => !this.done.has(key));
    const settled = await Promise.allSettled(pending.map(({ p }) => p.publish(notification)));
    const errors: unknown[] = [];
    settled.forEach((s, i) => {
      const key = pending[i]?.key;
      if (s.status === 'fulfilled' && key !== undefined) this.remember(key);
      else if (s.status === 'rejected') errors.push(s.reason);
    });
    if (errors.length > 0) {
      const first = errors[0];
      throw new FanOutPublishError(
        `${errors.length} of ${count(pending.length, 'sink')} failed for ${notification.dedupKey}: ${first instanceof Error ? first.message : String(first)}`,
        errors,
        errors.every(retryableOf),
      );
    }
  }

  private remember(key: string): void {
    this.done.add(key);
    if (this.done.size > this.rememberKeys) {
      const oldest = this.done.values().next();
      if (oldest.done !== true) this.done.delete(oldest.value);
    }
  }
}
