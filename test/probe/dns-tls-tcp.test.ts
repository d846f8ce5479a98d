// FAULTS row 14 (DNS failures) and the tls, https and tcp checks against real loopback servers with certificates made at test time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../lambda/core/results';
import { runRound } from '../../lambda/probe/round';
import {
  makeTestCertificates,
  refusedPort,
  startDnsServer,
  startFaultyHttpsServer,
  startFaultyServer,
  startTcpServer,
  type DnsServer,
  type FaultyServer,
  type TestCertificates,
} from '../helpers/servers';
import { loopbackLookup, realClock, testConfig } from './fixtures';

let dns: DnsServer;
let deadDns: DnsServer;
let http: FaultyServer;
let certs: TestCertificates;
let valid: FaultyServer;
let soon: FaultyServer;
let selfSigned: FaultyServer;
let tcp: Awaited<ReturnType<typeof startTcpServer>>;
let closedPort: number;

beforeAll(async () => {
  certs = makeTestCertificates();
  [dns, deadDns, http, valid, soon, selfSigned, tcp, closedPort] = await Promise.all([
    startDnsServer({ 'api.acme.test': ['127.0.0.1'], 'www.acme.test': ['127.0.0.1', '127.0.0.2'] }),
    startDnsServer({}, { silent: true }),
    startFaultyServer(),
    startFaultyHttpsServer(certs.valid),
    startFaultyHttpsServer(certs.expiringSoon),
    startFaultyHttpsServer(certs.selfSigned),
    startTcpServer(),
    refusedPort(),
  ]);
});
afterAll(async () => {
  await Promise.all([dns, deadDns, http, valid, soon, selfSigned, tcp].map((s) => s?.close()));
});

const get = (results: ProbeResult[], name: string): ProbeResult => {
  const found = results.find((r) => r.target === name);
  if (!found) throw new Error(`no result for ${name}`);
  return found;
};

describe('DNS failures (FAULTS 14)', () => {
  let results: ProbeResult[];
  let wallMs: number;

  beforeAll(async () => {
    const config = testConfig({
      us: [
        { name: 'answers', type: 'dns', hostname: 'www.acme.test', resolver: dns.resolver, expect: { answers: ['127.0.0.2', '127.0.0.1'] } },
        { name: 'wrong-answer', type: 'dns', hostname: 'api.acme.test', resolver: dns.resolver, expect: { answers: ['10.9.9.9'] } },
        { name: 'nxdomain', type: 'dns', hostname: 'gone.acme.test', resolver: dns.resolver },
        { name: 'resolver-down', type: 'dns', hostname: 'api.acme.test', resolver: deadDns.resolver, timeoutMs: 800 },
        { name: 'http-by-name', type: 'http', url: `http://api.acme.test:${http.port}/ok` },
        { name: 'http-nxdomain', type: 'http', url: `http://gone.acme.test:${http.port}/ok` },
      ],
    });
    const started = Date.now();
    const round = await runRound(
      { config, probeRegion: 'ap-southeast-1', slot: 1_764_400_000, deadlineAt: started + 3000 },
      { ...realClock, lookup: loopbackLookup(dns.resolver) },
    );
    wallMs = Date.now() - started;
    results = round.results;
  });

  it('passes a dns check whose expected answers are all there, and fails one that lacks them', () => {
    expect(get(results, 'answers')).toMatchObject({ status: 'up' });
    expect(get(results, 'answers').timings?.dnsMs).toBeDefined();
    expect(get(results, 'wrong-answer')).toMatchObject({ status: 'down', errorClass: 'assertion', detail: 'A api.acme.test lacks 10.9.9.9' });
  });

  it('reports NXDOMAIN and a silent resolver as error class dns, within the deadline', () => {
    expect(get(results, 'nxdomain')).toMatchObject({ status: 'down', errorClass: 'dns', detail: 'gone.acme.test does not exist (NXDOMAIN)' });
    const down = get(results, 'resolver-down');
    expect(down).toMatchObject({ status: 'down', errorClass: 'dns' });
    expect(down.latencyMs).toBeLessThan(1200);
    expect(wallMs).toBeLessThan(2000);
  });

  it('gives an http target whose name does not resolve error class dns, and resolves the others once per round', () => {
    expect(get(results, 'http-by-name')).toMatchObject({ status: 'up', statusCode: 200 });
    expect(get(results, 'http-by-name').timings?.dnsMs).toBeDefined();
    expect(get(results, 'http-nxdomain')).toMatchObject({ status: 'down', errorClass: 'dns' });
    expect(http.requests.filter((r) => r.headers.host === `api.acme.test:${http.port}`)).toHaveLength(1);
  });
});

