// One entry point for every check type.
import type { ResolvedTarget } from '../../config/resolve';
import type { ProbeResult } from '../../core/results';
import type { CheckContext } from '../context';
import type { HostSlot } from '../limiter';
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
