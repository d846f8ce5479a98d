// A loopback HTTP server standing in for Slack's incoming webhook: records every POST and answers from a script.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export interface FakeSlackReply {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Never answer (the client's timeout must fire). */
  hang?: boolean;
}

export interface FakeSlack {
  url: string;
  requests: Array<{ method: string; path: string; headers: IncomingHttpHeaders; body: string; at: number }>;
  /** Replies in order; the last one repeats. Default: 200 "ok". */
  script(replies: FakeSlackReply[]): void;
  close(): Promise<void>;
}

export async function startFakeSlack(): Promise<FakeSlack> {
  let replies: FakeSlackReply[] = [{ status: 200, body: 'ok' }];
  const requests: FakeSlack['requests'] = [];
  const hung: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      const reply = (replies.length > 1 ? replies.shift() : replies[0]) ?? { status: 200, body: 'ok' };
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
  if (address === null || typeof address === 'string') throw new Error('fake Slack has no port');
  return {
    url: `http://127.0.0.1:${address.port}/services/T000/B000/XXXX`,
    requests,
    script(next) {
      replies = next.length > 0 ? [...next] : [{ status: 200, body: 'ok' }];
    },
    async close() {
      for (const end of hung) end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