describe('TLS and HTTPS', () => {
  it('reads days left, degrades a certificate about to expire, and fails an untrusted one; https follows suit', async () => {
    const config = testConfig({
      us: [
        { name: 'tls-valid', type: 'tls', host: '127.0.0.1', port: valid.port },
        { name: 'tls-soon', type: 'tls', host: '127.0.0.1', port: soon.port, warnDays: 14 },
        { name: 'tls-self-signed', type: 'tls', host: '127.0.0.1', port: selfSigned.port },
        { name: 'tls-wrong-name', type: 'tls', host: '127.0.0.1', port: valid.port, servername: 'api.other.test' },
        { name: 'tls-refused', type: 'tls', host: '127.0.0.1', port: closedPort },
        { name: 'https-valid', type: 'https', url: `${valid.origin}/ok`, expect: { bodyContains: 'ok' } },
        { name: 'https-by-name', type: 'https', url: `https://localhost:${valid.port}/ok` },
        { name: 'https-self-signed', type: 'https', url: `${selfSigned.origin}/ok` },
      ],
    });
    const round = await runRound(
      { config, probeRegion: 'us-east-1', slot: 1_764_400_000, deadlineAt: Date.now() + 3000 },
      { ...realClock, extraCaCertificates: [certs.ca.cert], lookup: async () => [{ address: '127.0.0.1', family: 4 }] },
    );
    const r = round.results;
    expect(get(r, 'tls-valid')).toMatchObject({ status: 'up' });
    expect(get(r, 'tls-valid').tlsDaysLeft).toBeGreaterThanOrEqual(88);
    expect(get(r, 'tls-valid').timings?.tlsMs).toBeDefined();
    expect(get(r, 'tls-soon')).toMatchObject({ status: 'degraded', errorClass: 'tls' });
    expect(get(r, 'tls-soon').tlsDaysLeft).toBeLessThanOrEqual(3);
    expect(get(r, 'tls-self-signed')).toMatchObject({ status: 'down', errorClass: 'tls' });
    expect(get(r, 'tls-self-signed').detail).toContain('SELF_SIGNED');
    expect(get(r, 'tls-wrong-name')).toMatchObject({ status: 'down', errorClass: 'tls' });
    expect(get(r, 'tls-refused')).toMatchObject({ status: 'down', errorClass: 'refused' });
    expect(get(r, 'https-valid')).toMatchObject({ status: 'up', statusCode: 200 });
    expect(get(r, 'https-valid').timings).toMatchObject({ connectMs: expect.any(Number), tlsMs: expect.any(Number), firstByteMs: expect.any(Number) });
    expect(get(r, 'https-by-name')).toMatchObject({ status: 'up' });
    expect(get(r, 'https-self-signed')).toMatchObject({ status: 'down', errorClass: 'tls' });
    expect(selfSigned.requests).toHaveLength(0);
  });
});

describe('TCP', () => {
  it('is up on connect, refused on a closed port, and makes one connection', async () => {
    const config = testConfig({
      us: [
        { name: 'open', type: 'tcp', host: '127.0.0.1', port: tcp.port },
        { name: 'closed', type: 'tcp', host: '127.0.0.1', port: closedPort },
      ],
    });
    const round = await runRound({ config, probeRegion: 'us-east-1', slot: 1_764_400_000, deadlineAt: Date.now() + 3000 }, realClock);
    expect(get(round.results, 'open')).toMatchObject({ status: 'up' });
    expect(get(round.results, 'open').timings?.connectMs).toBeDefined();
    expect(get(round.results, 'closed')).toMatchObject({ status: 'down', errorClass: 'refused' });
    expect(tcp.connections()).toBe(1);
  });
});
