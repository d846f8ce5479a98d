// Local mode's one line per refused target: from the guard's security log line, once, with the address kind and the fix.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambda/config/load';
import { RefusalNotices } from '../../lambda/local/refusal-notices';

const config = (allowPrivateAddresses: boolean) =>
  parseConfig({
    platform: 'acme',
    probeRegions: ['us-east-1', 'eu-west-1'],
    homeRegion: 'us-east-1',
    defaults: { quorum: 1 },
    regions: { us: { targets: [{ name: 'api', type: 'http', url: 'https://api.us.acme.example/' }] } },
    probing: { allowPrivateAddresses },
  });

const blocked = (extra: Record<string, unknown>) => ({ event: 'ssrf-blocked', region: 'us', target: 'api', hostname: 'api.us.acme.example', address: '10.0.0.7', addressKind: 'private', hop: 0, configuredHost: true, ...extra });

describe('RefusalNotices', () => {
  it('says it once per target, whatever the probe regions and rounds, and again only for a new kind of refusal', () => {
    const lines: string[] = [];
    const notices = new RefusalNotices(config(false), (l) => lines.push(l));
    for (const probeRegion of ['us-east-1', 'eu-west-1', 'us-east-1']) notices.logger.warn('probe refused a forbidden address', blocked({ probeRegion }));
    notices.logger.warn('check did not settle by the round deadline', { event: 'check-unsettled' });
    notices.logger.warn('probe refused a forbidden address', blocked({ hop: 1, hostname: 'imds.acme.example', address: '169.254.169.254', addressKind: 'metadata', configuredHost: false }));
    expect(lines).toEqual([
      'api of us is not probed: api.us.acme.example resolves to a private address, which probers refuse; set probing.allowPrivateAddresses to true to probe it. A checker alert follows, not a platform page.',
      "api of us is not probed: its redirect 1 to imds.acme.example resolves to a metadata address, which probers refuse; no setting allows a metadata address (the cloud's instance metadata service), not even probing.allowPrivateAddresses. A checker alert follows, not a platform page.",
    ]);
  });

  it('names a redirect to a literal address and a refused resolver for what they are', () => {
    const lines: string[] = [];
    const notices = new RefusalNotices(config(true), (l) => lines.push(l));
    notices.noticed(blocked({ hop: 2, hostname: '127.0.0.1', addressKind: 'loopback', configuredHost: false }));
    notices.noticed({ event: 'ssrf-blocked', region: 'us', target: 'zone', address: '169.254.169.253', addressKind: 'metadata', hop: 0, resolver: true, configuredHost: true });
    expect(lines).toEqual([
      'api of us is not probed: its redirect 2 to 127.0.0.1 is a loopback address, which probers refuse; probing.allowPrivateAddresses opens private addresses only for the hosts the config names. A checker alert follows, not a platform page.',
      "zone of us is not probed: its resolver is a metadata address, which probers refuse; no setting allows a metadata address (the cloud's instance metadata service), not even probing.allowPrivateAddresses. A checker alert follows, not a platform page.",
    ]);
  });
});
