// The status page's HTTP server on 127.0.0.1: the same files the hosted page has (rendered on each request from the
// incident table), plus /api/status and /api/incidents as older names of status.json and incidents.json.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isOwnLoopbackHost } from './loopback-guard';
import type { StatusFile } from '../status-page/files';
import { STATUS_PAGE_CSP } from '../status-page/html';

/** The port is taken by another process. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(readonly port: number) {
    super(`port ${port} on 127.0.0.1 is already in use; stop what is using it or pass --port with another port (0 picks a free one)`);
  }
}

export interface StatusSource {
  /** Every file of the page, rendered now. */
  files(): Promise<StatusFile[]>;
}

export interface StatusServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

export interface StatusServerOptions {
  port: number;
  source: StatusSource;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': STATUS_PAGE_CSP,
};

export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  let port = 0; // known once listening; no request arrives before
  const server: Server = createServer((req, res) => {
    // Only its own loopback names: a page that rebinds its name to 127.0.0.1 (DNS rebinding) sends its own Host.
    if (!isOwnLoopbackHost(req.headers.host, port)) {
      send(res, 421, 'text/plain; charset=utf-8', `this status page answers only to http://127.0.0.1:${port} (or localhost:${port})\n`);
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
      return;
    }
    route(url)
      .then(({ status, type, body }) => send(res, status, type, req.method === 'HEAD' ? '' : body))
      .catch((error: unknown) => {
        // Never a raw error on the page: one line, no stack.
        const message = error instanceof Error ? `${error.name}: ${error.message}` : 'error';
        send(res, 503, 'text/plain; charset=utf-8', `status unavailable (${message})\n`);
      });
  });
  server.keepAliveTimeout = 1000;

  /** Older names kept for dashboards that read them. */
  const ALIASES: Record<string, string> = { '/': 'index.html', '/api/status': 'status.json', '/api/incidents': 'incidents.json' };

  async function route(url: URL): Promise<{ status: number; type: string; body: string }> {
    if (url.pathname === '/favicon.ico') return { status: 204, type: 'text/plain', body: '' };
    const path = ALIASES[url.pathname] ?? url.pathname.slice(1);
    const file = (await options.source.files()).find((f) => f.path === path);
    if (file) return { status: 200, type: file.contentType, body: file.body };
    return { status: 404, type: 'text/plain; charset=utf-8', body: 'not found: try / , /status.json, /incidents.json, /feed.atom or /badge/<region>.svg\n' };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(options.port) : error);
    });
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
