// Debian's nginx as a real platform on 127.0.0.1: platform regions whose state a test flips at run time, the faults a
// real edge produces (503s, redirects, throttled and huge bodies, gzip, TLS certificates), and its access log as the
// record of every request that reached it. Unprivileged style: config, pid, logs and temp paths in a temp dir.
import { get } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { freeTcpPort, portWasTaken, requireBinary, startDaemon, type Daemon } from './daemon';
import type { KeyPair } from './servers';

export const NGINX_PATH = '/usr/sbin/nginx';

/** What a platform region's endpoints answer. */
export type RegionState = 'up' | 'down' | 'read-only' | 'slow';

/** The TLS listeners: one port per certificate (the helpers' test certificates). */
export type TlsListener = 'valid' | 'expiringSoon' | 'selfSigned';

export interface NginxPlatformOptions {
  /** Platform regions; each answers under `/<region>/` (below). */
  regions: readonly string[];
  /** Certificates for the TLS listeners; none, no TLS. */
  tls?: Partial<Record<TlsListener, KeyPair>>;
  /** A TCP server that accepts and never answers: nginx proxies `/hang` and `/gateway-timeout` to it. */
  silentUpstreamPort?: number;
  /** A raw HTTP server (servers.ts startRawHttpServer): nginx proxies `/upgrade` and `/early-hints` to it. */
  rawUpstreamPort?: number;
  /** Connections nginx lets `/held/` serve at once (`limit_conn`); more are answered 429. Default 4. */
  heldConnections?: number;
}

/** One access log line: one request that reached nginx, as nginx saw it. */
export interface AccessLogEntry {
  /** Epoch seconds with milliseconds, when the request was logged (its end). */
  msec: number;
  port: number;
  scheme: string;
  host: string;
  method: string;
  /** The request URI as sent (path and query). */
  uri: string;
  status: number;
  /** Bytes nginx sent, headers included: for a cut body, how far it got before the client went. */
  bytesSent: number;
  requestLength: number;
  /** Requests served on this connection so far, this one included (1: a connection per request). */
  connectionRequests: number;
  probeRegion: string;
  userAgent: string;
  connection: string;
  acceptEncoding: string;
  contentLength: string;
  /** The response's Location (nginx makes a relative one absolute: absolute_redirect). */
  location: string;
  /** The response's Content-Encoding (`gzip` when nginx compressed it or served a .gz) and Transfer-Encoding. */
  contentEncoding: string;
  transferEncoding: string;
  /** `TLSv1.3` etc. on a TLS listener, empty otherwise. */
  sslProtocol: string;
  /** `r` when the TLS session was resumed, `.` when it was a full handshake. */
  sslSessionReused: string;
  requestTimeMs: number;
}

