// A dns target's `resolver` spec (an IP address, optionally with a port) read apart: the check asks that server, and a
// prober in a VPC opens exactly that address and port. Kept beside the config so validation does not load probe code.
import { isIP } from 'node:net';

/** Where a resolver listens unless its spec names a port. */
export const DNS_PORT = 53;

/**
 * `host`, `host:port`, `[v6]` or `[v6]:port` to the form Resolver.setServers takes, with the address and port apart
 * (a prober in a VPC needs them for its security group); undefined for a hostname.
 */
export function resolverServer(spec: string): { server: string; address: string; port: number } | undefined {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
  if (bracketed) {
    const [, address = '', port] = bracketed;
    if (isIP(address) !== 6) return undefined;
    return { address, server: port ? `[${address}]:${port}` : address, port: port ? Number(port) : DNS_PORT };
  }
  if (isIP(spec) !== 0) return { address: spec, server: spec, port: DNS_PORT };
  const hostPort = /^([^:]+):(\d+)$/.exec(spec);
  if (hostPort) {
    const [, address = '', port = ''] = hostPort;
    if (isIP(address) !== 4) return undefined;
    return { address, server: `${address}:${port}`, port: Number(port) };
  }
  return undefined;
}
