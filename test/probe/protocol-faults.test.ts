// FAULTS row 19: targets that answer 101, an endless run of 1xx, or upgrade the connection, and peers that never
// finish (a TLS handshake, a DNS answer); and the round's own promise: it settles by its deadline whatever a check does.
import { setTimeout as delay } from 'node:timers/promises';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../lambda/core/results';
import { checkTarget } from '../../lambda/probe/checks/index';
import type { HostLookup } from '../../lambda/probe/context';
import { runRound, type RoundData } from '../../lambda/probe/round';
import { startDnsServer, startFaultyServer, startRawHttpServer, startTcpServer, type DnsServer, type FaultyServer, type RawHttpServer } from '../helpers/servers';
import { memoryLogger, realClock, testConfig } from './fixtures';

let raw: RawHttpServer;
let http: FaultyServer;
let silentTcp: Awaited<ReturnType<typeof startTcpServer>>;
let silentDns: DnsServer;
beforeAll(async () => {
  [raw, http, silentTcp, silentDns] = await Promise.all([startRawHttpServer(), startFaultyServer(), startTcpServer(), startDnsServer({}, { silent: true })]);
});
afterAll(async () => {
  await Promise.all([raw, http, silentTcp, silentDns].map((s) => s?.close()));
});

/** The round, or a failure naming the hang: without it a hung round would only show as the test's own timeout. */
async function settlesWithin(round: Promise<RoundData>, ms: number): Promise<RoundData> {
  const hung = delay(ms, undefined, { ref: false }).then(() => {
    throw new Error(`the round did not settle within ${ms} ms`);
  });
  return Promise.race([round, hung]);
}

const byName = (results: ProbeResult[], name: string): ProbeResult => {
  const found = results.find((r) => r.target === name);
  if (!found) throw new Error(`no result for ${name}`);
  return found;
};

/** Polls until `condition` holds (bounded): server-side closes arrive a moment after the client's. */
async function eventually(condition: () => boolean, ms = 1000): Promise<boolean> {
  for (let waited = 0; waited < ms && !condition(); waited += 20) await delay(20);
  return condition();
}

/** Answers every name from the table; `hang.acme.test` is never answered at all (not even a failure). */
const lookup: HostLookup = (hostname) =>
  hostname === 'hang.acme.test' ? new Promise(() => undefined) : Promise.resolve([{ address: '127.0.0.1', family: 4 }]);

describe('1xx and upgrade answers, and peers that never finish (FAULTS 19)', () => {
  const DEADLINE_MS = 3000;
  let round: RoundData;
  let wallMs: number;

  beforeAll(async () => {
    const config = testConfig({
      us: [
        { name: 'switching-protocols', type: 'http', url: `${raw.origin}/switch` },
        { name: 'switching-to-h2c', type: 'http', url: `${raw.origin}/switch-h2c` },
        { name: 'redirect-to-switch', type: 'http', url: `${http.origin}/redirect/to?url=${encodeURIComponent(`${raw.origin}/switch`)}` },
        { name: 'endless-early-hints', type: 'http', url: `${raw.origin}/hints-forever` },
        { name: 'hints-then-ok', type: 'http', url: `${raw.origin}/hints-then-ok`, expect: { bodyContains: 'ok' } },
        { name: 'neighbour', type: 'http', url: `${http.origin}/ok` },
        // A server that keeps the connection whatever the request asked: read to its end, and not read at all (HEAD).
        { name: 'held-open', type: 'http', url: `${raw.origin}/ok-held-open`, expect: { bodyContains: 'ok' } },
        { name: 'held-open-head', type: 'http', method: 'HEAD', url: `${raw.origin}/ok-held-open` },
      ],
      eu: [
        { name: 'tls-never-handshakes', type: 'tls', host: '127.0.0.1', port: silentTcp.port, timeoutMs: 800 },
        { name: 'https-never-handshakes', type: 'https', url: `https://127.0.0.1:${silentTcp.port}/`, timeoutMs: 800 },
        { name: 'lookup-never-answers', type: 'http', url: `http://hang.acme.test:${http.port}/ok`, timeoutMs: 800 },
        { name: 'resolver-never-answers', type: 'dns', hostname: 'api.acme.test', resolver: silentDns.resolver, timeoutMs: 800 },
      ],
    });
    const started = Date.now();
    round = await settlesWithin(runRound({ config, probeRegion: 'us-east-1', slot: 1_764_400_000, deadlineAt: started + DEADLINE_MS }, { ...realClock, lookup }), DEADLINE_MS + 3000);
    wallMs = Date.now() - started;
  });

  it('classifies an unasked 101 Switching Protocols as a protocol failure at once, on the first hop or a redirect hop', () => {
    for (const name of ['switching-protocols', 'switching-to-h2c', 'redirect-to-switch']) {
      const result = byName(round.results, name);
      expect(result, name).toMatchObject({ status: 'down', errorClass: 'protocol', statusCode: 101 });
      expect(result.detail, name).toMatch(/^answered 101 Switching Protocols \(upgrade to (websocket|h2c)\)/);
      expect(result.latencyMs, name).toBeLessThan(500);
    }
    expect(byName(round.results, 'switching-to-h2c').detail).toContain('h2c');
    expect(raw.requests.filter((line) => line.startsWith('GET /switch ')).length).toBe(2);
  });

  it('cuts an endless run of informational responses short as a protocol failure, and passes a few before a final one', () => {
    const flood = byName(round.results, 'endless-early-hints');
    expect(flood).toMatchObject({ status: 'down', errorClass: 'protocol', detail: 'more than 10 informational (1xx) responses without a final one' });
    expect(flood.latencyMs).toBeLessThan(500);
    expect(byName(round.results, 'hints-then-ok')).toMatchObject({ status: 'up', statusCode: 200 });
  });

  it('times out a TLS handshake that never finishes and a lookup or resolver that never answers, at the request timeout', () => {
    expect(byName(round.results, 'tls-never-handshakes')).toMatchObject({ status: 'down', errorClass: 'timeout', detail: 'no complete TLS handshake within 800 ms' });
    expect(byName(round.results, 'https-never-handshakes')).toMatchObject({ status: 'down', errorClass: 'timeout', detail: 'no complete TLS handshake within 800 ms' });
    expect(byName(round.results, 'lookup-never-answers')).toMatchObject({ status: 'down', errorClass: 'dns', detail: 'DNS lookup not answered within 800 ms' });
    expect(byName(round.results, 'resolver-never-answers')).toMatchObject({ status: 'down', errorClass: 'dns' });
    for (const name of ['tls-never-handshakes', 'https-never-handshakes', 'lookup-never-answers', 'resolver-never-answers']) {
      expect(byName(round.results, name).latencyMs, name).toBeLessThan(1300);
    }
  });

  it('settles the round inside its deadline with every other result kept, and leaves no connection open, even to a server that holds them', async () => {
    expect(round.results).toHaveLength(12);
    expect(byName(round.results, 'neighbour')).toMatchObject({ status: 'up', statusCode: 200 });
    for (const name of ['held-open', 'held-open-head']) expect(byName(round.results, name), name).toMatchObject({ status: 'up', statusCode: 200 });
    expect(wallMs).toBeLessThan(DEADLINE_MS);
    await eventually(() => raw.openSockets() === 0 && silentTcp.openSockets() === 0);
    expect({ raw: raw.openSockets(), silentTcp: silentTcp.openSockets() }).toEqual({ raw: 0, silentTcp: 0 });
  });
});

