// Every validation rule's message, pinned one by one: these are what a user reads before anything is deployed.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateConfig, validateConfigText, type ConfigProblem } from '../../lambda/config/load';
import { DEFAULTS, LOG_RETENTION_DAYS } from '../../lambda/config/schema';
import { resolveTargets } from '../../lambda/config/resolve';

const example = JSON.parse(readFileSync(new URL('../../regionwatch.config.json', import.meta.url), 'utf8')) as Record<string, unknown>;

/** A small valid config; each test breaks one thing. */
function base(): Record<string, unknown> {
  return {
    platform: 'acme',
    probeRegions: ['us-east-1', 'eu-west-1', 'ap-southeast-1'],
    homeRegion: 'us-east-1',
    regions: {
      us: { targets: [{ name: 'api', type: 'http', url: 'https://api.us.acme.example/health' }] },
      eu: { targets: [] },
    },
  };
}

function problemsOf(input: unknown): ConfigProblem[] {
  const outcome = validateConfig(input);
  if (outcome.ok) throw new Error('expected the config to be rejected');
  return outcome.problems;
}

function targets(config: Record<string, unknown>): Record<string, unknown>[] {
  const regions = config.regions as Record<string, { targets: Record<string, unknown>[] }>;
  return regions.us?.targets ?? [];
}

