// The status page's HTTP server on 127.0.0.1: the page, the fragment its script refreshes, and the JSON API.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isOwnLoopbackHost } from './loopback-guard';
import { renderStatusFragment, renderStatusPage, STATUS_SCRIPT_SOURCE, type IncidentView, type StatusSnapshot } from './status-page';

/** The port is taken by another process. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(readonly port: number) {
    super(`port ${port} on 127.0.0.1 is already in use; stop what is using it or pass --port with another port (0 picks a free one)`);
  }
}

export interface StatusSource {
  snapshot(): Promise<StatusSnapshot>;
  incidents(): Promise<{ open: IncidentView[]; recent: IncidentView[] }>;
}

export interface StatusServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

export interface StatusServerOptions {
  port: number;
  source: StatusSource;
  /** How often the page's script refreshes, in real milliseconds. */
  refreshMs?: number;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  // The page's one script by its hash: no 'unsafe-inline' for scripts, so markup that got in cannot run code.
  // Styles stay inline (the timeline bars are sized by style attributes); nothing of them can run.
  'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; script-src ${STATUS_SCRIPT_SOURCE}; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
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

  async function route(url: URL): Promise<{ status: number; type: string; body: string }> {
    if (url.pathname === '/') {
      const snapshot = await options.source.snapshot();
      if (url.searchParams.get('fragment') === '1') return { status: 200, type: 'text/html; charset=utf-8', body: renderStatusFragment(snapshot) };
      return { status: 200, type: 'text/html; charset=utf-8', body: renderStatusPage(snapshot, { refreshMs: options.refreshMs }) };
    }
    if (url.pathname === '/api/status') return json(await options.source.snapshot());
    if (url.pathname === '/api/incidents') return json(await options.source.incidents());
    if (url.pathname === '/favicon.ico') return { status: 204, type: 'text/plain', body: '' };
    return { status: 404, type: 'text/plain; charset=utf-8', body: 'not found: try / , /api/status or /api/incidents\n' };
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

function json(value: unknown): { status: number; type: string; body: string } {
  return { status: 200, type: 'application/json; charset=utf-8', body: `${JSON.stringify(value, null, 2)}\n` };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
