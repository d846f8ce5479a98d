// Real misbehaving servers on 127.0.0.1 for the probe tests: HTTP(S) faults, a refused port, a tiny UDP DNS server, test certificates.
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
}

export interface FaultyServer {
  /** `http://127.0.0.1:PORT` (or https). */
  origin: string;
  port: number;
  /** Every request that reached the server, in arrival order. */
  requests: RecordedRequest[];
  /** TCP connections accepted. */
  connections: () => number;
  /** Body bytes the server managed to hand to the kernel, per path. */
  bytesSent: Map<string, number>;
  /** The most requests the server was handling at one time. */
  maxInFlight: () => number;
  close(): Promise<void>;
}

/** 16 MiB of zeros, gzipped once (about 16 KiB); the bomb route repeats the member, gunzip reads it as one long body. */
let bombMember: Buffer | undefined;
function gzipBombMember(): Buffer {
  bombMember ??= gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
  return bombMember;
}

const GIB = 1024 * 1024 * 1024;

/**
 * The routes, by path:
 * - `/ok`: 200 "ok" · `/json`: 200 {"status":"ok","checks":[{"ok":true}]} · `/status/NNN`: that status
 * - `/slow-headers`: accepts and never answers · `/slow-body`: headers, then one byte a second
 * - `/endless`: a 10 GiB body streamed as fast as the client reads (never sent in full: the client cuts it)
 * - `/gzip-bomb`: `content-encoding: gzip`, 16 GiB of zeros once inflated
 * - `/big-json`: 1 MiB of valid JSON · `/padded-ok`: "ok" followed by 1 MiB of padding
 * - `/redirect/loop-a` ⇄ `/redirect/loop-b` · `/redirect/chain/N` (N more hops to /ok)
 * - `/redirect/to?url=U`: 302 to U · `/reset`: the connection is reset once the request arrives
 * - `/read-only`: GET 200 "ok"; POST/PUT 503 {"error":"platform is read-only"} · `/read-only-200`: POST 200 {"mode":"read-only"}
 * - `/slow/MS`: 200 "ok" after MS milliseconds
 */
function route(req: IncomingMessage, res: ServerResponse, server: { bytesSent: Map<string, number>; timers: Set<NodeJS.Timeout> }): void {
  const url = new URL(req.url ?? '/', 'http://placeholder');
  const path = url.pathname;
  const count = (n: number) => server.bytesSent.set(path, (server.bytesSent.get(path) ?? 0) + n);
  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      server.timers.delete(timer);
      fn();
    }, ms);
    server.timers.add(timer);
  };
  const status = /^\/status\/(\d{3})$/.exec(path);
  if (status) {
    res.writeHead(Number(status[1]), { 'content-type': 'text/plain' }).end('status');
    return;
  }
  const slow = /^\/slow\/(\d+)$/.exec(path);
  if (slow) {
    later(Number(slow[1]), () => res.end('ok'));
    return;
  }
  const chain = /^\/redirect\/chain\/(\d+)$/.exec(path);
  if (chain) {
    const left = Number(chain[1]);
    res.writeHead(302, { location: left <= 1 ? '/ok' : `/redirect/chain/${left - 1}` }).end();
    return;
  }
  switch (path) {
    case '/ok':
      res.writeHead(200, { 'content-type': 'text/plain', 'x-build': 'v42-green' }).end('ok');
      return;
    case '/json':
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', checks: [{ ok: true }] }));
      return;
    case '/slow-headers':
      return; // never answers; the socket stays open until the client gives up
    case '/slow-body': {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 3600 });
      const drip = () => {
        if (res.destroyed) return;
        res.write('.');
        count(1);
        later(1000, drip);
      };
      drip();
      return;
    }
    case '/endless':
    case '/gzip-bomb': {
      const bomb = path === '/gzip-bomb';
      const chunk = bomb ? gzipBombMember() : Buffer.alloc(64 * 1024, 'x');
      res.writeHead(200, bomb ? { 'content-encoding': 'gzip', 'content-type': 'text/plain' } : { 'content-length': 10 * GIB });
      let sent = 0;
      const limit = 10 * GIB;
      const pump = () => {
        while (!res.destroyed && sent < limit) {
          sent += chunk.length;
          count(chunk.length);
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        if (!res.destroyed) res.end();
      };
      pump();
      return;
    }
    case '/big-json':
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', padding: 'x'.repeat(1024 * 1024) }));
      return;
    case '/padded-ok':
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`ok${' '.repeat(1024 * 1024)}`);
      return;
    case '/redirect/loop-a':
      res.writeHead(302, { location: '/redirect/loop-b' }).end();
      return;
    case '/redirect/loop-b':
      res.writeHead(302, { location: '/redirect/loop-a' }).end();
      return;
    case '/redirect/to':
      res.writeHead(302, { location: url.searchParams.get('url') ?? '/ok' }).end();
      return;
    case '/reset':
      req.socket.resetAndDestroy();
      return;
    case '/read-only':
      if (req.method === 'POST' || req.method === 'PUT') {
        req.resume();
        res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'platform is read-only' }));
      } else res.writeHead(200).end('ok');
      return;
    case '/read-only-200':
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: false, mode: 'read-only' }));
      return;
    case '/writable':
      req.resume();
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: true, readOnly: false }));
      return;
    default:
      res.writeHead(404).end('not found');
  }
}