export interface NginxPlatform {
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  port: number;
  /** The TLS listeners' ports, for those given a certificate. */
  tlsPorts: Partial<Record<TlsListener, number>>;
  /**
   * Files under here are served as they are under `/site/` (index.html for a directory), typed by extension: html,
   * json, atom, svg (the status page's rendered files, as S3 behind CloudFront would serve them).
   */
  siteRoot: string;
  /** Size of `/big.bin` (sparse: it takes no disk) and the inflated size of `/bomb.txt`. */
  hugeBodyBytes: number;
  /**
   * Flips a platform region at once, for the next request (a flag file nginx tests per request, so there is no reload
   * window in which old workers still answer the old way): `down`: /health and /canary 503; `read-only`: /health 200,
   * a POST to /canary 503 `{"error":"platform is read-only"}`; `slow`: /health answers "ok" over about a second; `up`.
   */
  setState(region: string, state: RegionState): void;
  /** Every request logged so far, oldest first. */
  accessLog(): AccessLogEntry[];
  /** nginx's error log so far. */
  errorLog(): string;
  /** Stops nginx (the ports refuse connections); `start` brings it back on the same ports. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

// Every variable the access log keeps; escape=json makes each line one JSON object whatever a client sends.
const LOG_FORMAT = [
  ['msec', '$msec'],
  ['port', '$server_port'],
  ['scheme', '$scheme'],
  ['host', '$host'],
  ['method', '$request_method'],
  ['uri', '$request_uri'],
  ['status', '$status'],
  ['bytesSent', '$bytes_sent'],
  ['requestLength', '$request_length'],
  ['connectionRequests', '$connection_requests'],
  ['probeRegion', '$http_x_regionwatch_probe_region'],
  ['userAgent', '$http_user_agent'],
  ['connection', '$http_connection'],
  ['acceptEncoding', '$http_accept_encoding'],
  ['contentLength', '$http_content_length'],
  ['location', '$sent_http_location'],
  ['contentEncoding', '$sent_http_content_encoding'],
  ['transferEncoding', '$sent_http_transfer_encoding'],
  ['sslProtocol', '$ssl_protocol'],
  ['sslSessionReused', '$ssl_session_reused'],
  ['requestTime', '$request_time'],
] as const;

const GIB = 1024 * 1024 * 1024;
/** Bytes of "ok" and padding in the slow health answer and under /held/: about a second at LIMIT_RATE. */
const THROTTLED_BODY_BYTES = 1200;
const LIMIT_RATE = 1000;

/** The locations every listener serves (HTTP and each TLS port), in one file the server blocks include. */
function locations(dir: string, options: NginxPlatformOptions): string {
  const state = join(dir, 'state');
  const www = join(dir, 'www');
  const regions = options.regions.map((r) => r.replace(/[^a-z0-9-]/gi, '')).join('|');
  const silent = options.silentUpstreamPort !== undefined;
  const raw = options.rawUpstreamPort !== undefined;
  return `
root ${www};
default_type text/plain;
location = /ready { access_log off; return 204; }

# A platform region: its state is a flag file, tested on every request.
location ~ ^/(?<region>${regions})/health$ {
  if (-f ${state}/$region.down) { return 503 "$region is down\\n"; }
  if (-f ${state}/$region.slow) { rewrite ^ /throttled/health.txt last; }
  return 200 "ok\\n";
}
location ~ ^/(?<region>${regions})/canary$ {
  default_type application/json;
  if (-f ${state}/$region.down) { return 503 '{"error":"$region is down"}'; }
  if (-f ${state}/$region.read-only) { return 503 '{"error":"platform is read-only"}'; }
  return 201 '{"accepted":true,"readOnly":false}';
}
location /throttled/ { internal; limit_rate ${LIMIT_RATE}; }

# Read-only the way real deployments are: a mirror that only serves GET (limit_except: POST is 403) and a static file
# (nginx's static module answers POST with 405).
location /mirror/ { limit_except GET { deny all; } }
location /static/ { }
location /site/ {
  index index.html;
  types { text/html html; application/json json; application/atom+xml atom; image/svg+xml svg; }
}

location = /status/503 { return 503; }
location = /status/500 { return 500; }
location /fleet/ { return 503; }
# One byte a second (limit_rate throttles the status line and headers too).
location = /drip { limit_rate 1; alias ${www}/throttled/health.txt; }
location /held/ { limit_conn held ${options.heldConnections ?? 4}; limit_conn_status 429; limit_rate ${LIMIT_RATE}; alias ${www}/throttled/; }
location = /big.bin { }
location = /bomb.txt { gzip_static always; }
location /gzip/ { gzip on; gzip_types application/json text/plain; gzip_min_length 1; types { application/json json; } }
location = /close { return 444; }

location = /redirect/loop-a { return 302 /redirect/loop-b; }
location = /redirect/loop-b { return 302 /redirect/loop-a; }
location = /redirect/health { return 301 /${options.regions[0] ?? 'us'}/health; }
location = /redirect/metadata { return 302 http://169.254.169.254/latest/meta-data/iam/security-credentials/; }
location = /redirect/private { return 302 http://private.acme.test/health; }
location = /redirect/unnamed { return 302 http://internal.acme.test:$server_port/${options.regions[0] ?? 'us'}/health; }
${silent ? 'location = /hang { proxy_pass http://silent; proxy_read_timeout 60s; }\nlocation = /gateway-timeout { proxy_pass http://silent; proxy_read_timeout 300ms; }' : ''}
${raw ? 'location = /upgrade { proxy_pass http://raw/switch; proxy_http_version 1.1; }\nlocation = /early-hints { proxy_pass http://raw/hints-then-ok; proxy_http_version 1.1; }' : ''}
`;
}

function config(dir: string, options: NginxPlatformOptions, port: number, tlsPorts: Partial<Record<TlsListener, number>>): string {
  const temp = join(dir, 'temp');
  const logFormat = `'{${LOG_FORMAT.map(([key, variable]) => `"${key}":"${variable}"`).join(',')}}'`;
  const tlsServers = (Object.entries(tlsPorts) as [TlsListener, number][]).map(
    ([name, tlsPort]) => `
  server {
    listen 127.0.0.1:${tlsPort} ssl http2;
    # Debian 12's nginx (1.22) offers TLS 1.2 at most unless told; a platform today offers 1.3 as well.
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate ${join(dir, 'tls', `${name}.crt`)};
    ssl_certificate_key ${join(dir, 'tls', `${name}.key`)};
    include ${join(dir, 'locations.conf')};
  }`,
  );
  return `# As root nginx would hand its workers to nobody, who cannot read the 0700 temp dir; unprivileged, there is no user to set.
${process.getuid?.() === 0 ? 'user root root;' : ''}
worker_processes 1;
daemon off;
master_process on;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 2048; }
http {
  log_format regionwatch escape=json ${logFormat};
  access_log ${join(dir, 'access.log')} regionwatch;
  client_body_temp_path ${temp}/client_body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  sendfile on;
  keepalive_timeout 5s;
  # Per Host: two rounds on two names do not share the limit.
  limit_conn_zone $host zone=held:1m;
  ${options.silentUpstreamPort !== undefined ? `upstream silent { server 127.0.0.1:${options.silentUpstreamPort}; }` : ''}
  ${options.rawUpstreamPort !== undefined ? `upstream raw { server 127.0.0.1:${options.rawUpstreamPort}; }` : ''}
  server {
    listen 127.0.0.1:${port};
    include ${join(dir, 'locations.conf')};
  }${tlsServers.join('')}
}
`;
}

/** The files nginx serves: throttled answers, a sparse 1 GiB body, a gzip bomb, a gzip-able JSON health answer. */
function writeContent(dir: string): void {
  const www = join(dir, 'www');
  for (const sub of ['throttled', 'mirror', 'static', 'gzip']) mkdirSync(join(www, sub), { recursive: true });
  writeFileSync(join(www, 'throttled', 'health.txt'), `ok${' '.repeat(THROTTLED_BODY_BYTES - 2)}`);
  for (let i = 1; i <= 32; i++) writeFileSync(join(www, 'throttled', String(i)), `ok${' '.repeat(THROTTLED_BODY_BYTES - 2)}`);
  writeFileSync(join(www, 'mirror', 'canary'), 'ok\n');
  writeFileSync(join(www, 'static', 'canary'), 'ok\n');
  writeFileSync(join(www, 'gzip', 'health.json'), JSON.stringify({ status: 'ok', checks: Array.from({ length: 200 }, (_, i) => ({ name: `dependency-${i}`, ok: true })) }));
  // A sparse file: 1 GiB that takes no disk and costs nginx nothing to send (sendfile of holes).
  writeFileSync(join(www, 'big.bin'), '');
  truncateSync(join(www, 'big.bin'), GIB);
  // 64 gzip members of 16 MiB of zeros each (about 1 MiB on disk): 1 GiB once inflated; only the .gz exists.
  const member = gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
  writeFileSync(join(www, 'bomb.txt.gz'), Buffer.concat(Array.from({ length: 64 }, () => member)));
}

function parseLog(text: string): AccessLogEntry[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const raw = JSON.parse(line) as Record<(typeof LOG_FORMAT)[number][0], string>;
      return {
        msec: Number(raw.msec),
        port: Number(raw.port),
        scheme: raw.scheme,
        host: raw.host,
        method: raw.method,
        uri: raw.uri,
        status: Number(raw.status),
        bytesSent: Number(raw.bytesSent),
        requestLength: Number(raw.requestLength),
        connectionRequests: Number(raw.connectionRequests),
        probeRegion: raw.probeRegion,
        userAgent: raw.userAgent,
        connection: raw.connection,
        acceptEncoding: raw.acceptEncoding,
        contentLength: raw.contentLength,
        location: raw.location,
        contentEncoding: raw.contentEncoding,
        transferEncoding: raw.transferEncoding,
        sslProtocol: raw.sslProtocol,
        sslSessionReused: raw.sslSessionReused,
        requestTimeMs: Math.round(Number(raw.requestTime) * 1000),
      };
    });
}

