// The dns check: one query of one record type (to the configured resolver or the system's), every expected answer present.
import { Resolver } from 'node:dns/promises';
import { isIP, SocketAddress } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ProbeResult, Timings } from '../../core/results';
import { checkAddress, refusalFix } from '../address-guard';
import type { CheckContext } from '../context';
import { Deadline, raceDeadline } from '../deadline';
import { ProbeFailure, timeoutFailure } from '../errors';
import { resolverServer } from '../../config/resolver';
import { build, failed, passed, type ResolvedDnsTarget } from './result';

export async function dnsCheck(target: ResolvedDnsTarget, ctx: CheckContext): Promise<ProbeResult> {
  const started = performance.now();
  const deadline = new Deadline(target.timeoutMs, ctx.roundSignal);
  const timings: Timings = {};
  const seen = () => ({ latencyMs: performance.now() - started, timings });
  // One try, timed out by the resolver itself a little before our deadline, so c-ares cleans up after itself.
  const resolver = new Resolver({ timeout: Math.max(50, target.timeoutMs - 50), tries: 1 });
  const off = deadline.onExpire(() => resolver.cancel());
  try {
    if (target.resolver !== undefined) {
      const server = resolverServer(target.resolver);
      if (!server) throw new ProbeFailure('dns', `resolver ${target.resolver} must be an IP address, optionally with :port`);
      // The configured resolver is a destination too: the same guard applies (metadata stays blocked).
      const verdict = checkAddress(server.address, ctx.probing.allowPrivateAddresses);
      if (!verdict.allowed) {
        ctx.logger.warn('probe refused a forbidden address', {
          event: 'ssrf-blocked', probeRegion: ctx.probeRegion, region: target.region, target: target.name,
          address: server.address, addressKind: verdict.kind, hop: 0, resolver: true, configuredHost: true,
        });
        // The config names the resolver, so the key opens a private one.
        const fix = refusalFix(verdict.kind, ctx.probing.allowPrivateAddresses, true);
        throw new ProbeFailure('blocked-address', `refused to query a resolver at a ${verdict.kind} address${fix ? `: ${fix}` : ''}`);
      }
      resolver.setServers([server.server]);
    }
    const answers = await raceDeadline(query(resolver, target.hostname, target.recordType), deadline);
    timings.dnsMs = performance.now() - started;
    const wanted = target.expect.answers ?? [];
    const normalized = new Set(answers.map(normalize));
    const missing = wanted.filter((answer) => !normalized.has(normalize(answer)));
    if (missing.length > 0) {
      return build(target, seen(), {
        status: 'down',
        errorClass: 'assertion',
        detail: `${target.recordType} ${target.hostname} lacks ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}`,
      });
    }
    return passed(target, seen());
  } catch (error: unknown) {
    if (error instanceof ProbeFailure) return failed(target, seen(), error);
    if (deadline.expired) return failed(target, seen(), deadline.failure('dns'));
    const code = error !== null && typeof error === 'object' && 'code' in error ? String(error.code) : 'error';
    // The resolver's own timeout fires just before ours: the same silence, told the same way.
    if (code === 'ETIMEOUT') return failed(target, seen(), timeoutFailure('dns', target.timeoutMs, 'request'));
    return failed(target, seen(), new ProbeFailure('dns', `${target.hostname} ${resolverAnswer(code, target.recordType)}`));
  } finally {
    off();
    deadline.dispose();
  }
}

/**
 * What the resolver's answer means, for the detail: an operator acts differently on a name that is gone, a resolver
 * that refuses or fails, and one that is not there at all (c-ares's codes, not the DNS wire's, in brackets otherwise).
 */
function resolverAnswer(code: string, recordType: ResolvedDnsTarget['recordType']): string {
  switch (code) {
    case 'ENOTFOUND':
      return 'does not exist (NXDOMAIN)';
    case 'ENODATA':
      return `has no ${recordType} record`;
    case 'EREFUSED':
      return 'was refused by the resolver (REFUSED)';
    case 'ESERVFAIL':
      return 'could not be resolved: the resolver failed (SERVFAIL)';
    case 'ECONNREFUSED':
      return 'not looked up: nothing answers at the resolver\'s address (ECONNREFUSED)';
    default:
      return `lookup failed (${code})`;
  }
}

async function query(resolver: Resolver, hostname: string, type: ResolvedDnsTarget['recordType']): Promise<string[]> {
  switch (type) {
    case 'A':
      return resolver.resolve4(hostname);
    case 'AAAA':
      return resolver.resolve6(hostname);
    case 'CNAME':
      return resolver.resolveCname(hostname);
    case 'NS':
      return resolver.resolveNs(hostname);
    case 'TXT':
      return (await resolver.resolveTxt(hostname)).map((chunks) => chunks.join(''));
    case 'MX':
      return (await resolver.resolveMx(hostname)).flatMap((mx) => [mx.exchange, `${mx.priority} ${mx.exchange}`]);
  }
}

/**
 * One spelling per answer: case and a trailing dot ignored, and an IPv6 address in its one canonical text form
 * (resolvers answer `2001:db8::1`; a config may say `2001:0DB8:0:0:0:0:0:1`, the same address).
 */
function normalize(answer: string): string {
  const text = answer.trim().toLowerCase().replace(/\.$/, '');
  return isIP(text) === 6 ? new SocketAddress({ address: text, family: 'ipv6' }).address : text;
}
