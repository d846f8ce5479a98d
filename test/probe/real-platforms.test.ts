// The real checks against real platforms: Debian's nginx (regions flipped at run time, a read-only mirror, 503s,
// redirects, throttled, huge and gzip bodies, TLS certificates, proxied hangs and upgrades) and dnsmasq (A, AAAA, MX,
// TXT, NODATA, NXDOMAIN, REFUSED, stopped, hung). nginx's access log is the record of what reached the platform.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../lambda/core/results';
import { runRound } from '../../lambda/probe/round';
import { USER_AGENT } from '../../lambda/version';
import { startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq';
import { startNginxPlatform, type AccessLogEntry, type NginxPlatform } from '../helpers/nginx-platform';
import { makeTestCertificates, startRawHttpServer, startTcpServer, type RawHttpServer, type TestCertificates } from '../helpers/servers';
import type { HostLookup } from '../../lambda/probe/context';
import { memoryLogger, realClock, tableLookup, testConfig } from './fixtures';

let certs: TestCertificates;
let nginx: NginxPlatform;
let dns: Dnsmasq;
let silent: Awaited<ReturnType<typeof startTcpServer>>;
let raw: RawHttpServer;

beforeAll(async () => {
  certs = makeTestCertificates();
  [silent, raw, dns] = await Promise.all([
    startTcpServer(),
    startRawHttpServer(),
    startDnsmasq({
      zone: 'acme.test',
      hosts: { 'api.us.acme.test': ['127.0.0.1', '::1'], 'api.eu.acme.test': ['127.0.0.1'], 'internal.acme.test': ['127.0.0.1'], 'v6.acme.test': ['2001:db8::1'] },
      mx: { 'acme.test': [{ exchange: 'mx1.acme.test', priority: 10 }] },
      txt: { 'acme.test': ['v=spf1 -all'] },
    }),
  ]);
  nginx = await startNginxPlatform({
    regions: ['us', 'eu', 'apac', 'sa'],
    tls: { valid: certs.valid, expiringSoon: certs.expiringSoon, selfSigned: certs.selfSigned },
    silentUpstreamPort: silent.port,
    rawUpstreamPort: raw.port,
    heldConnections: 2,
  });
});

afterAll(async () => {
  await Promise.all([nginx?.close(), dns?.close(), silent?.close(), raw?.close()]);
});

const get = (results: readonly ProbeResult[], name: string): ProbeResult => {
  const found = results.find((r) => r.target === name);
  if (!found) throw new Error(`no result for ${name}`);
  return found;
};

const logged = (filter: (entry: AccessLogEntry) => boolean) => nginx.accessLog().filter(filter);

/**
 * nginx writes a request's log line in its log phase, after the last byte has gone to the socket, so a prober can be
 * done with an answer before its line is in the file (CI saw 5 of 6 lines). Waits, bounded, until the lines that match
 * number at least `atLeast` and the log has stopped growing for 50 ms, then returns them.
 */
async function settledLog(filter: (entry: AccessLogEntry) => boolean = () => true, atLeast = 0): Promise<AccessLogEntry[]> {
  const deadline = Date.now() + 3000;
  let seen = -1;
  for (;;) {
    const all = nginx.accessLog();
    const matching = all.filter(filter);
    if ((matching.length >= atLeast && all.length === seen) || Date.now() > deadline) return matching;
    seen = all.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('HTTP against nginx', () => {
  let results: ProbeResult[];
  let wallMs: number;
  let rssGrowthMb: number;
  const logger = memoryLogger();
  const probeRegion = 'eu-west-1';

  beforeAll(async () => {
    nginx.setState('us', 'up');
    nginx.setState('eu', 'down');
    nginx.setState('apac', 'slow');
    nginx.setState('sa', 'read-only');
    const o = nginx.origin;
    const byName = `http://api.us.acme.test:${nginx.port}`;
    const config = testConfig(
      {
        us: [
          { name: 'health', type: 'http', url: `${byName}/us/health`, expect: { bodyContains: 'ok' } },
          { name: 'head', type: 'http', method: 'HEAD', url: `${o}/us/health` },
          { name: 'write', type: 'http', method: 'POST', url: `${o}/us/canary`, role: 'write-probe', body: '{"canary":true}' },
          { name: 'gzip-json', type: 'http', url: `${o}/gzip/health.json`, expect: { json: { path: '$.status', equals: 'ok' } } },
          { name: 'redirect-followed', type: 'http', url: `${o}/redirect/health`, expect: { bodyContains: 'ok' } },
          { name: 'redirect-loop', type: 'http', url: `${o}/redirect/loop-a` },
          { name: 'redirect-metadata', type: 'http', url: `${o}/redirect/metadata` },
          { name: 'redirect-private', type: 'http', url: `${o}/redirect/private` },
          { name: 'redirect-unnamed', type: 'http', url: `${o}/redirect/unnamed` },
          { name: 'nxdomain', type: 'http', url: `http://gone.acme.test:${nginx.port}/us/health` },
        ],
        eu: [
          { name: 'health', type: 'http', url: `http://api.eu.acme.test:${nginx.port}/eu/health`, expect: { bodyContains: 'ok' } },
          { name: 'write', type: 'http', method: 'POST', url: `${o}/eu/canary`, role: 'write-probe', body: '{}' },
          { name: 'status-500', type: 'http', url: `${o}/status/500` },
        ],
        apac: [{ name: 'health', type: 'http', url: `${o}/apac/health`, expect: { bodyContains: 'ok' }, degradedLatencyMs: 500, timeoutMs: 3000 }],
        sa: [
          { name: 'health', type: 'http', url: `${o}/sa/health`, expect: { bodyContains: 'ok' } },
          { name: 'write', type: 'http', method: 'POST', url: `${o}/sa/canary`, role: 'write-probe', body: '{"canary":true}' },
          { name: 'write-mirror', type: 'http', method: 'POST', url: `${o}/mirror/canary`, role: 'write-probe', body: '{}' },
          { name: 'write-static', type: 'http', method: 'PUT', url: `${o}/static/canary`, role: 'write-probe', body: '{}' },
        ],
        faults: [
          { name: 'drip', type: 'http', url: `${o}/drip`, timeoutMs: 1500 },
          { name: 'hang', type: 'http', url: `${o}/hang`, timeoutMs: 1500 },
          { name: 'gateway-timeout', type: 'http', url: `${o}/gateway-timeout`, timeoutMs: 1500 },
          { name: 'close', type: 'http', url: `${o}/close` },
          { name: 'big-no-assertion', type: 'http', url: `${o}/big.bin` },
          { name: 'big', type: 'http', url: `${o}/big.bin`, expect: { bodyContains: 'ok' } },
          { name: 'bomb', type: 'http', url: `${o}/bomb.txt`, expect: { bodyContains: 'ok' } },
          { name: 'upgrade', type: 'http', url: `${o}/upgrade` },
          { name: 'early-hints', type: 'http', url: `${o}/early-hints`, expect: { bodyContains: 'ok' } },
        ],
      },
      { defaults: { timeoutMs: 2000 } },
    );
    const rssBefore = process.memoryUsage().rss;
    const started = Date.now();
    // dnsmasq answers every name; the one a redirect takes to a private address is answered here, by name, so the
    // prober is only ever pointed at loopback (the guard refuses the address before any connection).
    const privateAnswer = tableLookup({ 'private.acme.test': ['10.20.30.40'] });
    const lookup: HostLookup = (host, signal) => (host === 'private.acme.test' ? privateAnswer(host, signal) : dns.lookup(host, signal));
    const round = await runRound({ config, probeRegion, slot: 1_764_400_000, deadlineAt: started + 5000 }, { ...realClock, lookup, logger });
    wallMs = Date.now() - started;
    rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    results = round.results;
    await settledLog();
  });

  it('tells up, degraded by latency, down with a 503 and read-only (reads up, the write refused) apart', () => {
    const us = results.filter((r) => r.region === 'us');
    expect(get(us, 'health')).toMatchObject({ status: 'up', statusCode: 200 });
    expect(get(us, 'health').timings?.dnsMs).toBeDefined();
    expect(get(us, 'write')).toMatchObject({ role: 'write-probe', status: 'up', statusCode: 201 });
    const eu = results.filter((r) => r.region === 'eu');
    expect(get(eu, 'health')).toMatchObject({ status: 'down', errorClass: 'status', statusCode: 503, detail: 'status 503, expected 2xx' });
    expect(get(eu, 'write')).toMatchObject({ status: 'down', errorClass: 'status', statusCode: 503 });
    expect(get(eu, 'status-500')).toMatchObject({ status: 'down', errorClass: 'status', statusCode: 500 });
    // apac is slow: nginx's limit_rate spreads its "ok" over about a second.
    const apac = get(results.filter((r) => r.region === 'apac'), 'health');
    expect(apac).toMatchObject({ status: 'degraded', statusCode: 200 });
    expect(apac.detail).toMatch(/^latency \d+ ms over 500 ms$/);
    const sa = results.filter((r) => r.region === 'sa');
    expect(get(sa, 'health')).toMatchObject({ status: 'up', statusCode: 200 });
    expect(get(sa, 'write')).toMatchObject({ role: 'write-probe', status: 'down', errorClass: 'status', statusCode: 503, detail: 'write refused with status 503' });
    // The read-only idioms of a real edge: a mirror that only serves GET (limit_except → 403) and a static file (405).
    expect(get(sa, 'write-mirror')).toMatchObject({ role: 'write-probe', status: 'down', errorClass: 'status', statusCode: 403, detail: 'write refused with status 403' });
    expect(get(sa, 'write-static')).toMatchObject({ role: 'write-probe', status: 'down', errorClass: 'status', statusCode: 405, detail: 'write refused with status 405' });
  });

  it('reads nginx\'s HEAD answer (headers only), its gzip and chunked JSON, and a relative redirect it made absolute', () => {
    const us = results.filter((r) => r.region === 'us');
    expect(get(us, 'head')).toMatchObject({ status: 'up', statusCode: 200 });
    expect(get(us, 'gzip-json')).toMatchObject({ status: 'up', statusCode: 200 });
    const gzipped = logged((e) => e.uri === '/gzip/health.json');
    expect(gzipped).toMatchObject([{ contentEncoding: 'gzip', transferEncoding: 'chunked', status: 200 }]);
    expect(get(us, 'redirect-followed')).toMatchObject({ status: 'up', statusCode: 200 });
    // `return 301 /us/health` goes out absolute, with the name and port the request came to.
    expect(logged((e) => e.uri === '/redirect/health')).toMatchObject([{ status: 301, location: `${nginx.origin}/us/health` }]);
    expect(logged((e) => e.host === '127.0.0.1' && e.uri === '/us/health').map((e) => `${e.method} ${e.status}`).sort()).toEqual(['GET 200', 'HEAD 200']);
  });

  it('times out a one-byte-a-second answer and a proxied upstream that never answers within the check\'s deadline, and reports the 504 nginx gives up with', () => {
    for (const name of ['drip', 'hang']) {
      const result = get(results, name);
      expect(result).toMatchObject({ status: 'down', errorClass: 'timeout', detail: 'no complete response headers within 1500 ms' });
      expect(result.latencyMs).toBeLessThan(1700);
    }
    // nginx saw the prober go (499) before it had sent the status line.
    expect(logged((e) => e.uri === '/hang')).toMatchObject([{ status: 499, bytesSent: 0 }]);
    expect(logged((e) => e.uri === '/drip')[0]?.bytesSent).toBeLessThan(10);
    expect(get(results, 'gateway-timeout')).toMatchObject({ status: 'down', errorClass: 'status', statusCode: 504 });
    expect(get(results, 'close')).toMatchObject({ status: 'down', errorClass: 'reset' });
  });

  it('cuts a 1 GiB body and a 1 GiB gzip bomb at the cap, with memory flat (FAULTS 12)', () => {
    expect(get(results, 'big-no-assertion')).toMatchObject({ status: 'up', statusCode: 200 });
    expect(get(results, 'big')).toMatchObject({ status: 'down', errorClass: 'too-large', detail: '"ok" not in the first 65536 bytes of a longer body' });
    expect(get(results, 'bomb')).toMatchObject({ status: 'down', errorClass: 'too-large' });
    // What nginx managed to send before the prober dropped the connection: the kernel's buffers, not the body.
    for (const entry of logged((e) => e.uri === '/big.bin')) expect(entry.bytesSent).toBeLessThan(nginx.hugeBodyBytes / 32);
    expect(logged((e) => e.uri === '/bomb.txt')).toMatchObject([{ contentEncoding: 'gzip' }]);
    expect(rssGrowthMb).toBeLessThan(60);
  });

  it('settles an upstream\'s unasked 101 and its interim answers behind nginx within the deadline (FAULTS 19)', () => {
    // nginx does not pass on an upstream's unasked 101 (the client asked for no upgrade): it holds the request, and
    // the prober's deadline ends it.
    expect(get(results, 'upgrade')).toMatchObject({ status: 'down', errorClass: 'timeout' });
    expect(get(results, 'upgrade').latencyMs).toBeLessThan(2200);
    expect(logged((e) => e.uri === '/upgrade')).toMatchObject([{ status: 499 }]);
    // nginx 1.22 takes an upstream's 100 Continue for the final answer and sends the rest as its body, after
    // Connection: close: not a response to judge.
    expect(get(results, 'early-hints')).toMatchObject({ status: 'down', errorClass: 'reset' });
    expect(logged((e) => e.uri === '/early-hints')).toMatchObject([{ status: 100 }]);
    expect(wallMs).toBeLessThan(3000);
  });

  it('follows no redirect to the metadata service, a private address or a host the config does not name (FAULTS 15)', () => {
    const us = results.filter((r) => r.region === 'us');
    expect(get(us, 'redirect-loop')).toMatchObject({ status: 'down', errorClass: 'redirect-loop', detail: 'redirect loop after 2 redirects' });
    expect(get(us, 'redirect-metadata')).toMatchObject({ status: 'down', errorClass: 'blocked-address', statusCode: 302 });
    expect(get(us, 'redirect-metadata').detail).toContain('metadata address (redirect 1)');
    expect(get(us, 'redirect-private')).toMatchObject({ status: 'down', errorClass: 'blocked-address' });
    expect(get(us, 'redirect-private').detail).toContain('private address (redirect 1)');
    // internal.acme.test is real (dnsmasq answers 127.0.0.1) but the config does not name it: allowPrivateAddresses does not open it.
    expect(get(us, 'redirect-unnamed')).toMatchObject({ status: 'down', errorClass: 'blocked-address' });
    expect(get(us, 'redirect-unnamed').detail).toContain('loopback address (redirect 1)');
    expect(logged((e) => e.host === 'internal.acme.test')).toEqual([]);
    const blocked = logger.lines.filter((l) => l.attributes?.event === 'ssrf-blocked');
    expect(blocked.map((l) => [l.attributes?.target, l.attributes?.addressKind, l.attributes?.hop, l.attributes?.configuredHost]).sort()).toEqual([
      ['redirect-metadata', 'metadata', 1, false],
      ['redirect-private', 'private', 1, false],
      ['redirect-unnamed', 'loopback', 1, false],
    ]);
    for (const line of blocked) expect(JSON.stringify(results)).not.toContain(String(line.attributes?.address));
    expect(get(us, 'nxdomain')).toMatchObject({ status: 'down', errorClass: 'dns', detail: 'DNS lookup of gone.acme.test failed (ENOTFOUND)' });
  });

  it('sent every request as DESIGN says, one per target and hop, each on its own connection', () => {
    const entries = nginx.accessLog();
    // Every target once, plus the hops: redirect-followed 2, redirect-loop 2 (the third is the loop, not sent);
    // nxdomain never got an address.
    expect(entries).toHaveLength(results.length + 2 - 1);
    for (const entry of entries) {
      expect(entry).toMatchObject({ probeRegion, userAgent: USER_AGENT, connection: 'close', acceptEncoding: 'gzip, deflate', connectionRequests: 1 });
    }
    expect(logged((e) => e.method === 'POST' && e.uri === '/us/canary')).toMatchObject([{ contentLength: '15' }]);
  });
});

describe('TLS against nginx', () => {
  let results: ProbeResult[];

  beforeAll(async () => {
    const port = nginx.tlsPorts;
    const config = testConfig({
      us: [
        { name: 'https-valid', type: 'https', url: `https://127.0.0.1:${port.valid}/us/health`, expect: { bodyContains: 'ok' } },
        { name: 'https-soon', type: 'https', url: `https://127.0.0.1:${port.expiringSoon}/us/health` },
        { name: 'https-self-signed', type: 'https', url: `https://127.0.0.1:${port.selfSigned}/us/health` },
        { name: 'tls-valid', type: 'tls', host: '127.0.0.1', port: port.valid ?? 0 },
        { name: 'tls-by-name', type: 'tls', host: '127.0.0.1', port: port.valid ?? 0, servername: 'localhost' },
        { name: 'tls-wrong-name', type: 'tls', host: '127.0.0.1', port: port.valid ?? 0, servername: 'api.us.acme.test' },
        { name: 'tls-soon', type: 'tls', host: '127.0.0.1', port: port.expiringSoon ?? 0, warnDays: 14 },
        { name: 'tls-self-signed', type: 'tls', host: '127.0.0.1', port: port.selfSigned ?? 0 },
        { name: 'tls-plain-port', type: 'tls', host: '127.0.0.1', port: nginx.port, timeoutMs: 1000 },
      ],
    });
    const round = await runRound({ config, probeRegion: 'us-east-1', slot: 1_764_400_000, deadlineAt: Date.now() + 3000 }, { ...realClock, extraCaCertificates: [certs.ca.cert] });
    results = round.results;
    await settledLog();
  });

  it('reads days left from nginx\'s certificates: up, degraded under warnDays, down when untrusted or for another name', () => {
    expect(get(results, 'https-valid')).toMatchObject({ status: 'up', statusCode: 200, tlsDaysLeft: 89 });
    expect(get(results, 'https-valid').timings).toMatchObject({ connectMs: expect.any(Number), tlsMs: expect.any(Number), firstByteMs: expect.any(Number) });
    expect(get(results, 'https-soon')).toMatchObject({ status: 'up', tlsDaysLeft: 2 });
    expect(get(results, 'https-self-signed')).toMatchObject({ status: 'down', errorClass: 'tls' });
    expect(get(results, 'tls-valid')).toMatchObject({ status: 'up', tlsDaysLeft: 89 });
    expect(get(results, 'tls-by-name')).toMatchObject({ status: 'up', tlsDaysLeft: 89 });
    expect(get(results, 'tls-wrong-name')).toMatchObject({ status: 'down', errorClass: 'tls' });
    expect(get(results, 'tls-soon')).toMatchObject({ status: 'degraded', errorClass: 'tls', tlsDaysLeft: 2, detail: 'certificate expires in 2 days (warn under 14)' });
    expect(get(results, 'tls-self-signed')).toMatchObject({ status: 'down', errorClass: 'tls' });
    expect(get(results, 'tls-self-signed').detail).toContain('SELF_SIGNED');
    expect(get(results, 'tls-plain-port')).toMatchObject({ status: 'down', errorClass: 'tls' });
  });

  it('makes a full handshake for every probe (no session resumption) and sends nothing over an untrusted one', () => {
    const tls = logged((e) => e.scheme === 'https');
    expect(tls.map((e) => `${e.port} ${e.uri}`).sort()).toEqual([`${nginx.tlsPorts.expiringSoon} /us/health`, `${nginx.tlsPorts.valid} /us/health`].sort());
    for (const entry of tls) expect(entry).toMatchObject({ sslProtocol: 'TLSv1.3', sslSessionReused: '.', probeRegion: 'us-east-1' });
  });
});

describe('DNS against dnsmasq (FAULTS 14)', () => {
  const dnsTarget = (name: string, hostname: string, extra: Record<string, unknown> = {}) => ({ name, type: 'dns' as const, hostname, resolver: dns.resolver, ...extra });
  const run = async (targets: Parameters<typeof testConfig>[0][string], probeRegion = 'ap-southeast-1') => {
    const started = Date.now();
    const round = await runRound({ config: testConfig({ us: targets }), probeRegion, slot: 1_764_400_000, deadlineAt: started + 3000 }, { ...realClock, lookup: dns.lookup });
    return { results: round.results, wallMs: Date.now() - started };
  };

  it('passes A, AAAA, MX and TXT answers, and tells NODATA, NXDOMAIN and REFUSED apart as error class dns', async () => {
    const before = dns.queries().length;
    const { results } = await run([
      dnsTarget('a', 'api.us.acme.test', { expect: { answers: ['127.0.0.1'] } }),
      dnsTarget('aaaa', 'api.us.acme.test', { recordType: 'AAAA', expect: { answers: ['::1'] } }),
      dnsTarget('mx', 'acme.test', { recordType: 'MX', expect: { answers: ['10 mx1.acme.test'] } }),
      dnsTarget('txt', 'acme.test', { recordType: 'TXT', expect: { answers: ['v=spf1 -all'] } }),
      dnsTarget('wrong-answer', 'api.eu.acme.test', { expect: { answers: ['10.9.9.9'] } }),
      dnsTarget('no-aaaa', 'api.eu.acme.test', { recordType: 'AAAA' }),
      dnsTarget('nxdomain', 'gone.acme.test'),
      dnsTarget('subdomain', 'x.api.us.acme.test'),
      dnsTarget('refused', 'www.example.com'),
    ]);
    expect(get(results, 'a')).toMatchObject({ status: 'up' });
    expect(get(results, 'a').timings?.dnsMs).toBeDefined();
    expect(get(results, 'aaaa')).toMatchObject({ status: 'up' });
    expect(get(results, 'mx')).toMatchObject({ status: 'up' });
    expect(get(results, 'txt')).toMatchObject({ status: 'up' });
    expect(get(results, 'wrong-answer')).toMatchObject({ status: 'down', errorClass: 'assertion', detail: 'A api.eu.acme.test lacks 10.9.9.9' });
    expect(get(results, 'no-aaaa')).toMatchObject({ status: 'down', errorClass: 'dns', detail: 'api.eu.acme.test has no AAAA record' });
    expect(get(results, 'nxdomain')).toMatchObject({ status: 'down', errorClass: 'dns', detail: 'gone.acme.test does not exist (NXDOMAIN)' });
    expect(get(results, 'subdomain')).toMatchObject({ status: 'down', errorClass: 'dns', detail: 'x.api.us.acme.test does not exist (NXDOMAIN)' });
    // Outside its zone dnsmasq has no upstream to ask: REFUSED, which our own DNS test server never says.
    expect(get(results, 'refused')).toMatchObject({ status: 'down', errorClass: 'dns', detail: 'www.example.com was refused by the resolver (REFUSED)' });
    // One question per check: no retry inside a round.
    expect(dns.queries().slice(before).sort()).toEqual(
      ['A api.us.acme.test', 'AAAA api.us.acme.test', 'MX acme.test', 'TXT acme.test', 'A api.eu.acme.test', 'AAAA api.eu.acme.test', 'A gone.acme.test', 'A x.api.us.acme.test', 'A www.example.com'].sort(),
    );
  });

  it('matches an AAAA answer however the config spells the address (leading zeros, no ::, capitals)', async () => {
    const { results } = await run([
      dnsTarget('expanded', 'v6.acme.test', { recordType: 'AAAA', expect: { answers: ['2001:DB8:0:0:0:0:0:1'] } }),
      dnsTarget('zero-padded', 'v6.acme.test', { recordType: 'AAAA', expect: { answers: ['2001:0db8::0001'] } }),
      dnsTarget('other', 'v6.acme.test', { recordType: 'AAAA', expect: { answers: ['2001:db8::2'] } }),
    ]);
    expect(get(results, 'expanded')).toMatchObject({ status: 'up' });
    expect(get(results, 'zero-padded')).toMatchObject({ status: 'up' });
    expect(get(results, 'other')).toMatchObject({ status: 'down', errorClass: 'assertion', detail: 'AAAA v6.acme.test lacks 2001:db8::2' });
  });

  it('reports a hung resolver (stopped with SIGSTOP) as dns within the deadline, and an http target by name with it', async () => {
    dns.pause();
    try {
      const { results, wallMs } = await run([
        dnsTarget('hung', 'api.us.acme.test', { timeoutMs: 800 }),
        { name: 'http-by-name', type: 'http', url: `http://api.us.acme.test:${nginx.port}/us/health`, timeoutMs: 800 },
      ]);
      expect(get(results, 'hung')).toMatchObject({ status: 'down', errorClass: 'dns', detail: 'DNS lookup not answered within 800 ms' });
      expect(get(results, 'hung').latencyMs).toBeLessThan(1000);
      expect(get(results, 'http-by-name')).toMatchObject({ status: 'down', errorClass: 'dns' });
      expect(get(results, 'http-by-name').latencyMs).toBeLessThan(1000);
      expect(wallMs).toBeLessThan(1500);
    } finally {
      dns.resume();
    }
  });

  it('reports a resolver that is down (nothing on its port) as dns at once, and answers again once it is back', async () => {
    await dns.stop();
    try {
      const { results, wallMs } = await run([dnsTarget('down', 'api.us.acme.test', { timeoutMs: 800 }), { name: 'http-by-name', type: 'http', url: `http://api.us.acme.test:${nginx.port}/us/health`, timeoutMs: 800 }]);
      expect(get(results, 'down')).toMatchObject({ status: 'down', errorClass: 'dns', detail: "api.us.acme.test not looked up: nothing answers at the resolver's address (ECONNREFUSED)" });
      expect(get(results, 'http-by-name')).toMatchObject({ status: 'down', errorClass: 'dns', detail: 'DNS lookup of api.us.acme.test failed (ECONNREFUSED)' });
      // Refused at once (an ICMP port unreachable on loopback), well inside the deadline.
      expect(wallMs).toBeLessThan(500);
    } finally {
      await dns.start();
    }
    const { results } = await run([dnsTarget('back', 'api.us.acme.test', { expect: { answers: ['127.0.0.1'] } })]);
    expect(get(results, 'back')).toMatchObject({ status: 'up' });
  });
});

describe('1,000 targets on one nginx (FAULTS 18)', () => {
  it('sends exactly one request per target per probe region: nginx logs 2,000 for two probe regions, all 503', async () => {
    const fleet = Array.from({ length: 1000 }, (_, i) => ({ name: `t${i}`, type: 'http' as const, url: `${nginx.origin}/fleet/${i}` }));
    // The shipped caps (64 in flight, 8 per host), not the test fixture's wide ones.
    const config = testConfig({ us: fleet }, { probing: { concurrency: 64, perHostConcurrency: 8 } });
    const started = Date.now();
    const rounds = await Promise.all(
      ['us-east-1', 'eu-west-1'].map((probeRegion) => runRound({ config, probeRegion, slot: 1_764_400_000, deadlineAt: started + 8000 }, realClock)),
    );
    for (const round of rounds) {
      expect(round.results).toHaveLength(1000);
      expect(round.results.every((r) => r.status === 'down' && r.errorClass === 'status' && r.statusCode === 503)).toBe(true);
    }
    const hits = await settledLog((e) => e.uri.startsWith('/fleet/'), 2000);
    expect(hits).toHaveLength(2000);
    const perTargetAndRegion = new Map<string, number>();
    for (const hit of hits) perTargetAndRegion.set(`${hit.uri} ${hit.probeRegion}`, (perTargetAndRegion.get(`${hit.uri} ${hit.probeRegion}`) ?? 0) + 1);
    expect(perTargetAndRegion.size).toBe(2000);
    expect([...perTargetAndRegion.values()].every((n) => n === 1)).toBe(true);
    expect(hits.every((h) => h.connectionRequests === 1 && h.userAgent === USER_AGENT)).toBe(true);
  });

  it('stays within perHostConcurrency, as nginx limit_conn enforces: no 429 at the cap, 429s above it', async () => {
    const held = (host: string, n: number) => Array.from({ length: n }, (_, i) => ({ name: `h${i + 1}`, type: 'http' as const, url: `http://${host}:${nginx.port}/held/${i + 1}`, timeoutMs: 4000 }));
    // nginx lets two requests per Host be served at once (each takes about a second); the rest get 429.
    const atCap = testConfig({ us: held('api.us.acme.test', 6) }, { probing: { perHostConcurrency: 2 } });
    const overCap = testConfig({ us: held('127.0.0.1', 4) }, { probing: { perHostConcurrency: 4 } });
    const deps = { ...realClock, lookup: dns.lookup };
    const started = Date.now();
    const [polite, rude] = await Promise.all([
      runRound({ config: atCap, probeRegion: 'us-east-1', slot: 1_764_400_000, deadlineAt: started + 8000 }, deps),
      runRound({ config: overCap, probeRegion: 'us-east-1', slot: 1_764_400_000, deadlineAt: started + 8000 }, deps),
    ]);
    expect(polite.results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(rude.results.map((r) => r.statusCode).sort()).toEqual([200, 200, 429, 429]);
    // Never more than two of the polite round's requests in nginx at once, by its own clock.
    const spans = (await settledLog((e) => e.host === 'api.us.acme.test' && e.uri.startsWith('/held/'), 6)).map((e) => [e.msec * 1000 - e.requestTimeMs, e.msec * 1000] as const);
    expect(spans).toHaveLength(6);
    const most = Math.max(...spans.map(([from]) => spans.filter(([f, t]) => f <= from && from < t).length));
    expect(most).toBeLessThanOrEqual(2);
  });
});

describe('nginx stopped, then started again', () => {
  it('is refused while it is down (tcp, http, tls) and up again once it is back, on the same ports', async () => {
    const config = testConfig({
      us: [
        { name: 'tcp', type: 'tcp', host: '127.0.0.1', port: nginx.port },
        { name: 'http', type: 'http', url: `${nginx.origin}/us/health` },
        { name: 'tls', type: 'tls', host: '127.0.0.1', port: nginx.tlsPorts.valid ?? 0 },
      ],
    });
    const run = async () => (await runRound({ config, probeRegion: 'us-east-1', slot: 1_764_400_000, deadlineAt: Date.now() + 3000 }, { ...realClock, extraCaCertificates: [certs.ca.cert] })).results;
    await nginx.stop();
    const down = await run();
    await nginx.start();
    const up = await run();
    expect(down.map((r) => [r.target, r.status, r.errorClass])).toEqual([
      ['tcp', 'down', 'refused'],
      ['http', 'down', 'refused'],
      ['tls', 'down', 'refused'],
    ]);
    expect(up.map((r) => [r.target, r.status])).toEqual([
      ['tcp', 'up'],
      ['http', 'up'],
      ['tls', 'up'],
    ]);
  });
});
