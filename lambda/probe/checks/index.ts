// One entry point for every check type.
import type { ResolvedTarget } from '../../config/resolve';
import type { ProbeResult } from '../../core/results';
import type { CheckContext } from '../context';
import type { HostSlot } from '../limiter';
import { bareHost } from '../resolve-host';
import { dnsCheck } from './dns';
import { httpCheck } from './http';
import { tcpCheck } from './tcp';
import { tlsCheck } from './tls';

export { dnsCheck, httpCheck, tcpCheck, tlsCheck };

/** Runs the target's check once. Never throws, never retries; bounded by target.timeoutMs and the round deadline. */
export function checkTarget(target: ResolvedTarget, ctx: CheckContext, hostSlot?: HostSlot): Promise<ProbeResult> {
  switch (target.type) {
    case 'http':
    case 'https':
      return httpCheck(target, ctx, hostSlot);
    case 'tcp':
      return tcpCheck(target, ctx);
    case 'dns':
      return dnsCheck(target, ctx);
    case 'tls':
      return tlsCheck(target, ctx);
  }
}

/** The host a check talks to, for the per-host concurrency cap (a redirect hop's host is its URL's, the same way). */
export function hostOf(target: ResolvedTarget): string {
  switch (target.type) {
    case 'http':
    case 'https':
      return new URL(target.url).hostname.toLowerCase();
    case 'tcp':
    case 'tls':
      return target.host.toLowerCase();
    case 'dns':
      return `dns:${target.resolver ?? 'system'}`;
  }
}

/**
 * The hosts a config names as destinations: the URL host of every http(s) target and the host of every tcp
 * and tls target (lowercase, IPv6 without brackets). A dns target's resolver is checked where it is used.
 */
export function configuredHosts(targets: readonly ResolvedTarget[]): Set<string> {
  const hosts = new Set<string>();
  for (const target of targets) {
    if (target.type === 'dns') continue;
    hosts.add(bareHost(hostOf(target)));
  }
  return hosts;
}
