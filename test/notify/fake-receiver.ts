// A loopback HTTP server standing in for a channel (Slack's incoming webhook, PagerDuty's Events API, a webhook
// receiver): records every POST and answers from a script.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export interface FakeReply {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Never answer (the client's timeout must fire). */
  hang?: boolean;
}

export interface FakeReceiver {
  url: string;
  requests: Array<{ method: string; path: string; headers: IncomingHttpHeaders; body: string; at: number }>;
  /** Replies in order; the last one repeats. Default: the receiver's own reply. */
  script(replies: FakeReply[]): void;
  close(): Promise<void>;
}

/** Starts a receiver at `path` whose default reply is `fallback`. */
export async function startFakeReceiver(path: string, fallback: FakeReply = { status: 200, body: 'ok' }): Promise<FakeReceiver> {
  let replies: FakeReply[] = [fallback];
  const requests: FakeReceiver['requests'] = [];
  const hung: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      const reply = (replies.length > 1 ? replies.shift() : replies[0]) ?? fallback;
      if (reply.hang === true) {
        hung.push(() => res.destroy());
        return;
      }
      res.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers });
      res.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake receiver has no port');
  return {
    url: `http://127.0.0.1:${address.port}${path}`,
    requests,
    script(next) {
      replies = next.length > 0 ? [...next] : [fallback];
    },
    async close() {
      for (const end of hung) end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type FakeSlack = FakeReceiver;
export type FakeSlackReply = FakeReply;

/** Slack's incoming webhook: 200 "ok". */
export function startFakeSlack(): Promise<FakeReceiver> {
  return startFakeReceiver('/services/T000/B000/XXXX');
}