interface Tracked {
  requests: RecordedRequest[];
  sockets: Set<Socket>;
  connections: () => number;
  maxInFlight: () => number;
  bytesSent: Map<string, number>;
  timers: Set<NodeJS.Timeout>;
}

function track(server: http.Server | https.Server): Tracked {
  const state = { requests: [] as RecordedRequest[], sockets: new Set<Socket>(), accepted: 0, inFlight: 0, maxInFlight: 0, bytesSent: new Map<string, number>(), timers: new Set<NodeJS.Timeout>() };
  server.on('connection', (socket: Socket) => {
    state.accepted++;
    state.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => state.sockets.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    state.requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers });
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    res.once('close', () => state.inFlight--);
    res.on('error', () => undefined);
    route(req, res, state);
  });
  return { ...state, connections: () => state.accepted, maxInFlight: () => state.maxInFlight };
}

async function listen(server: NetServer, port = 0, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

function closer(server: NetServer, sockets: Set<Socket>, timers: Set<NodeJS.Timeout>): () => Promise<void> {
  return async () => {
    timers.forEach(clearTimeout);
    sockets.forEach((s) => s.destroy());
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}

/** An HTTP server on 127.0.0.1 with every fault route above. */
/** `host`: another loopback address (127.0.0.2, …) is another host to the prober's per-host caps and shard plan. */
export async function startFaultyServer(host = '127.0.0.1'): Promise<FaultyServer> {
  const server = http.createServer({ keepAliveTimeout: 1000 });
  const state = track(server);
  const port = await listen(server, 0, host);
  return { origin: `http://${host}:${port}`, port, requests: state.requests, connections: state.connections, maxInFlight: state.maxInFlight, bytesSent: state.bytesSent, close: closer(server, state.sockets, state.timers) };
}

/** The same routes over TLS with the given certificate. */
export async function startFaultyHttpsServer(cert: KeyPair): Promise<FaultyServer> {
  const server = https.createServer({ key: cert.key, cert: cert.cert });
  server.on('tlsClientError', () => undefined);
  const state = track(server);
  server.on('secureConnection', (socket: Socket) => socket.on('error', () => undefined));
  const port = await listen(server);
  return { origin: `https://127.0.0.1:${port}`, port, requests: state.requests, connections: state.connections, maxInFlight: state.maxInFlight, bytesSent: state.bytesSent, close: closer(server, state.sockets, state.timers) };
}

/** A port on 127.0.0.1 nothing listens on (bound, then released), so connecting is refused. */
export async function refusedPort(): Promise<number> {
  const server = createNetServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP server that accepts and counts connections and never says a word: the tcp check, and a TLS server that never handshakes. */
export async function startTcpServer(): Promise<{ port: number; connections: () => number; openSockets: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createNetServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
    // Read and drop what the client sends (a TLS ClientHello), so its close is seen rather than stuck behind unread bytes.
    socket.resume();
  });
  const port = await listen(server);
  return { port, connections: () => accepted, openSockets: () => sockets.size, close: closer(server, sockets, new Set()) };
}

export interface RawHttpServer {
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  port: number;
  /** Request lines received (`GET /switch HTTP/1.1`), in arrival order. */
  requests: string[];
  /** Connections still open on the server's side. */
  openSockets: () => number;
  close(): Promise<void>;
}

const INTERIM_FLOOD_LIMIT = 1_000_000;

/**
 * A server that speaks just enough HTTP/1.1 to misbehave in ways node:http will not, by path:
 * - `/switch`: `101 Switching Protocols` to websocket, unasked, then a frame, and the connection held open
 * - `/switch-h2c`: the same, switching to h2c
 * - `/hints-forever`: `103 Early Hints` again and again as fast as the client reads, never a final response
 *   (bounded at a million, and it stops the moment the client goes)
 * - `/hints-then-ok`: `100 Continue` and two `103 Early Hints`, then `200` "ok": what a real server may send
 * - `/ok-held-open`: `200` "ok" with Connection: keep-alive, and the socket held open until the client goes
 * - anything else: 404
 */
export async function startRawHttpServer(): Promise<RawHttpServer> {
  const sockets = new Set<Socket>();
  const requests: string[] = [];
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      const line = head.slice(0, head.indexOf('\r\n'));
      requests.push(line);
      answerRaw(socket, line.split(' ')[1] ?? '/');
    };
    socket.on('data', onData);
  });
  const port = await listen(server);
  return { origin: `http://127.0.0.1:${port}`, port, requests, openSockets: () => sockets.size, close: closer(server, sockets, new Set()) };
}