describe('a round settles by its deadline whatever a check does (FAULTS 19)', () => {
  it('reports a check that never resolves or rejects as timeout at the deadline, tears it down, and the next round runs in full', async () => {
    const logger = memoryLogger();
    const config = testConfig(
      {
        us: [
          { name: 'never-settles', type: 'tcp', host: '127.0.0.1', port: silentTcp.port },
          { name: 'same-host-after', type: 'tcp', host: '127.0.0.1', port: silentTcp.port },
          { name: 'elsewhere', type: 'http', url: `http://elsewhere.acme.test:${http.port}/ok` },
        ],
      },
      // One slot per host: the hung check holds the host's only slot for the whole round.
      { probing: { perHostConcurrency: 1, concurrency: 2 } },
    );
    const hungSockets: ReturnType<typeof connect>[] = [];
    let hang = true;
    const check: typeof checkTarget = (target, ctx) => {
      if (!hang || target.name !== 'never-settles') return checkTarget(target, ctx);
      // A check with a bug: it opens a connection and never resolves nor rejects. The round's signal is its
      // one chance to let go of the socket; the round must not wait for it.
      const socket = connect({ host: '127.0.0.1', port: silentTcp.port });
      socket.on('error', () => undefined);
      hungSockets.push(socket);
      ctx.roundSignal.addEventListener('abort', () => socket.destroy(), { once: true });
      return new Promise<ProbeResult>(() => undefined);
    };
    const started = Date.now();
    const deadlineAt = started + 700;
    const first = await settlesWithin(runRound({ config, probeRegion: 'us-east-1', slot: 1_764_400_000, deadlineAt }, { ...realClock, logger, check, lookup }), 3000);
    const settledAt = Date.now();
    expect(settledAt).toBeGreaterThanOrEqual(deadlineAt - 10);
    expect(settledAt - deadlineAt).toBeLessThan(400);
    expect(byName(first.results, 'never-settles')).toMatchObject({ status: 'down', errorClass: 'timeout', detail: 'did not finish by the round deadline' });
    expect(byName(first.results, 'same-host-after')).toMatchObject({ status: 'down', errorClass: 'timeout', detail: 'not started before the round deadline (concurrency caps)' });
    expect(byName(first.results, 'elsewhere')).toMatchObject({ status: 'up' });
    expect(logger.lines.find((l) => l.attributes?.event === 'check-unsettled')?.attributes).toMatchObject({ region: 'us', target: 'never-settles', slot: 1_764_400_000 });
    expect(hungSockets.every((s) => s.destroyed)).toBe(true);

    // The next round in the same process: nothing of the hung check (slots, sockets) is left to starve it.
    hang = false;
    const second = await settlesWithin(runRound({ config, probeRegion: 'us-east-1', slot: 1_764_400_010, deadlineAt: Date.now() + 2000 }, { ...realClock, logger, check, lookup }), 4000);
    expect(second.results.map((r) => [r.target, r.status])).toEqual([
      ['never-settles', 'up'],
      ['same-host-after', 'up'],
      ['elsewhere', 'up'],
    ]);
  });
});
