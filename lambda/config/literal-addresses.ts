// Targets whose address is known before any probe runs (an IP literal, localhost) and that the SSRF guard would refuse:
// config problems at validate and synth, each with its fix, rather than a refusal at the first round.
import { literalAddressKind, opensWithAllowPrivate, refusalFix, type AddressKind } from '../probe/address-guard';
import { resolverServer } from './resolver';

/** A target field whose literal address probers would refuse, and what to do about it. */
export interface LiteralRefusal {
  /** The field that holds the address: `url` (http, https), `host` (tcp, tls) or `resolver` (dns). */
  field: 'url' | 'host' | 'resolver';
  host: string;
  kind: AddressKind;
  message: string;
}

/** The host a raw target sends its probe to, and the field it is in; undefined when it has none yet (a typo elsewhere). */
function destinationOf(target: Readonly<Record<string, unknown>>): { field: LiteralRefusal['field']; host: string } | undefined {
  if ((target.type === 'http' || target.type === 'https') && typeof target.url === 'string') {
    try {
      return { field: 'url', host: new URL(target.url).hostname };
    } catch {
      return undefined; // the url's own rule reports it
    }
  }
  if ((target.type === 'tcp' || target.type === 'tls') && typeof target.host === 'string') return { field: 'host', host: target.host };
  // A dns target connects to its resolver (a name it only asks about): the guard checks the resolver.
  if (target.type === 'dns' && typeof target.resolver === 'string') {
    const server = resolverServer(target.resolver);
    return server ? { field: 'resolver', host: server.address } : undefined;
  }
  return undefined;
}

/**
 * The refusal a raw target's literal address meets, or undefined when probers may reach it (or it is a name: what
 * a name resolves to is judged at the first round). The guard's own classification and fix decide: a configured host
 * is opened by `probing.allowPrivateAddresses` when its kind is; metadata and link-local never are.
 */
export function literalRefusal(target: Readonly<Record<string, unknown>>, allowPrivate: boolean): LiteralRefusal | undefined {
  const destination = destinationOf(target);
  if (!destination) return undefined;
  const host = destination.host.replace(/^\[|\]$/g, '');
  const kind = literalAddressKind(host);
  if (kind === undefined) return undefined;
  const fix = refusalFix(kind, allowPrivate, true);
  if (fix === undefined) return undefined;
  const message = opensWithAllowPrivate(kind)
    ? `${host} is a ${kind} address, which probers refuse unless private addresses are allowed: ${fix} (right for regionwatch local or a private platform; it opens only the hosts this config names)`
    : `${host} is a ${kind} address, which probers always refuse: ${fix}; point the target at an address or name the platform serves on`;
  return { field: destination.field, host, kind, message };
}
