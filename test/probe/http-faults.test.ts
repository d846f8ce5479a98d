// FAULTS rows 12 and 13, and the HTTP failure modes people act on: each fault a real loopback server, all in one round.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../lambda/core/results';
import { runRound } from '../../lambda/probe/round';
import { USER_AGENT } from '../../lambda/version';
import { refusedPort, startFaultyServer, type FaultyServer } from '../helpers/servers';
import { realClock, testConfig } from './fixtures';

let server: FaultyServer;
let closedPort: number;
beforeAll(async () => {
  server = await startFaultyServer();
  closedPort = await refusedPort();
});
afterAll(async () => {
  await server.close();
});

const byName = (results: ProbeResult[], name: string): ProbeResult => {
  const found = results.find((r) => r.target === name);
  if (!found) throw new Error(`no result for ${name}`);
  return found;
};

describe('one round with every fault at once (FAULTS 12, 13)', () => {
  const ROUND_BUDGET_MS = 4000;
  let results: ProbeResult[];
  let wallMs: number;
  let rssGrowthMb: number;

  beforeAll(async () => {
    const origin = server.origin;
    const config = testConfig({
      us: [
        { name: 'healthy-before', type: 'http', url: `${origin}/ok`, expect: { bodyContains: 'ok' } },
        { name: 'slow-headers', type: 'http', url: `${origin}/slow-headers` },
        { name: 'slow-loris-body', type: 'http', url: `${origin}/slow-body` },
        { name: 'endless-body', type: 'http', url: `${origin}/endless` },
        { name: 'endless-body-asserted', type: 'http', url: `${origin}/endless`, expect: { bodyContains: 'the end' } },
        { name: 'gzip-bomb', type: 'http', url: `${origin}/gzip-bomb`, expect: { bodyContains: 'never there' } },
        { name: 'redirect-loop', type: 'http', url: `${origin}/redirect/loop-a` },
        { name: 'reset', type: 'http', url: `${origin}/reset` },
        { name: 'refused', type: 'http', url: `http://127.0.0.1:${closedPort}/ok` },
        { name: 'unavailable', type: 'http', url: `${origin}/status/503` },
      ],
      eu: [{ name: 'healthy-after', type: 'http', url: `${origin}/json`, expect: { json: { path: '$.checks[0].ok', equals: true } } }],
    });
    const rssBefore = process.memoryUsage().rss;
    const started = Date.now();
    const round = await runRound({ config, probeRegion: 'eu-west-1', slot: 1_764_400_000, deadlineAt: started + ROUND_BUDGET_MS }, realClock);
    wallMs = Date.now() - started;
    rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    results = round.results;
  });

  it('gives every target of every platform region a result, in config order', () => {
    expect(results.map((r) => `${r.region}/${r.target}`)).toEqual([
      'us/healthy-before', 'us/slow-headers', 'us/slow-loris-body', 'us/endless-body', 'us/endless-body-asserted',
      'us/gzip-bomb', 'us/redirect-loop', 'us/reset', 'us/refused', 'us/unavailable', 'eu/healthy-after',
    ]);
  });

  it('finishes inside the round deadline, bounded by the slowest timeout rather than the faults', () => {
    expect(wallMs).toBeLessThan(ROUND_BUDGET_MS);
    // timeoutMs is 1500: the slow targets are cut there, not when the server gives up.
    expect(wallMs).toBeLessThan(1500 + 1000);
  });

  it('keeps the healthy targets up', () => {
    expect(byName(results, 'healthy-before')).toMatchObject({ status: 'up', statusCode: 200 });
    expect(byName(results, 'healthy-after')).toMatchObject({ status: 'up', statusCode: 200 });
    expect(byName(results, 'healthy-after').errorClass).toBeUndefined();
  });

  it('cuts slow headers and a slow-loris body at the request timeout (row 13)', () => {
    const headers = byName(results, 'slow-headers');
    expect(headers).toMatchObject({ status: 'down', errorClass: 'timeout' });
    expect(headers.latencyMs).toBeGreaterThanOrEqual(1400);
    expect(headers.latencyMs).toBeLessThan(2000);
    const body = byName(results, 'slow-loris-body');
    expect(body).toMatchObject({ status: 'down', errorClass: 'timeout', statusCode: 200 });
    expect(body.detail).toContain('body');
    expect(body.latencyMs).toBeLessThan(2000);
  });

  it('reads a 10 GiB body only up to the cap: up when nothing needs more, too-large when an assertion does (row 12)', () => {
    expect(byName(results, 'endless-body')).toMatchObject({ status: 'up', statusCode: 200 });
    expect(byName(results, 'endless-body-asserted')).toMatchObject({ status: 'down', errorClass: 'too-large' });
    // The server could hand the kernel a few socket buffers' worth, never the body.
    expect(server.bytesSent.get('/endless') ?? 0).toBeLessThan(64 * 1024 * 1024);
  });

  it('inflates a gzip bomb only up to the cap (row 12)', () => {
    const bomb = byName(results, 'gzip-bomb');
    expect(bomb).toMatchObject({ status: 'down', errorClass: 'too-large' });
    expect(bomb.latencyMs).toBeLessThan(1000);
    expect(server.bytesSent.get('/gzip-bomb') ?? 0).toBeLessThan(64 * 1024 * 1024);
  });

  it('keeps memory flat while the endless bodies and the bomb stream', () => {
    expect(rssGrowthMb).toBeLessThan(60);
  });

  it('classifies a redirect loop, a reset, a refused port and a 503', () => {
    expect(byName(results, 'redirect-loop')).toMatchObject({ status: 'down', errorClass: 'redirect-loop' });
    expect(byName(results, 'reset')).toMatchObject({ status: 'down', errorClass: 'reset' });
    expect(byName(results, 'refused')).toMatchObject({ status: 'down', errorClass: 'refused' });
    expect(byName(results, 'unavailable')).toMatchObject({ status: 'down', errorClass: 'status', statusCode: 503 });
  });

  it('sends one request per target, never a retry', () => {
    const count = (path: string) => server.requests.filter((r) => r.path === path).length;
    expect(count('/slow-headers')).toBe(1);
    expect(count('/status/503')).toBe(1);
    expect(count('/reset')).toBe(1);
    expect(count('/endless')).toBe(2);
  });
});