function answerRaw(socket: Socket, path: string): void {
  const hint = 'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n';
  switch (path) {
    case '/switch':
    case '/switch-h2c': {
      const protocol = path === '/switch' ? 'websocket' : 'h2c';
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${protocol}\r\nConnection: Upgrade\r\n\r\n`);
      // A websocket text frame ("hi"): bytes after the upgrade that are not HTTP.
      socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
      return; // held open until the client goes
    }
    case '/hints-forever': {
      let sent = 0;
      const pump = () => {
        while (!socket.destroyed && sent < INTERIM_FLOOD_LIMIT) {
          sent++;
          if (!socket.write(hint)) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
      return;
    }
    case '/ok-held-open':
      // Ignores the client's Connection: close and never closes: the prober must close what it opened.
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
      return;
    case '/hints-then-ok':
      socket.end(`HTTP/1.1 100 Continue\r\n\r\n${hint}${hint}HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok`);
      return;
    default:
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  }
}

export interface KeyPair {
  key: string;
  cert: string;
}

export interface TestCertificates {
  /** The test CA: give its cert to the prober as an extra trusted root. */
  ca: KeyPair;
  /** Signed by the CA, for 127.0.0.1 and localhost, valid 90 days. */
  valid: KeyPair;
  /** Signed by the CA, valid 3 days: under the default 14 warnDays. */
  expiringSoon: KeyPair;
  /** Self-signed, trusted by nobody. */
  selfSigned: KeyPair;
}

/** Generates certificates with the system openssl (EC P-256 keys: fast). */
export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'regionwatch-certs-'));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n');
    run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', '/CN=regionwatch test CA');
    const leaf = (name: string, days: number): KeyPair => {
      run('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=localhost');
      run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', String(days), '-extfile', 'san.cnf');
      return { key: read(`${name}.key`), cert: read(`${name}.crt`) };
    };
    const valid = leaf('valid', 90);
    const expiringSoon = leaf('soon', 3);
    run('req', '-x509', ...ec, '-keyout', 'self.key', '-out', 'self.crt', '-days', '90', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost');
    return { ca: { key: read('ca.key'), cert: read('ca.crt') }, valid, expiringSoon, selfSigned: { key: read('self.key'), cert: read('self.crt') } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface DnsServer {
  /** `127.0.0.1:PORT`, the form a dns target's `resolver` takes. */
  resolver: string;
  port: number;
  /** Questions received, as `NAME TYPE`. */
  queries: string[];
  close(): Promise<void>;
}

const TYPE_A = 1;

/**
 * A UDP DNS server on 127.0.0.1 answering A questions from `records` (name → IPv4 addresses), NXDOMAIN for
 * unknown names, NOERROR with no answers for other types of a known name. `silent: true` never answers
 * (a resolver that is down).
 */
export async function startDnsServer(records: Record<string, string[]>, options: { silent?: boolean } = {}): Promise<DnsServer> {
  const socket: UdpSocket = createSocket('udp4');
  const queries: string[] = [];
  const known = new Map(Object.entries(records).map(([name, ips]) => [name.toLowerCase().replace(/\.$/, ''), ips]));
  socket.on('message', (message, peer) => {
    const question = parseQuestion(message);
    if (!question) return;
    queries.push(`${question.name} ${question.type}`);
    if (options.silent) return;
    const ips = known.get(question.name);
    const answers = ips && question.type === TYPE_A ? ips : [];
    socket.send(encodeResponse(message, question.end, ips === undefined ? 3 : 0, answers), peer.port, peer.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const { port } = socket.address();
  return {
    resolver: `127.0.0.1:${port}`,
    port,
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

function parseQuestion(message: Buffer): { name: string; type: number; end: number } | undefined {
  if (message.length < 17) return undefined;
  const labels: string[] = [];
  let offset = 12;
  for (let guard = 0; guard < 128; guard++) {
    const length = message[offset];
    if (length === undefined) return undefined;
    offset += 1;
    if (length === 0) break;
    labels.push(message.subarray(offset, offset + length).toString('ascii'));
    offset += length;
  }
  if (offset + 4 > message.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: message.readUInt16BE(offset), end: offset + 4 };
}

function encodeResponse(query: Buffer, questionEnd: number, rcode: number, ipv4: string[]): Buffer {
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  const recursionDesired = (query[2] ?? 0) & 0x01;
  header.writeUInt16BE(0x8000 | (recursionDesired << 8) | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(ipv4.length, 6);
  const answers = ipv4.map((ip) => {
    const answer = Buffer.alloc(16);
    answer.writeUInt16BE(0xc00c, 0); // pointer to the question's name
    answer.writeUInt16BE(TYPE_A, 2);
    answer.writeUInt16BE(1, 4); // IN
    answer.writeUInt32BE(60, 6);
    answer.writeUInt16BE(4, 10);
    ip.split('.').forEach((octet, i) => answer.writeUInt8(Number(octet), 12 + i));
    return answer;
  });
  return Buffer.concat([header, query.subarray(12, questionEnd), ...answers]);
}
