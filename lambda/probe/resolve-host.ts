// Resolves a probe's hostname once and refuses addresses the SSRF guard forbids; the caller then connects to exactly that address.
import { lookup as systemLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { checkAddress, refusalFix } from './address-guard';
import type { CheckContext, HostLookup, ResolvedAddress } from './context';
import { raceAbort } from './deadline';
import { ProbeFailure } from './errors';

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), IPv4 first so a v4-only server is reached on its v4 address. */
export const systemHostLookup: HostLookup = async (hostname, signal) => {
  const found = await raceAbort(systemLookup(hostname, { all: true, order: 'ipv4first' }), signal);
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

/** One lookup per hostname per round: a thousand targets on one host cost the resolver one question. */
export function memoizeLookup(lookup: HostLookup, roundSignal: AbortSignal): HostLookup {
  const cache = new Map<string, Promise<ResolvedAddress[]>>();
  return (hostname, signal) => {
    const key = hostname.toLowerCase();
    let pending = cache.get(key);
    if (pending === undefined) {
      pending = lookup(key, roundSignal);
      pending.catch(() => undefined);
      cache.set(key, pending);
    }
    return raceAbort(pending, signal);
  };
}

/** Strips the brackets URL.hostname keeps around an IPv6 literal. */
export function bareHost(hostname: string): string {
  return hostname.startsWith('[') ? hostname.replace(/^\[(.*)\]$/, '$1') : hostname;
}

export interface GuardMeta {
  region: string;
  target: string;
  /** 0 for the first request, n for the n-th redirect. */
  hop: number;
}

/**
 * The address a probe will connect to: resolved first, every answer checked, the first one pinned.
 * If any answer is forbidden the whole name is refused: a name that points at the metadata service
 * among public addresses is an attack or a mistake either way.
 */
export async function resolveGuarded(hostname: string, ctx: CheckContext, signal: AbortSignal | undefined, meta: GuardMeta): Promise<ResolvedAddress> {
  const host = bareHost(hostname);
  const literal = isIP(host);
  let addresses: ResolvedAddress[];
  if (literal !== 0) {
    addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await ctx.lookup(host, signal ?? ctx.roundSignal);
    } catch (error: unknown) {
      if (signal?.aborted) throw error;
      const code = error !== null && typeof error === 'object' && 'code' in error ? String(error.code) : 'error';
      throw new ProbeFailure('dns', `DNS lookup of ${host} failed (${code})`);
    }
    if (addresses.length === 0) throw new ProbeFailure('dns', `DNS lookup of ${host} returned no addresses`);
  }
  // allowPrivateAddresses is for the private hosts a user configured, not wherever one of them redirects: a
  // public target could otherwise send the prober to loopback (on Lambda, the runtime API on 127.0.0.1:9001).
  const named = ctx.configuredHosts.has(host.toLowerCase());
  for (const candidate of addresses) {
    const verdict = checkAddress(candidate.address, ctx.probing.allowPrivateAddresses && named);
    if (!verdict.allowed) {
      // The security log line: who tried to reach what. The address stays in the (private) log, never in the result.
      ctx.logger.warn('probe refused a forbidden address', {
        event: 'ssrf-blocked',
        probeRegion: ctx.probeRegion,
        region: meta.region,
        target: meta.target,
        hostname: host,
        address: candidate.address,
        addressKind: verdict.kind,
        hop: meta.hop,
        configuredHost: named,
      });
      const where = meta.hop === 0 ? '' : ` (redirect ${meta.hop})`;
      // The fix in the detail: it is what the status page, the checker alert and local mode show (the key, naming the
      // host, or nothing for metadata), and a refusal is ours to explain, not the platform's failure.
      const fix = refusalFix(verdict.kind, ctx.probing.allowPrivateAddresses, named);
      throw new ProbeFailure('blocked-address', `refused to connect to a ${verdict.kind} address${where}${fix ? `: ${fix}` : ''}`);
    }
  }
  const [first] = addresses;
  if (first === undefined) throw new ProbeFailure('dns', `DNS lookup of ${host} returned no addresses`);
  return first;
}