describe('HTTP checks', () => {
  const run = async (targets: Parameters<typeof testConfig>[0]['us'], probing: Parameters<typeof testConfig>[1] = {}) => {
    const config = testConfig({ us: targets }, probing);
    const round = await runRound({ config, probeRegion: 'us-east-1', slot: 1_764_400_010, deadlineAt: Date.now() + 3000 }, realClock);
    return round.results;
  };

  it('sends the User-Agent and probe-region headers, and the Host of the URL, on every request', async () => {
    const before = server.requests.length;
    const config = testConfig({ us: [{ name: 'headers', type: 'http', url: `${server.origin}/redirect/chain/2`, headers: { 'x-extra': '1' } }] });
    // The schema refuses a configured User-Agent; the check still sets its own last, should one get past it.
    const [target] = config.regions.us?.targets ?? [];
    if (target?.type === 'http') target.headers['User-Agent'] = 'spoofed';
    const [result] = (await runRound({ config, probeRegion: 'us-east-1', slot: 1_764_400_010, deadlineAt: Date.now() + 3000 }, realClock)).results;
    expect(result).toMatchObject({ status: 'up' });
    const seen = server.requests.slice(before);
    expect(seen).toHaveLength(3);
    for (const request of seen) {
      expect(request.headers['user-agent']).toBe(USER_AGENT);
      expect(request.headers['x-regionwatch-probe-region']).toBe('us-east-1');
      expect(request.headers.host).toBe(`127.0.0.1:${server.port}`);
      // Same origin: the configured header follows the redirect.
      expect(request.headers['x-extra']).toBe('1');
    }
  });

  it('asserts status, header, body text and a JSON path, naming what failed', async () => {
    const origin = server.origin;
    const results = await run([
      { name: 'status-list', type: 'http', url: `${origin}/status/404`, expect: { status: [200, 404] } },
      { name: 'header-ok', type: 'http', url: `${origin}/ok`, expect: { header: { name: 'X-Build', contains: 'green' } } },
      { name: 'header-bad', type: 'http', url: `${origin}/ok`, expect: { header: { name: 'x-build', equals: 'v41' } } },
      { name: 'header-missing', type: 'http', url: `${origin}/ok`, expect: { header: { name: 'x-nope' } } },
      { name: 'body-bad', type: 'http', url: `${origin}/ok`, expect: { bodyContains: 'healthy' } },
      { name: 'json-bad', type: 'http', url: `${origin}/json`, expect: { json: { path: '$.status', equals: 'degraded' } } },
      { name: 'json-missing', type: 'http', url: `${origin}/json`, expect: { json: { path: '$.checks[3].ok', equals: true } } },
      { name: 'not-json', type: 'http', url: `${origin}/ok`, expect: { json: { path: '$.status', equals: 'ok' } } },
      { name: 'head', type: 'http', method: 'HEAD', url: `${origin}/ok` },
    ]);
    const get = (name: string) => byName(results, name);
    expect(get('status-list')).toMatchObject({ status: 'up', statusCode: 404 });
    expect(get('header-ok')).toMatchObject({ status: 'up' });
    expect(get('header-bad')).toMatchObject({ status: 'down', errorClass: 'assertion', detail: 'header x-build is "v42-green", expected "v41"' });
    expect(get('header-missing')).toMatchObject({ status: 'down', errorClass: 'assertion', detail: 'header x-nope is missing' });
    expect(get('body-bad')).toMatchObject({ status: 'down', errorClass: 'assertion', detail: 'body does not contain "healthy"' });
    expect(get('json-bad')).toMatchObject({ status: 'down', errorClass: 'assertion', detail: '$.status is "ok", expected "degraded"' });
    expect(get('json-missing')).toMatchObject({ status: 'down', errorClass: 'assertion', detail: '$.checks[3].ok is missing' });
    expect(get('not-json')).toMatchObject({ status: 'down', errorClass: 'assertion', detail: 'body is not JSON' });
    expect(get('head')).toMatchObject({ status: 'up', statusCode: 200 });
  });

  it('decides a body assertion within the cap when it can, and reports too-large only when it cannot', async () => {
    const origin = server.origin;
    const results = await run([
      { name: 'found-early', type: 'http', url: `${origin}/padded-ok`, expect: { bodyContains: 'ok' } },
      { name: 'json-too-big', type: 'http', url: `${origin}/big-json`, expect: { json: { path: '$.status', equals: 'ok' } } },
    ]);
    expect(byName(results, 'found-early')).toMatchObject({ status: 'up' });
    expect(byName(results, 'json-too-big')).toMatchObject({ status: 'down', errorClass: 'too-large' });
    // Same body under a larger cap would pass: the cap, not the body, decided.
    const [roomy] = await run([{ name: 'json-fits', type: 'http', url: `${origin}/big-json`, expect: { json: { path: '$.status', equals: 'ok' } } }], {
      probing: { maxBodyBytes: 2 * 1024 * 1024 },
    });
    expect(roomy).toMatchObject({ status: 'up' });
  });

  it('is degraded when slower than degradedLatencyMs, with the phases of the request', async () => {
    const [slow] = await run([{ name: 'slow', type: 'http', url: `${server.origin}/slow/400`, degradedLatencyMs: 200 }]);
    expect(slow).toMatchObject({ status: 'degraded', statusCode: 200 });
    expect(slow?.latencyMs).toBeGreaterThanOrEqual(400);
    expect(slow?.detail).toMatch(/^latency \d+ ms over 200 ms$/);
    expect(slow?.timings?.firstByteMs).toBeGreaterThanOrEqual(350);
    expect(slow?.timings?.connectMs).toBeDefined();
  });

  it('follows at most maxRedirects redirects', async () => {
    const results = await run(
      [
        { name: 'two', type: 'http', url: `${server.origin}/redirect/chain/2` },
        { name: 'four', type: 'http', url: `${server.origin}/redirect/chain/4` },
        { name: 'not-followed', type: 'http', url: `${server.origin}/redirect/chain/1`, followRedirects: false, expect: { status: [302] } },
      ],
      { probing: { maxRedirects: 3 } },
    );
    expect(byName(results, 'two')).toMatchObject({ status: 'up', statusCode: 200 });
    expect(byName(results, 'four')).toMatchObject({ status: 'down', errorClass: 'redirect-loop', detail: 'more than 3 redirects' });
    expect(byName(results, 'not-followed')).toMatchObject({ status: 'up', statusCode: 302 });
  });
});