describe('config validation', () => {
  it('accepts the committed example and fills every default in one place', () => {
    const outcome = validateConfig(example);
    expect(outcome.ok).toBe(true);
    const minimal = validateConfig(base());
    if (!minimal.ok) throw new Error(JSON.stringify(minimal.problems));
    expect(minimal.config.defaults).toEqual(DEFAULTS);
    expect(minimal.config.notifications).toEqual({ emails: [], slackWebhookSecretName: null, reminderMinutes: 30, pagerDuty: [], webhooks: [] });
    expect(minimal.config.statusPage).toEqual({ mode: 'off', title: null, domainName: null, certificateArn: null, vpcEndpointIds: [], historyDays: 90 });
    expect(minimal.config.probing.maxBodyBytes).toBe(65536);
    expect(minimal.config.probing.maxRedirects).toBe(5);
    expect(minimal.config.probing.allowPrivateAddresses).toBe(false);
    const [api] = resolveTargets(minimal.config);
    expect(api).toMatchObject({ region: 'us', role: 'read', method: 'GET', timeoutMs: 3000, quorum: 2, intervalSeconds: 10 });
  });

  it('lets a target override any default', () => {
    const config = base();
    targets(config)[0] = { ...targets(config)[0], timeoutMs: 1000, quorum: 3, failureThreshold: 4, intervalSeconds: 30 };
    const outcome = validateConfig(config);
    if (!outcome.ok) throw new Error(JSON.stringify(outcome.problems));
    expect(resolveTargets(outcome.config)[0]).toMatchObject({ timeoutMs: 1000, quorum: 3, failureThreshold: 4, intervalSeconds: 30, recoveryThreshold: 3 });
  });

  it('names an unknown key and suggests the near miss', () => {
    const config = { ...base(), defaults: { failureTreshold: 3 } };
    expect(problemsOf(config)).toEqual([{ path: 'defaults.failureTreshold', message: 'unknown key "failureTreshold"; did you mean "failureThreshold"?' }]);
  });

  it('suggests keys inside a target of the right type', () => {
    const config = base();
    targets(config).push({ name: 'db', type: 'tcp', host: 'db.example', prot: 5432 });
    expect(problemsOf(config)).toEqual([
      { path: 'regions.us.targets[1].port', message: 'is required (expected number)' },
      { path: 'regions.us.targets[1].prot', message: 'unknown key "prot"; did you mean "port"?' },
    ]);
  });

  it('lists the known keys when an unknown key is nothing like them', () => {
    const config = { ...base(), notifications: { opsgenie: 'x' } };
    expect(problemsOf(config)).toEqual([
      { path: 'notifications.opsgenie', message: 'unknown key "opsgenie"; known keys here: emails, slackWebhookSecretName, reminderMinutes, pagerDuty, webhooks' },
    ]);
    expect(problemsOf({ ...base(), notifications: { pagerduty: [] } })).toEqual([
      { path: 'notifications.pagerduty', message: 'unknown key "pagerduty"; did you mean "pagerDuty"?' },
    ]);
  });

  it('fills a PagerDuty service and a webhook with the default routing', () => {
    const outcome = validateConfig({
      ...base(),
      notifications: { pagerDuty: [{ name: 'oncall', routingKeySecretName: 'regionwatch/pagerduty' }], webhooks: [{ name: 'opsgenie', secretName: 'regionwatch/webhook' }] },
    });
    if (!outcome.ok) throw new Error(JSON.stringify(outcome.problems));
    expect(outcome.config.notifications.pagerDuty).toEqual([
      {
        name: 'oncall',
        routingKeySecretName: 'regionwatch/pagerduty',
        eventsUrl: 'https://events.pagerduty.com/v2/enqueue',
        route: { events: ['opened', 'escalated', 'resolved'], severities: ['down', 'read-only', 'degraded'] },
      },
    ]);
    expect(outcome.config.notifications.webhooks[0]?.route.events).toEqual(['opened', 'escalated', 'resolved']);
  });

  it('rejects channel routing that cannot work, naming each problem', () => {
    const config = {
      ...base(),
      notifications: {
        pagerDuty: [{ name: 'oncall', routingKeySecretName: 'regionwatch/pagerduty', route: { events: ['opened'], severities: ['down'], regions: ['us', 'mars'] } }],
        webhooks: [{ name: 'oncall', secretName: 'regionwatch/webhook', route: { events: ['paged'] } }],
      },
    };
    expect(problemsOf(config)).toEqual([
      { path: 'notifications.webhooks[0].route.events[0]', message: 'events must be among opened, escalated, deescalated, reminder, resolved, checker' },
      { path: 'notifications.pagerDuty[0].route.regions[1]', message: 'route region "mars" is not a platform region; use one of us, eu' },
      {
        path: 'notifications.pagerDuty[0].route.events',
        message: 'events include opened or escalated but not resolved: PagerDuty would never resolve the alerts regionwatch triggers; add "resolved"',
      },
      { path: 'notifications.webhooks[0].name', message: 'channel name "oncall" is already used by notifications.pagerDuty[0]; pagerDuty and webhook names must be unique' },
    ]);
  });

  it('rejects a status page whose domain, certificate or endpoints do not fit its mode', () => {
    expect(problemsOf({ ...base(), statusPage: { mode: 'public', domainName: 'status.acme.example' } })).toEqual([
      { path: 'statusPage.certificateArn', message: 'domainName and certificateArn go together: CloudFront serves a domain of your own only with its certificate; set both or neither' },
    ]);
    expect(problemsOf({ ...base(), statusPage: { mode: 'public', domainName: 'status.acme.example', certificateArn: 'arn:aws:acm:eu-west-1:111111111111:certificate/abc' } })).toEqual([
      { path: 'statusPage.certificateArn', message: 'certificateArn must be an ACM certificate ARN in us-east-1 (CloudFront reads certificates there)' },
    ]);
    expect(problemsOf({ ...base(), statusPage: { mode: 'public', vpcEndpointIds: ['vpce-0123456789abcdef0'] } })).toEqual([
      { path: 'statusPage.vpcEndpointIds', message: 'vpcEndpointIds apply to mode "private" only, not "public"' },
    ]);
    expect(problemsOf({ ...base(), statusPage: { mode: 'hidden' } })).toEqual([{ path: 'statusPage.mode', message: 'statusPage.mode must be off, public or private' }]);
  });

  it('rejects a URL that is not http(s)', () => {
    const config = base();
    targets(config)[0] = { name: 'api', type: 'http', url: 'ftp://api.us.acme.example/health' };
    expect(problemsOf(config)).toEqual([
      { path: 'regions.us.targets[0].url', message: 'url must be an absolute http:// or https:// URL, such as https://api.us.example.com/health' },
    ]);
  });

  it('rejects a timeout that leaves no time to start and write a round, in defaults and in a target', () => {
    expect(problemsOf({ ...base(), defaults: { intervalSeconds: 5, timeoutMs: 5000 } })).toEqual([
      { path: 'defaults.timeoutMs', message: 'timeoutMs 5000 leaves no time to start and write a round in a 5 s slot; use at most 3000 or raise intervalSeconds' },
    ]);
    // Shorter than the interval, but a queued round delivered a little late could never finish in its slot.
    expect(problemsOf({ ...base(), defaults: { intervalSeconds: 5, timeoutMs: 4500 } })).toEqual([
      { path: 'defaults.timeoutMs', message: 'timeoutMs 4500 leaves no time to start and write a round in a 5 s slot; use at most 3000 or raise intervalSeconds' },
    ]);
    expect(validateConfig({ ...base(), defaults: { intervalSeconds: 5, timeoutMs: 3000 } }).ok).toBe(true);
    const config = base();
    targets(config)[0] = { ...targets(config)[0], timeoutMs: 9500 };
    expect(problemsOf(config)).toEqual([
      { path: 'regions.us.targets[0].timeoutMs', message: 'timeoutMs 9500 leaves no time to start and write a round in a 10 s slot; use at most 8000' },
    ]);
    // A target probed every 30 s is still checked inside a 10 s round: its timeout must fit that slot.
    const slower = base();
    targets(slower)[0] = { ...targets(slower)[0], intervalSeconds: 30, timeoutMs: 25000 };
    expect(problemsOf(slower)).toEqual([
      {
        path: 'regions.us.targets[0].timeoutMs',
        message:
          'timeoutMs 25000 leaves no time to start and write a round in a 10 s slot; use at most 8000 (rounds run every defaults.intervalSeconds, 10 s, whatever the target\'s own interval)',
      },
    ]);
    targets(slower)[0] = { ...targets(slower)[0], intervalSeconds: 30, timeoutMs: 8000 };
    expect(validateConfig(slower).ok).toBe(true);
  });

  it('rejects an interval that does not divide a minute', () => {
    expect(problemsOf({ ...base(), defaults: { intervalSeconds: 7 } })).toEqual([
      { path: 'defaults.intervalSeconds', message: 'intervalSeconds must divide a minute: one of 5, 6, 10, 12, 15, 20, 30, 60' },
    ]);
  });

  it('rejects a quorum larger than the number of probe regions', () => {
    expect(problemsOf({ ...base(), defaults: { quorum: 4 } })).toEqual([
      { path: 'defaults.quorum', message: 'quorum 4 is larger than the 3 probe regions; use at most 3' },
    ]);
  });

  it('rejects thresholds below 1', () => {
    expect(problemsOf({ ...base(), defaults: { failureThreshold: 0, recoveryThreshold: 0 } })).toEqual([
      { path: 'defaults.failureThreshold', message: 'failureThreshold must be at least 1; it counts consecutive failing slots before a target is down' },
      { path: 'defaults.recoveryThreshold', message: 'recoveryThreshold must be at least 1; it counts consecutive good slots before a target is up again' },
    ]);
  });

  it('rejects duplicate target names within a region', () => {
    const config = base();
    targets(config).push({ name: 'api', type: 'tcp', host: 'db.example', port: 5432 });
    expect(problemsOf(config)).toEqual([
      { path: 'regions.us.targets[1].name', message: 'target name "api" is already used by regions.us.targets[0]; names must be unique within a region' },
    ]);
  });

  it('allows the same target name in two regions', () => {
    const config = base();
    (config.regions as Record<string, unknown>).eu = { targets: [{ name: 'api', type: 'http', url: 'https://api.eu.acme.example/health' }] };
    expect(validateConfig(config).ok).toBe(true);
  });

  it('rejects probe regions that are not AWS region codes', () => {
    expect(problemsOf({ ...base(), probeRegions: ['us-east-1', 'europe', 'ap-southeast-1'] })).toEqual([
      { path: 'probeRegions[1]', message: 'probe regions must be AWS region codes such as us-east-1' },
    ]);
  });

  it('rejects a home region that is not a probe region', () => {
    expect(problemsOf({ ...base(), homeRegion: 'us-west-2' })).toEqual([
      { path: 'homeRegion', message: 'homeRegion "us-west-2" is not a probe region; use one of us-east-1, eu-west-1, ap-southeast-1' },
    ]);
  });

  it('rejects a maintenance window that ends before it starts, or names an unknown region', () => {
    const config = { ...base(), maintenance: [{ region: 'apac', start: '2026-12-01T03:00:00Z', end: '2026-12-01T02:00:00Z' }] };
    expect(problemsOf(config)).toEqual([
      { path: 'maintenance[0].region', message: 'maintenance region "apac" is not a platform region; use one of us, eu' },
      { path: 'maintenance[0].end', message: 'maintenance window ends (2026-12-01T02:00:00Z) before it starts (2026-12-01T03:00:00Z); end must be after start' },
    ]);
  });

  it('rejects a write probe that only reads', () => {
    const config = base();
    targets(config).push({ name: 'write-path', type: 'http', url: 'https://api.us.acme.example/canary', role: 'write-probe' });
    expect(problemsOf(config)).toEqual([
      { path: 'regions.us.targets[1].method', message: 'a write-probe must use method POST or PUT, which a read-only platform refuses' },
    ]);
  });

  it('rejects an expected status that is not a final HTTP status', () => {
    const config = base();
    targets(config)[0] = { name: 'api', type: 'http', url: 'https://api.us.acme.example/ws', expect: { status: [101, 200, 600] } };
    const message = 'expect.status entries must be final HTTP status codes (200-599); a 1xx is never a final answer';
    expect(problemsOf(config)).toEqual([
      { path: 'regions.us.targets[0].expect.status[0]', message },
      { path: 'regions.us.targets[0].expect.status[2]', message },
    ]);
  });

  it('rejects header names and values a request cannot carry, and the headers the prober sets itself', () => {
    const config = base();
    targets(config)[0] = {
      name: 'api',
      type: 'http',
      url: 'https://api.us.acme.example/health',
      headers: {
        'X Token': 'a',
        'X-Split': 'one\r\nInjected: yes',
        'X-Nul': 'a\u0000b',
        Host: 'internal.acme.example',
        'Transfer-Encoding': 'chunked',
        'user-agent': 'pretend-browser',
        'X-RegionWatch-Probe-Region': 'somewhere',
        'X-Fine': 'tab\tand Latin-1 é',
        'x-fine': 'again',
      },
    };
    const at = 'regions.us.targets[0].headers';
    expect(problemsOf(config)).toEqual([
      { path: `${at}["X Token"]`, message: 'header name "X Token" is not an HTTP field name; use letters, digits and !#$%&\'*+-.^_`|~ only (no spaces, colons or control characters)' },
      { path: `${at}.X-Split`, message: 'header value must be one line of Latin-1 text: no CR, LF, NUL or other control characters (a tab is fine); remove the line break or encode the value' },
      { path: `${at}.X-Nul`, message: 'header value must be one line of Latin-1 text: no CR, LF, NUL or other control characters (a tab is fine); remove the line break or encode the value' },
      { path: `${at}.Host`, message: "header Host cannot be set: the prober sends the URL's host; put the name in url; remove it" },
      { path: `${at}.Transfer-Encoding`, message: 'header Transfer-Encoding cannot be set: the prober frames the body itself; remove it' },
      { path: `${at}.user-agent`, message: 'header user-agent cannot be set: every probe sends User-Agent: regionwatch/<version>, so a platform can recognise it; remove it' },
      { path: `${at}.X-RegionWatch-Probe-Region`, message: 'header X-RegionWatch-Probe-Region cannot be set: every probe sends its own probe region, so a platform can recognise it; remove it' },
      { path: `${at}.x-fine`, message: 'header x-fine is already set as X-Fine (header names are case-insensitive); keep one' },
    ]);
  });

  it('accepts ordinary headers, credentials included', () => {
    const config = base();
    targets(config)[0] = { name: 'api', type: 'http', url: 'https://api.us.acme.example/health', headers: { Authorization: 'Bearer abc.def', 'X-Api-Key': 'k', Accept: 'application/json' } };
    expect(validateConfig(config).ok).toBe(true);
  });

  it('names an unknown check type', () => {
    const config = base();
    targets(config)[0] = { name: 'mail', type: 'smtp', host: 'mx.example' };
    expect(problemsOf(config)).toEqual([{ path: 'regions.us.targets[0].type', message: 'type must be one of http, https, tcp, dns, tls' }]);
  });

  it('reports every problem at once, field and cross-field rules together', () => {
    const config = { ...base(), homeRegion: 'us-west-2', defaults: { quorum: 5, recoveryThreshol: 2 } };
    targets(config)[0] = { name: 'api', type: 'http', url: 'gopher://x' };
    expect(problemsOf(config).map((p) => p.path)).toEqual([
      'defaults.recoveryThreshol',
      'regions.us.targets[0].url',
      'homeRegion',
      'defaults.quorum',
    ]);
  });

  it('keeps logs a year by default and takes only CloudWatch Logs retention periods', () => {
    const minimal = validateConfig(base());
    if (!minimal.ok) throw new Error(JSON.stringify(minimal.problems));
    expect(minimal.config.logs).toEqual({ retentionDays: 365, invocationReports: false });
    expect(validateConfig({ ...base(), logs: { retentionDays: 30 } }).ok).toBe(true);
    expect(problemsOf({ ...base(), logs: { retentionDays: 31 } })).toEqual([
      { path: 'logs.retentionDays', message: `logs.retentionDays must be one of CloudWatch Logs' periods: ${LOG_RETENTION_DAYS.join(', ')}` },
    ]);
  });

  describe('vpc', () => {
    const vpc = (n: number) => ({ vpcId: `vpc-0${n}23456789abcdef0`, subnetIds: [`subnet-0${n}a3456789abcdef0`, `subnet-0${n}b3456789abcdef0`] });
    const allRegions = () => ({ 'us-east-1': vpc(1), 'eu-west-1': vpc(2), 'ap-southeast-1': vpc(3) });

    it('is off by default and takes a VPC and its subnets by id for every probe region (short and long ids)', () => {
      const minimal = validateConfig(base());
      expect(minimal.ok && minimal.config.vpc).toBeUndefined();
      const outcome = validateConfig({ ...base(), vpc: { ...allRegions(), 'eu-west-1': { vpcId: 'vpc-0a1b2c3d', subnetIds: ['subnet-0a1b2c3d'] } } });
      if (!outcome.ok) throw new Error(JSON.stringify(outcome.problems));
      expect(outcome.config.vpc?.['eu-west-1']).toEqual({ vpcId: 'vpc-0a1b2c3d', subnetIds: ['subnet-0a1b2c3d'] });
    });

    it('names a bad VPC id, a bad or repeated subnet id and an empty subnet list, each with the fix', () => {
      const config = {
        ...base(),
        vpc: {
          ...allRegions(),
          'us-east-1': { vpcId: 'vpc-123', subnetIds: [] },
          'eu-west-1': { vpcId: 'vpc-0223456789abcdef0', subnetIds: ['subnet-02a3456789abcdef0', 'subnet-02a3456789abcdef0', 'subnet-x'] },
        },
      };
      expect(problemsOf(config)).toEqual([
        { path: 'vpc.us-east-1.vpcId', message: 'vpcId must be a VPC id such as vpc-0123456789abcdef0' },
        {
          path: 'vpc.us-east-1.subnetIds',
          message: 'subnetIds needs at least one private subnet id (two, in different Availability Zones, keep the functions up when one zone fails)',
        },
        { path: 'vpc.eu-west-1.subnetIds[2]', message: 'must be a subnet id such as subnet-0123456789abcdef0' },
        { path: 'vpc.eu-west-1.subnetIds[1]', message: 'subnet subnet-02a3456789abcdef0 is listed twice; list each once' },
      ]);
    });

    it("wants every probe region and no other region, since a region outside its VPC probes from addresses nobody allowlisted", () => {
      const { 'ap-southeast-1': _left, ...two } = allRegions();
      expect(problemsOf({ ...base(), vpc: { ...two, 'us-west-2': vpc(4) } })).toEqual([
        { path: 'vpc.us-west-2', message: 'us-west-2 is not a probe region; use one of us-east-1, eu-west-1, ap-southeast-1, or remove it' },
        {
          path: 'vpc.ap-southeast-1',
          message:
            'probe region ap-southeast-1 has no VPC; with vpc set, every probe region\'s functions run in its VPC: add { "vpcId": "vpc-…", "subnetIds": ["subnet-…"] } for ap-southeast-1, or remove vpc',
        },
      ]);
    });

    it('takes no security groups (regionwatch makes its own, egress only) and at most 16 subnets', () => {
      const withGroups = { ...base(), vpc: { ...allRegions(), 'us-east-1': { ...vpc(1), securityGroupIds: ['sg-0123456789abcdef0'] } } };
      expect(problemsOf(withGroups)).toEqual([{ path: 'vpc.us-east-1.securityGroupIds', message: 'unknown key "securityGroupIds"; known keys here: vpcId, subnetIds' }]);
      const subnets = Array.from({ length: 17 }, (_, i) => `subnet-${(0x10000000 + i).toString(16)}`);
      expect(problemsOf({ ...base(), vpc: { ...allRegions(), 'us-east-1': { vpcId: 'vpc-01234567', subnetIds: subnets } } })).toEqual([
        { path: 'vpc.us-east-1.subnetIds', message: "subnetIds may list at most 16 subnets (Lambda's limit)" },
      ]);
    });

    it("refuses targets whose ports need more egress rules than the prober's security group holds", () => {
      const config = base();
      (config.regions as Record<string, unknown>).us = {
        targets: Array.from({ length: 60 }, (_, i) => ({ name: `db-${i}`, type: 'tcp', host: 'db.us.acme.example', port: 10_000 + i })),
      };
      expect(problemsOf({ ...config, vpc: allRegions() })).toEqual([
        {
          path: 'vpc',
          message:
            "in a VPC the prober's security group needs 61 ipv4 egress rules (one per TCP port the targets use and 443, two per DNS resolver), more than the 60 a security group holds; use fewer distinct ports or resolvers, or remove vpc",
        },
      ]);
      // Outside a VPC there is no security group to fill.
      expect(validateConfig(config).ok).toBe(true);
    });
  });

  describe('literal addresses the SSRF guard refuses (FAULTS 15: known before any probe)', () => {
    const KEY = 'set probing.allowPrivateAddresses to true to probe it (right for regionwatch local or a private platform; it opens only the hosts this config names)';
    const NEVER = (kind: string) => `no setting allows a ${kind} address, not even probing.allowPrivateAddresses; point the target at an address or name the platform serves on`;
    const METADATA = "no setting allows a metadata address (the cloud's instance metadata service), not even probing.allowPrivateAddresses; point the target at an address or name the platform serves on";
    const refusing = () => {
      const config = base();
      (config.regions as Record<string, unknown>).us = {
        targets: [
          { name: 'api', type: 'http', url: 'http://127.0.0.1:18080/health' },
          { name: 'v6', type: 'https', url: 'https://[::1]:8443/health' },
          { name: 'named', type: 'http', url: 'http://localhost:8080/' },
          { name: 'db', type: 'tcp', host: '10.0.3.7', port: 5432 },
          { name: 'cert', type: 'tls', host: '100.64.1.2' },
          { name: 'zone', type: 'dns', hostname: 'acme.example', resolver: '192.168.1.53:5353' },
          { name: 'imds', type: 'http', url: 'http://169.254.169.254/latest/meta-data/' },
          { name: 'link', type: 'tcp', host: 'fe80::1', port: 22 },
          { name: 'mapped', type: 'http', url: 'http://[::ffff:169.254.169.254]/' },
          { name: 'public', type: 'http', url: 'http://93.184.216.34/' },
          { name: 'by-name', type: 'http', url: 'http://api.internal.acme.example/' },
        ],
      };
      return config;
    };

    it('reports each with its path, its address kind and the key that allows it, when private addresses are not allowed', () => {
      expect(problemsOf(refusing())).toEqual([
        { path: 'regions.us.targets[0].url', message: `127.0.0.1 is a loopback address, which probers refuse unless private addresses are allowed: ${KEY}` },
        { path: 'regions.us.targets[1].url', message: `::1 is a loopback address, which probers refuse unless private addresses are allowed: ${KEY}` },
        { path: 'regions.us.targets[2].url', message: `localhost is a loopback address, which probers refuse unless private addresses are allowed: ${KEY}` },
        { path: 'regions.us.targets[3].host', message: `10.0.3.7 is a private address, which probers refuse unless private addresses are allowed: ${KEY}` },
        { path: 'regions.us.targets[4].host', message: `100.64.1.2 is a carrier-grade-nat address, which probers refuse unless private addresses are allowed: ${KEY}` },
        { path: 'regions.us.targets[5].resolver', message: `192.168.1.53 is a private address, which probers refuse unless private addresses are allowed: ${KEY}` },
        { path: 'regions.us.targets[6].url', message: `169.254.169.254 is a metadata address, which probers always refuse: ${METADATA}` },
        { path: 'regions.us.targets[7].host', message: `fe80::1 is a link-local address, which probers always refuse: ${NEVER('link-local')}` },
        { path: 'regions.us.targets[8].url', message: `::ffff:a9fe:a9fe is a metadata address, which probers always refuse: ${METADATA}` },
      ]);
    });

    it('with the key, leaves only what no setting allows: metadata and link-local stay refused', () => {
      expect(problemsOf({ ...refusing(), probing: { allowPrivateAddresses: true } }).map((p) => p.path)).toEqual([
        'regions.us.targets[6].url',
        'regions.us.targets[7].host',
        'regions.us.targets[8].url',
      ]);
      const config = refusing();
      (config.regions as Record<string, { targets: unknown[] }>).us?.targets.splice(6, 3);
      expect(validateConfig({ ...config, probing: { allowPrivateAddresses: true } }).ok).toBe(true);
    });

    it('reports them beside every other problem, before the rest of the config is fixed', () => {
      const config = { ...refusing(), homeRegion: 'mars-1' };
      const paths = problemsOf(config).map((p) => p.path);
      expect(paths).toContain('homeRegion');
      expect(paths).toContain('regions.us.targets[0].url');
    });
  });

  it('reports a file that is not JSON with its line and column', () => {
    const text = '{\n  "platform": "acme",\n  "probeRegions": ["us-east-1"]\n  "homeRegion": "us-east-1"\n}\n';
    const outcome = validateConfigText(text);
    expect(outcome).toEqual({
      ok: false,
      problems: [{ path: '(file)', message: 'not valid JSON at line 4, column 3: expected , or } but found "\\""; fix the syntax (a missing comma or quote is the usual cause)' }],
    });
    const trailing = validateConfigText('{"platform": "acme",\n}');
    expect(trailing.ok === false && trailing.problems[0]?.message).toContain('line 2, column 1: trailing comma before }');
  });
});
