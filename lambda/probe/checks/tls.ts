// The tls check: a handshake to read the certificate. Under warnDays left is degraded; expired or untrusted is down.
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect, type PeerCertificate } from 'node:tls';
import type { ProbeResult, Timings } from '../../core/results';
import type { CheckContext } from '../context';
import { Deadline, raceDeadline } from '../deadline';
import { classifyError, ProbeFailure, type Phase } from '../errors';
import { bareHost, resolveGuarded } from '../resolve-host';
import { build, daysLeft, failed, type ResolvedTlsTarget } from './result';

interface Handshake {
  certificate: PeerCertificate;
  authorized: boolean;
  authorizationError?: string;
}

export async function tlsCheck(target: ResolvedTlsTarget, ctx: CheckContext): Promise<ProbeResult> {
  const started = performance.now();
  const deadline = new Deadline(target.timeoutMs, ctx.roundSignal);
  const timings: Timings = {};
  const state: { phase: Phase } = { phase: 'dns' };
  let tlsDaysLeft: number | undefined;
  const seen = () => ({ latencyMs: performance.now() - started, timings, tlsDaysLeft });
  try {
    const literal = isIP(bareHost(target.host)) !== 0;
    const meta = { region: target.region, target: target.name, hop: 0 };
    const pinned = literal ? await resolveGuarded(target.host, ctx, undefined, meta) : await raceDeadline(resolveGuarded(target.host, ctx, deadline.signal, meta), deadline);
    if (!literal) timings.dnsMs = performance.now() - started;
    const name = target.servername ?? bareHost(target.host);
    state.phase = 'connect';
    const handshake = await new Promise<Handshake>((resolve, reject) => {
      const connectStart = performance.now();
      let connectedAt = connectStart;
      const socket = connect({
        host: pinned.address,
        port: target.port,
        // Identity is checked against this name (or, for an IP, the address), never the pinned address alone.
        servername: isIP(name) === 0 ? name : '',
        // The certificate is read even when untrusted: the verdict comes from `authorized` below, with its reason.
        rejectUnauthorized: false,
        ...(ctx.secureContext ? { secureContext: ctx.secureContext } : {}),
      });
      socket.once('close', deadline.onExpire(() => socket.destroy()));
      socket.on('error', reject);
      socket.once('close', () => reject(new Error('closed before the handshake finished')));
      socket.once('connect', () => {
        connectedAt = performance.now();
        timings.connectMs = connectedAt - connectStart;
        state.phase = 'tls';
      });
      socket.once('secureConnect', () => {
        timings.tlsMs = performance.now() - connectedAt;
        const certificate = socket.getPeerCertificate();
        const authorizationError = socket.authorizationError ? String(socket.authorizationError) : undefined;
        resolve({ certificate, authorized: socket.authorized, ...(authorizationError ? { authorizationError } : {}) });
        socket.end();
        socket.destroy();
      });
    });
    if (!handshake.certificate.valid_to) throw new ProbeFailure('tls', 'server presented no certificate');
    tlsDaysLeft = daysLeft(handshake.certificate.valid_to, ctx.now());
    if (tlsDaysLeft !== undefined && tlsDaysLeft < 0) throw new ProbeFailure('tls', `certificate expired ${-tlsDaysLeft} days ago`);
    if (!handshake.authorized) throw new ProbeFailure('tls', `certificate not trusted (${handshake.authorizationError ?? 'unknown reason'})`);
    if (tlsDaysLeft !== undefined && tlsDaysLeft < target.warnDays) {
      return build(target, seen(), { status: 'degraded', errorClass: 'tls', detail: `certificate expires in ${tlsDaysLeft} days (warn under ${target.warnDays})` });
    }
    return build(target, seen(), { status: 'up' });
  } catch (error: unknown) {
    return failed(target, seen(), deadline.expired ? deadline.failure(state.phase) : classifyError(error, state.phase));
  } finally {
    deadline.dispose();
  }
}
