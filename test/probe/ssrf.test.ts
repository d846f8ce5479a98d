// FAULTS row 15: a target or a redirect pointing at the metadata service, loopback or a private range is refused before any request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../lambda/core/results';
import { runRound } from '../../lambda/probe/round';
import { startFaultyServer, type FaultyServer } from '../helpers/servers';
import { memoryLogger, realClock, tableLookup, testConfig } from './fixtures';

let server: FaultyServer;
beforeAll(async () => {
  server = await startFaultyServer();
});
afterAll(async () => {
  await server.close();
});

const find = (results: ProbeResult[], name: string) => results.find((r) => r.target === name);

describe('SSRF guard in a round (FAULTS 15)', () => {
  it('refuses loopback, private, mapped and metadata addresses when private addresses are not allowed, sending nothing', async () => {
    const logger = memoryLogger();
    const requestsBefore = server.requests.length;
    const connectionsBefore = server.connections();
    const config = testConfig(
      {
        us: [
          { name: 'loopback', type: 'http', url: `${server.origin}/ok` },
          { name: 'mapped', type: 'http', url: `http://[::ffff:127.0.0.1]:${server.port}/ok` },
          { name: 'private', type: 'http', url: 'http://private.acme.test/health' },
          { name: 'metadata', type: 'http', url: 'http://169.254.169.254/latest/meta-data/' },
          { name: 'named-private', type: 'https', url: 'https://intranet.acme.test/health' },
          { name: 'mixed-answers', type: 'http', url: 'http://mixed.acme.test/health' },
          { name: 'teredo-to-loopback', type: 'http', url: 'http://teredo.acme.test/health' },
          { name: 'local-nat64-to-metadata', type: 'http', url: 'http://nat64.acme.test/health' },
          { name: 'tcp-private', type: 'tcp', host: 'db.acme.test', port: 5432 },
          { name: 'tls-loopback', type: 'tls', host: '127.0.0.1', port: server.port },
          { name: 'dns-resolver-metadata', type: 'dns', hostname: 'acme.example', resolver: '169.254.169.253' },
        ],
      },
      { probing: { allowPrivateAddresses: false } },
    );
    const started = Date.now();
    const round = await runRound(
      { config, probeRegion: 'us-east-1', slot: 1_764_400_000, deadlineAt: started + 3000 },
      {
        ...realClock,
        logger,
        // Forbidden addresses arrive through names (resolve first, then check), and the allowed answer mixed with
        // the metadata address is a documentation address (192.0.2.0/24) rather than a real host's.
        lookup: tableLookup({
          'private.acme.test': ['10.0.0.7'],
          'db.acme.test': ['192.168.1.10'],
          'intranet.acme.test': ['10.20.30.40'],
          'mixed.acme.test': ['192.0.2.1', '169.254.169.254'],
          // IPv6 answers that carry a forbidden IPv4 address (a Teredo client, a local-use NAT64 destination).
          'teredo.acme.test': ['2001:0:4136:e378:8000:63bf:80ff:fffe'],
          'nat64.acme.test': ['64:ff9b:1::a9fe:a9fe'],
        }),
      },
    );
    expect(Date.now() - started).toBeLessThan(500);
    for (const result of round.results) {
      expect(result, result.target).toMatchObject({ status: 'down', errorClass: 'blocked-address' });
      // Nothing about the forbidden address leaks into the result that pages and the status page show.
      expect(result.detail ?? '').not.toMatch(/\d+\.\d+\.\d+\.\d+|::/);
      expect(result.statusCode).toBeUndefined();
    }
    // Each detail ends with the fix: the key for what it opens, none for what no setting opens.
    const fixOf = (name: string) => find(round.results, name)?.detail?.split(': ')[1];
    expect(fixOf('private')).toBe('set probing.allowPrivateAddresses to true to probe it');
    expect(fixOf('tcp-private')).toBe('set probing.allowPrivateAddresses to true to probe it');
    expect(fixOf('metadata')).toBe("no setting allows a metadata address (the cloud's instance metadata service), not even probing.allowPrivateAddresses");
    expect(find(round.results, 'dns-resolver-metadata')?.detail).toBe(
      "refused to query a resolver at a metadata address: no setting allows a metadata address (the cloud's instance metadata service), not even probing.allowPrivateAddresses",
    );
    expect(server.requests.length).toBe(requestsBefore);
    expect(server.connections()).toBe(connectionsBefore);
    const security = logger.lines.filter((l) => l.attributes?.event === 'ssrf-blocked');
    expect(security).toHaveLength(round.results.length);
    expect(security.find((l) => l.attributes?.target === 'mixed-answers')?.attributes).toMatchObject({ address: '169.254.169.254', addressKind: 'metadata' });
  });

  it('refuses a redirect to 169.254.169.254 even when private addresses are allowed, and logs it', async () => {
    const logger = memoryLogger();
    const config = testConfig({
      us: [
        { name: 'to-metadata', type: 'http', url: `${server.origin}/redirect/to?url=${encodeURIComponent('http://169.254.169.254/latest/meta-data/iam/')}` },
        { name: 'to-metadata-v6', type: 'http', url: `${server.origin}/redirect/to?url=${encodeURIComponent('http://[fd00:ec2::254]/latest/')}` },
        { name: 'to-named-metadata', type: 'http', url: `${server.origin}/redirect/to?url=${encodeURIComponent('http://imds.acme.test/')}` },
        { name: 'neighbour', type: 'http', url: `${server.origin}/ok` },
      ],
    });
    const round = await runRound(
      { config, probeRegion: 'eu-west-1', slot: 1_764_400_000, deadlineAt: Date.now() + 3000 },
      { ...realClock, logger, lookup: tableLookup({ 'imds.acme.test': ['169.254.169.254'] }) },
    );
    for (const name of ['to-metadata', 'to-metadata-v6', 'to-named-metadata']) {
      expect(find(round.results, name), name).toMatchObject({ status: 'down', errorClass: 'blocked-address', detail: "refused to connect to a metadata address (redirect 1): no setting allows a metadata address (the cloud's instance metadata service), not even probing.allowPrivateAddresses" });
    }
    expect(find(round.results, 'neighbour')).toMatchObject({ status: 'up' });
    const lines = logger.lines.filter((l) => l.attributes?.event === 'ssrf-blocked');
    expect(lines.map((l) => l.attributes?.hop)).toEqual([1, 1, 1]);
    expect(lines.every((l) => l.level === 'warn')).toBe(true);
  });

  it('opens private addresses only for the hosts the config names: a redirect from one to any other private or loopback host is refused', async () => {
    const logger = memoryLogger();
    const requestsBefore = server.requests.length;
    const via = (to: string) => `http://front.acme.test:${server.port}/redirect/to?url=${encodeURIComponent(to)}`;
    const config = testConfig({
      us: [
        { name: 'to-runtime-api', type: 'http', url: via('http://127.0.0.1:9001/2018-06-01/runtime/invocation/next') },
        { name: 'to-loopback-name', type: 'http', url: via(`http://sidecar.acme.test:${server.port}/ok`) },
        { name: 'to-private', type: 'http', url: via('http://admin.internal.acme.test/admin') },
        { name: 'to-mapped-loopback', type: 'http', url: via(`http://[::ffff:127.0.0.1]:${server.port}/ok`) },
        { name: 'to-configured', type: 'http', url: via(`http://back.acme.test:${server.port}/ok`) },
        { name: 'configured-direct', type: 'tcp', host: 'back.acme.test', port: server.port },
      ],
    });
    const round = await runRound(
      { config, probeRegion: 'us-east-1', slot: 1_764_400_000, deadlineAt: Date.now() + 3000 },
      { ...realClock, logger, lookup: tableLookup({ 'front.acme.test': ['127.0.0.1'], 'back.acme.test': ['127.0.0.1'], 'sidecar.acme.test': ['127.0.0.1'], 'admin.internal.acme.test': ['10.1.2.3'] }) },
    );
    // The fix is naming the host, not the key (which is on).
    const why = ': probing.allowPrivateAddresses opens private addresses only for the hosts the config names';
    expect(find(round.results, 'to-runtime-api')).toMatchObject({ status: 'down', errorClass: 'blocked-address', detail: `refused to connect to a loopback address (redirect 1)${why}` });
    expect(find(round.results, 'to-loopback-name')).toMatchObject({ status: 'down', errorClass: 'blocked-address', detail: `refused to connect to a loopback address (redirect 1)${why}` });
    expect(find(round.results, 'to-private')).toMatchObject({ status: 'down', errorClass: 'blocked-address', detail: `refused to connect to a private address (redirect 1)${why}` });
    expect(find(round.results, 'to-mapped-loopback')).toMatchObject({ status: 'down', errorClass: 'blocked-address', detail: `refused to connect to a loopback address (redirect 1)${why}` });
    expect(find(round.results, 'to-configured')).toMatchObject({ status: 'up', statusCode: 200 });
    expect(find(round.results, 'configured-direct')).toMatchObject({ status: 'up' });
    // Five first hops and the one redirect to a configured host reached the server; nothing else did.
    expect(server.requests.slice(requestsBefore).map((r) => r.headers.host)).toEqual(expect.arrayContaining([`back.acme.test:${server.port}`]));
    expect(server.requests.length - requestsBefore).toBe(6);
    const security = logger.lines.filter((l) => l.attributes?.event === 'ssrf-blocked');
    expect(security.map((l) => [l.attributes?.target, l.attributes?.configuredHost, l.attributes?.hop]).sort()).toEqual([
      ['to-loopback-name', false, 1],
      ['to-mapped-loopback', false, 1],
      ['to-private', false, 1],
      ['to-runtime-api', false, 1],
    ]);
  });

  it('judges a name by what it resolves to, not by how it looks', async () => {
    // rebind.acme.test looks public; its answer is loopback, and the answer is what the guard checks (and pins).
    const logger = memoryLogger();
    const config = testConfig({ us: [{ name: 'rebind', type: 'http', url: 'http://rebind.acme.test/' }] }, { probing: { allowPrivateAddresses: false } });
    const round = await runRound(
      { config, probeRegion: 'eu-west-1', slot: 1_764_400_000, deadlineAt: Date.now() + 3000 },
      { ...realClock, logger, lookup: tableLookup({ 'rebind.acme.test': ['127.0.0.1'] }) },
    );
    // The detail names the key that allows it: what the status page, the checker alert and local mode show.
    expect(round.results[0]).toMatchObject({ errorClass: 'blocked-address', detail: 'refused to connect to a loopback address: set probing.allowPrivateAddresses to true to probe it' });
  });
});
