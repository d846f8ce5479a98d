// Typed probe failures and the mapping of raw socket/DNS/TLS errors to the error classes people act on.
import type { ErrorClass } from '../core/results';

/** A check failure that already knows its error class; `detail` is safe to show on a status page. */
export class ProbeFailure extends Error {
  override readonly name = 'ProbeFailure';
  constructor(
    readonly errorClass: ErrorClass,
    readonly detail: string,
    /** The HTTP status that came with the failure, when one did (a 101 that was never asked for). */
    readonly statusCode?: number,
  ) {
    super(detail);
  }
}

/** Where a request was when it failed: decides connect-timeout vs timeout, and what a reset means. */
export type Phase = 'queued' | 'dns' | 'connect' | 'tls' | 'response' | 'body';

const REFUSED_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'EHOSTDOWN', 'ENETDOWN']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'HPE_INVALID_CONSTANT', 'HPE_INVALID_CHUNK_SIZE']);

function codeOf(error: unknown): string | undefined {
  if (error !== null && typeof error === 'object' && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Turns whatever a socket threw into a ProbeFailure; never passes a raw error object on. */
export function classifyError(error: unknown, phase: Phase): ProbeFailure {
  if (error instanceof ProbeFailure) return error;
  const code = codeOf(error) ?? '';
  if (phase === 'queued') return new ProbeFailure('timeout', 'redirect not started before the round deadline (concurrency caps)');
  if (phase === 'dns') return new ProbeFailure('dns', `DNS lookup failed (${code || 'error'})`);
  if (REFUSED_CODES.has(code)) return new ProbeFailure('refused', `connection refused (${code})`);
  if (code === 'ETIMEDOUT') return new ProbeFailure(phase === 'connect' ? 'connect-timeout' : 'timeout', `timed out during ${phase}`);
  if (phase === 'tls' || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code === 'EPROTO' || /CERT|SELF_SIGNED|UNABLE_TO_/.test(code)) {
    return new ProbeFailure('tls', `TLS failed (${code || 'handshake error'})`);
  }
  if (RESET_CODES.has(code) || /socket hang up|aborted/i.test(messageOf(error))) return new ProbeFailure('reset', `connection reset during ${phase}`);
  if (code.startsWith('HPE_')) return new ProbeFailure('reset', `malformed HTTP response (${code})`);
  return new ProbeFailure('reset', `connection failed during ${phase} (${code || 'error'})`);
}

/** The error class for running out of time in a phase. */
export function timeoutFailure(phase: Phase, limitMs: number, why: 'request' | 'round'): ProbeFailure {
  const limit = why === 'round' ? 'the round deadline' : `${limitMs} ms`;
  if (phase === 'queued') return new ProbeFailure('timeout', `redirect not started within ${limit}: its host's concurrency slots stayed busy`);
  if (phase === 'connect') return new ProbeFailure('connect-timeout', `no connection within ${limit}`);
  if (phase === 'dns') return new ProbeFailure('dns', `DNS lookup not answered within ${limit}`);
  return new ProbeFailure('timeout', `no complete ${phase === 'tls' ? 'TLS handshake' : phase === 'response' ? 'response headers' : 'response body'} within ${limit}`);
}