/** One GET of /ready on its own connection (no pooled socket left behind to hold a graceful stop). */
function answers204(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = get({ host: '127.0.0.1', port, path: '/ready', agent: false, timeout: 500 }, (response) => {
      response.resume();
      resolve(response.statusCode === 204);
    });
    request.once('timeout', () => request.destroy());
    request.once('error', () => resolve(false));
  });
}

function readOr(file: string, otherwise: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return otherwise;
  }
}

/**
 * Starts nginx (`-p DIR -c DIR/nginx.conf`, daemon off) on free loopback ports and waits until it answers; fails with
 * one line naming the package when it is not installed, and with its error log when it does not start.
 */
export async function startNginxPlatform(options: NginxPlatformOptions): Promise<NginxPlatform> {
  requireBinary(NGINX_PATH, 'nginx');
  const dir = mkdtempSync(join(tmpdir(), 'regionwatch-nginx-'));
  mkdirSync(join(dir, 'temp'));
  mkdirSync(join(dir, 'state'));
  mkdirSync(join(dir, 'tls'));
  writeContent(dir);
  mkdirSync(join(dir, 'www', 'site'));
  for (const [name, pair] of Object.entries(options.tls ?? {})) {
    writeFileSync(join(dir, 'tls', `${name}.crt`), pair.cert);
    writeFileSync(join(dir, 'tls', `${name}.key`), pair.key, { mode: 0o600 });
  }
  writeFileSync(join(dir, 'locations.conf'), locations(dir, options));
  const confPath = join(dir, 'nginx.conf');
  let port = 0;
  const tlsPorts: Partial<Record<TlsListener, number>> = {};
  const launch = () =>
    startDaemon({
      name: `nginx on 127.0.0.1:${port}`,
      command: NGINX_PATH,
      // -e: the error log before the config is read, too (Debian's build would write to stderr).
      args: ['-p', dir, '-c', confPath, '-e', join(dir, 'error.log')],
      ready: () => answers204(port),
      diagnostics: () => readOr(join(dir, 'error.log'), '').split('\n').filter(Boolean).slice(-3).join(' / '),
    });
  let daemon: Daemon | undefined;
  for (let attempt = 1; !daemon; attempt++) {
    port = await freeTcpPort();
    for (const name of Object.keys(options.tls ?? {}) as TlsListener[]) tlsPorts[name] = await freeTcpPort();
    writeFileSync(confPath, config(dir, options, port, tlsPorts));
    try {
      daemon = await launch();
    } catch (error: unknown) {
      // Another process may take a port between our probe and nginx's bind: try other ports, twice.
      if (attempt < 3 && portWasTaken(error)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }
  let current: Daemon = daemon;
  const flag = (region: string, name: string, on: boolean) => {
    const file = join(dir, 'state', `${region}.${name}`);
    if (on) writeFileSync(file, '');
    else rmSync(file, { force: true });
  };
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    tlsPorts,
    siteRoot: join(dir, 'www', 'site'),
    hugeBodyBytes: GIB,
    setState(region, state) {
      if (!options.regions.includes(region)) throw new Error(`nginx serves no platform region ${region} (it serves ${options.regions.join(', ')})`);
      for (const name of ['down', 'read-only', 'slow'] as const) flag(region, name, state === name);
    },
    accessLog: () => parseLog(readOr(join(dir, 'access.log'), '')),
    errorLog: () => readOr(join(dir, 'error.log'), ''),
    // SIGTERM is nginx's fast shutdown: connections are closed, not drained.
    stop: () => current.stop('SIGTERM'),
    start: async () => {
      if (!current.exited()) return;
      current = await launch();
    },
    close: async () => {
      // SIGQUIT: the graceful stop; a connection still open after 3 s is ended by the SIGKILL that follows.
      await current.stop('SIGQUIT');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
