// Where a prober's traffic goes, as ports and addresses: what its security group must let out when it runs in a VPC.
import { isIP } from 'node:net';
import { resolverServer } from './resolver';
import type { RegionwatchConfig } from './schema';

/** Every AWS API regionwatch calls (DynamoDB, SQS, SNS, Secrets Manager, CloudFormation's S3 response URL) is HTTPS. */
export const AWS_API_PORT = 443;
/** The default quota of outbound rules per security group (per address family). */
export const SECURITY_GROUP_RULE_LIMIT = 60;

export interface ProbeEgress {
  /** TCP ports open to any IPv4 address, ascending: 443 always, and every port an http(s), tcp or tls target uses. */
  readonly tcpPorts: readonly number[];
  /** DNS servers that dns targets name, each reached on its port over UDP and TCP (the VPC's own resolver needs no rule). */
  readonly resolvers: readonly { readonly address: string; readonly family: 4 | 6; readonly port: number }[];
}

/**
 * The prober's egress from the config: by port, not by address, because targets are names that resolve at probe time.
 * A redirect to a port no target names is refused by the security group and reads as a connect failure.
 */
export function probeEgress(config: RegionwatchConfig): ProbeEgress {
  const tcp = new Set<number>([AWS_API_PORT]);
  const resolvers = new Map<string, ProbeEgress['resolvers'][number]>();
  for (const target of Object.values(config.regions).flatMap((r) => r.targets)) {
    if (target.type === 'http' || target.type === 'https') {
      const url = new URL(target.url);
      tcp.add(url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port));
    } else if (target.type === 'tcp' || target.type === 'tls') {
      tcp.add(target.port);
    } else if (target.type === 'dns' && target.resolver !== undefined) {
      const server = resolverServer(target.resolver);
      if (!server) continue; // The check itself reports a resolver that is no address; there is nothing to open.
      resolvers.set(`${server.address}#${server.port}`, { address: server.address, family: isIP(server.address) === 6 ? 6 : 4, port: server.port });
    }
  }
  return { tcpPorts: [...tcp].sort((a, b) => a - b), resolvers: [...resolvers.values()] };
}

/** Outbound rules the prober's security group needs, per address family (a resolver takes one UDP and one TCP rule). */
export function egressRuleCounts(egress: ProbeEgress): { ipv4: number; ipv6: number } {
  const resolverRules = (family: 4 | 6) => 2 * egress.resolvers.filter((r) => r.family === family).length;
  return { ipv4: egress.tcpPorts.length + resolverRules(4), ipv6: resolverRules(6) };
}
