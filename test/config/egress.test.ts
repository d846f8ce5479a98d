// What a prober in a VPC must be let out to: the ports its targets use and the DNS servers they name, nothing else.
import { describe, expect, it } from 'vitest';
import { egressRuleCounts, probeEgress } from '../../lambda/config/egress';
import { parseConfig } from '../../lambda/config/load';

const config = (targets: unknown[]) =>
  parseConfig({ platform: 'acme', probeRegions: ['eu-west-1'], homeRegion: 'eu-west-1', defaults: { quorum: 1 }, regions: { eu: { targets } } });

describe('probeEgress', () => {
  it('opens 443 always, and each port the targets use once: URL ports with their scheme defaults, tcp and tls ports', () => {
    const egress = probeEgress(
      config([
        { name: 'plain', type: 'http', url: 'http://a.example/health' },
        { name: 'secure', type: 'https', url: 'https://a.example/health' },
        { name: 'admin', type: 'http', url: 'https://a.example:8443/health' },
        { name: 'db', type: 'tcp', host: 'db.example', port: 5432 },
        { name: 'db-again', type: 'tcp', host: 'db2.example', port: 5432 },
        { name: 'cert', type: 'tls', host: 'a.example' },
        { name: 'smtp-cert', type: 'tls', host: 'mx.example', port: 465 },
      ]),
    );
    expect(egress).toEqual({ tcpPorts: [80, 443, 465, 5432, 8443], resolvers: [] });
    expect(egressRuleCounts(egress)).toEqual({ ipv4: 5, ipv6: 0 });
  });

  it("names each DNS server a dns target asks, with its port (53 unless given), and none for the system's resolver", () => {
    const egress = probeEgress(
      config([
        { name: 'system', type: 'dns', hostname: 'a.example' },
        { name: 'v4', type: 'dns', hostname: 'a.example', resolver: '192.0.2.53' },
        { name: 'v4-again', type: 'dns', hostname: 'b.example', resolver: '192.0.2.53' },
        { name: 'v4-port', type: 'dns', hostname: 'a.example', resolver: '192.0.2.54:5353' },
        { name: 'v6', type: 'dns', hostname: 'a.example', resolver: '[2001:db8::53]' },
      ]),
    );
    expect(egress.tcpPorts).toEqual([443]);
    expect(egress.resolvers).toEqual([
      { address: '192.0.2.53', family: 4, port: 53 },
      { address: '192.0.2.54', family: 4, port: 5353 },
      { address: '2001:db8::53', family: 6, port: 53 },
    ]);
    // One UDP and one TCP rule per resolver, per address family.
    expect(egressRuleCounts(egress)).toEqual({ ipv4: 1 + 4, ipv6: 2 });
  });
});
