// The http/https check: one request (plus redirects), pinned to the address the SSRF guard approved, bounded in time and bytes.
import http, { type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import type { Timings } from '../../core/results';
import { firstFailedAssertion } from '../assertions';
import { readCappedBody } from '../body';
import type { CheckContext, ResolvedAddress } from '../context';
import { Deadline, raceDeadline } from '../deadline';
import { classifyError, ProbeFailure, type Phase } from '../errors';
import type { HostSlot } from '../limiter';
import { bareHost, resolveGuarded } from '../resolve-host';
import { build, daysLeft, failed, passed, type ResolvedHttpTarget } from './result';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Response header bytes accepted before the response counts as too large. */
const MAX_HEADER_BYTES = 16 * 1024;
/**
 * Informational (1xx) responses accepted before a final one. A real server sends one or two (100 Continue,
 * 103 Early Hints); a flood of them would keep the parser busy until the deadline without ever giving a status.
 */
export const MAX_INFORMATIONAL_RESPONSES = 10;
/** An Upgrade token safe to quote in a detail (RFC 9110 protocol names are tokens, optionally with a version). */
const UPGRADE_TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,32}(\/[A-Za-z0-9!#$%&'*+.^_`|~-]{1,16})?$/;

interface Exchange {
  request: ClientRequest;
  response: IncomingMessage;
  tlsDaysLeft?: number;
}

interface Hop {
  url: URL;
  method: string;
  body: string | undefined;
  headers: Record<string, string>;
}

/** Runs one HTTP(S) check. Never throws: every failure becomes a `down` result with its error class. */
export async function httpCheck(target: ResolvedHttpTarget, ctx: CheckContext, hostSlot?: HostSlot): Promise<ReturnType<typeof passed>> {
  const started = performance.now();
  const deadline = new Deadline(target.timeoutMs, ctx.roundSignal);
  let timings: Timings = {};
  let phase: Phase = 'dns';
  let statusCode: number | undefined;
  let tlsDaysLeft: number | undefined;
  // Time spent waiting for our own cap on a redirect's host is the prober's, not the target's latency.
  let queuedMs = 0;
  const seen = () => ({ latencyMs: performance.now() - started - queuedMs, timings, statusCode, tlsDaysLeft });
  let exchange: Exchange | undefined;
  try {
    let hop: Hop = { url: new URL(target.url), method: target.method, body: target.body, headers: { ...target.headers } };
    const visited = new Set<string>([hop.url.href]);
    for (let redirects = 0; redirects <= ctx.probing.maxRedirects + 1; redirects++) {
      timings = {};
      if (redirects > 0 && hostSlot) {
        // A hop to another host counts against that host's cap, as a check of it would (same host: no wait).
        phase = 'queued';
        const queuedAt = performance.now();
        await raceDeadline(hostSlot.moveTo(hop.url.hostname.toLowerCase()), deadline);
        queuedMs += performance.now() - queuedAt;
      }
      phase = 'dns';
      const dnsStart = performance.now();
      const meta = { region: target.region, target: target.name, hop: redirects };
      const literal = isIP(bareHost(hop.url.hostname)) !== 0;
      const pinned = literal
        ? await resolveGuarded(hop.url.hostname, ctx, undefined, meta)
        : await raceDeadline(resolveGuarded(hop.url.hostname, ctx, deadline.signal, meta), deadline);
      if (!literal) timings.dnsMs = performance.now() - dnsStart;
      exchange = await sendRequest(hop, pinned, ctx, deadline, timings, (next) => (phase = next));
      statusCode = exchange.response.statusCode ?? 0;
      tlsDaysLeft = exchange.tlsDaysLeft;
      const location = exchange.response.headers.location;
      if (target.followRedirects && REDIRECT_STATUSES.has(statusCode) && location !== undefined) {
        exchange.request.destroy();
        exchange = undefined;
        hop = nextHop(hop, location, statusCode);
        if (visited.has(hop.url.href)) throw new ProbeFailure('redirect-loop', `redirect loop after ${redirects + 1} redirects`);
        if (redirects + 1 > ctx.probing.maxRedirects) {
          throw new ProbeFailure('redirect-loop', `more than ${ctx.probing.maxRedirects} redirects`);
        }
        visited.add(hop.url.href);
        continue;
      }
      phase = 'body';
      const needsBody = target.expect.bodyContains !== undefined || target.expect.json !== undefined || target.role === 'write-probe';
      const body =
        hop.method === 'HEAD'
          ? { bytes: Buffer.alloc(0), received: 0, truncated: false }
          : // The deadline destroys the request, which ends the read with an error: no race needed.
            await readCappedBody(exchange.response, { maxBytes: ctx.probing.maxBodyBytes, keep: needsBody });
      const failure = firstFailedAssertion(target, {
        statusCode,
        headers: exchange.response.headers,
        body: body.bytes,
        truncated: body.truncated,
        maxBodyBytes: ctx.probing.maxBodyBytes,
      });
      if (failure) return build(target, seen(), { status: 'down', ...failure });
      return passed(target, seen());
    }
    throw new ProbeFailure('redirect-loop', `more than ${ctx.probing.maxRedirects} redirects`);
  } catch (error: unknown) {
    if (error instanceof ProbeFailure && error.statusCode !== undefined) statusCode = error.statusCode;
    const failure = deadline.expired ? deadline.failure(phase) : classifyHttpError(error, phase);
    return failed(target, seen(), failure);
  } finally {
    // A response read to its end has had its socket ended by node:http already (we ask for Connection: close): it
    // closes once our FIN is out. Destroying it as well closed it at once, with the server's FIN often not yet read:
    // in a CPU profile of the 1,000-target loopback round that close was about 30 ms a round more than the bare
    // loop's. Anything else (a body cut at the cap, an error, a HEAD whose body is never read) is destroyed here.
    if (exchange && !exchange.response.readableEnded) exchange.request.destroy();
    deadline.dispose();
  }
}

function classifyHttpError(error: unknown, phase: Phase): ProbeFailure {
  const code = error !== null && typeof error === 'object' && 'code' in error ? String(error.code) : '';
  if (code === 'HPE_HEADER_OVERFLOW') return new ProbeFailure('too-large', `response headers over ${MAX_HEADER_BYTES} bytes`);
  return classifyError(error, phase);
}

/** The request a redirect leads to: re-resolved and re-checked by the caller like the first one. */
function nextHop(current: Hop, location: string, statusCode: number): Hop {
  let url: URL;
  try {
    url = new URL(location, current.url);
  } catch {
    throw new ProbeFailure('status', `redirect (${statusCode}) with an invalid Location`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ProbeFailure('status', `redirect (${statusCode}) to a ${url.protocol.replace(':', '')} URL`);
  }
  // Configured headers may carry credentials: they never follow a redirect to another origin.
  const headers = url.origin === current.url.origin ? current.headers : {};
  const becomesGet = statusCode === 303 ? current.method !== 'HEAD' : (statusCode === 301 || statusCode === 302) && current.method === 'POST';
  return becomesGet ? { url, method: 'GET', body: undefined, headers } : { url, method: current.method, body: current.body, headers };
}

function sendRequest(
  hop: Hop,
  pinned: ResolvedAddress,
  ctx: CheckContext,
  deadline: Deadline,
  timings: Timings,
  setPhase: (phase: Phase) => void,
): Promise<Exchange> {
  const { url } = hop;
  const secure = url.protocol === 'https:';
  const hostname = bareHost(url.hostname);
  const headers: OutgoingHttpHeaders = {
    ...hop.headers,
    host: url.host,
    'accept-encoding': 'gzip, deflate',
    connection: 'close',
    // Set last: a target's own headers cannot hide who is probing.
    ...ctx.probeHeaders,
  };
  if (hop.body !== undefined) headers['content-length'] = Buffer.byteLength(hop.body);
  const options: https.RequestOptions = {
    // Pinned: the socket goes to the address the guard approved, never through a second lookup.
    host: pinned.address,
    family: pinned.family,
    port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
    method: hop.method,
    path: `${url.pathname}${url.search}`,
    headers,
    agent: false,
    maxHeaderSize: MAX_HEADER_BYTES,
  };
  if (secure) {
    // SNI and certificate identity follow the URL's name, not the pinned address.
    options.servername = isIP(hostname) === 0 ? hostname : '';
    // https passes options through to tls.connect, which takes a ready SecureContext (built once per round, not per request).
    if (ctx.secureContext) Object.assign(options, { secureContext: ctx.secureContext });
  }
  const started = performance.now();
  setPhase('connect');
  const request = secure ? https.request(options) : http.request(options);
  const off = deadline.onExpire(() => request.destroy());
  request.once('close', off);
  let connectedAt = started;
  let tlsDaysLeft: number | undefined;
  request.once('socket', (socket) => {
    socket.once('connect', () => {
      connectedAt = performance.now();
      timings.connectMs = connectedAt - started;
      setPhase(secure ? 'tls' : 'response');
    });
    if (secure) {
      socket.once('secureConnect', () => {
        const now = performance.now();
        timings.tlsMs = now - connectedAt;
        connectedAt = now;
        const cert = (socket as TLSSocket).getPeerCertificate();
        tlsDaysLeft = cert.valid_to ? daysLeft(cert.valid_to, ctx.now()) : undefined;
        setPhase('response');
      });
    }
  });
  // Settles on exactly one of: a final response, an error, an answer that is not HTTP to judge, or the request
  // closing without any of those. The last one matters: node:http closes a request it cannot hand over (a 101
  // nobody listens for) without an error, and a promise left waiting for a response would hang the round.
  return new Promise<Exchange>((resolve, reject) => {
    const refuse = (failure: ProbeFailure) => {
      reject(failure);
      request.destroy();
    };
    request.on('error', reject);
    request.once('response', (response) => {
      request.removeListener('close', closedEarly);
      timings.firstByteMs = performance.now() - connectedAt;
      setPhase('body');
      response.on('error', () => undefined);
      resolve({ request, response, ...(tlsDaysLeft === undefined ? {} : { tlsDaysLeft }) });
    });
    // We never ask to upgrade, so a 101 is the server switching protocols on its own: nothing left to judge as HTTP.
    request.once('upgrade', (response: IncomingMessage, socket: Socket) => {
      socket.destroy();
      const offered = String(response.headers.upgrade ?? '').trim();
      const to = UPGRADE_TOKEN.test(offered) ? ` (upgrade to ${offered})` : '';
      refuse(new ProbeFailure('protocol', `answered ${response.statusCode ?? 101} Switching Protocols${to} to a request that asked for no upgrade`, response.statusCode ?? 101));
    });
    let informational = 0;
    request.on('information', () => {
      informational++;
      if (informational > MAX_INFORMATIONAL_RESPONSES) {
        refuse(new ProbeFailure('protocol', `more than ${MAX_INFORMATIONAL_RESPONSES} informational (1xx) responses without a final one`));
      }
    });
    // Every request closes in the end: the error is built only for one that closed with nothing settled (an Error
    // captures a stack, about 10 µs, a tenth of a loopback check's CPU when built for every request).
    const closedEarly = () => reject(Object.assign(new Error('request closed before a response'), { code: 'ECONNRESET' }));
    request.once('close', closedEarly);
    request.end(hop.body);
  });
}
