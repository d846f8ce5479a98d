// Confirm on failure in the prober (lambda/probe/confirmations.ts): what a round asks for and when, and how a request is
// served. Real checks against loopback servers, the real results store and claims on DynamoDB Local; the transport is a
// recorder (the SQS transport is tested through the handler, test/probe/prober-handler.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confirmationBatchId, type ConfirmationRequest } from '../../lambda/core/confirmation';
import { ConfirmationRequester, runConfirmation, type ConfirmationTransport } from '../../lambda/probe/confirmations';
import { dynamoConfirmationClaim } from '../../lambda/probe/dynamo-claims';
import { runRound } from '../../lambda/probe/round';
import { createResultsTable } from '../../lambda/store/create-tables';
import { ResultsStore } from '../../lambda/store/results-store';
import { startFaultyServer, type FaultyServer } from '../helpers/servers';
import { useTestStore } from '../helpers/store';
import { awayFromSlotEdge, memoryLogger, realClock, testConfig } from './fixtures';

const store = useTestStore();
let server: FaultyServer;
beforeAll(async () => {
  server = await startFaultyServer();
});
afterAll(async () => {
  await server.close();
});

const SLOT = 1_775_000_000;

function recorder(fail: (to: string) => boolean = () => false): ConfirmationTransport & { sent: { to: string; request: ConfirmationRequest; atMs: number }[] } {
  const sent: { to: string; request: ConfirmationRequest; atMs: number }[] = [];
  return {
    sent,
    send: async (to, request) => {
      if (fail(to)) throw Object.assign(new Error('no route'), { name: 'QueueDoesNotExist' });
      sent.push({ to, request: structuredClone(request), atMs: Date.now() });
    },
  };
}

let tables = 0;
async function freshTable() {
  const tableName = `confirm-${++tables}`;
  await createResultsTable(store.current.client, tableName);
  return { results: new ResultsStore({ client: store.current.documentClient, tableName, retentionHours: 48 }), claim: dynamoConfirmationClaim({ client: store.current.documentClient, tableName }) };
}

describe('the requester (the probe region that sees a failure)', () => {
  it('asks every probe region about a failing target as soon as its answer comes, in one request per batch; healthy targets are never asked about', async () => {
    const config = testConfig({
      us: [
        { name: 'ok', type: 'http', url: `${server.origin}/ok` },
        { name: 'broken', type: 'http', url: `${server.origin}/status/503?t=broken` },
        { name: 'gone', type: 'http', url: `${server.origin}/status/500?t=gone` },
      ],
    });
    const transport = recorder();
    const requester = new ConfirmationRequester({ config, probeRegion: 'eu-west-1', slot: SLOT, transport, previous: async () => new Map() });
    const started = Date.now();
    const round = await runRound({ config, probeRegion: 'eu-west-1', slot: SLOT, deadlineAt: started + 5000, watch: requester }, realClock);
    await requester.drain();
    expect(round.results.map((r) => r.status)).toEqual(['up', 'down', 'down']);
    expect(transport.sent.map((s) => s.to)).toEqual(['us-east-1', 'eu-west-1', 'ap-southeast-1']);
    for (const { request } of transport.sent) {
      expect(request).toEqual({
        kind: 'confirm',
        from: 'eu-west-1',
        slot: SLOT,
        batch: 0,
        targets: [
          { region: 'us', target: 'broken', at: expect.any(Number) },
          { region: 'us', target: 'gone', at: expect.any(Number) },
        ],
      });
    }
    // Each target's time is its own check's start, as stamped on its result.
    expect(transport.sent[0]?.request.targets.map((t) => t.at)).toEqual([round.results[1]?.at, round.results[2]?.at]);
  });

  it('asks about a check that has not answered within degradedLatencyMs at that moment, not at its timeout', async () => {
    const config = testConfig({ us: [{ name: 'hung', type: 'http', url: `${server.origin}/slow-headers` }] }, { defaults: { timeoutMs: 2000, degradedLatencyMs: 300 } });
    const transport = recorder();
    const requester = new ConfirmationRequester({ config, probeRegion: 'us-east-1', slot: SLOT, transport, previous: async () => new Map() });
    const started = Date.now();
    const round = await runRound({ config, probeRegion: 'us-east-1', slot: SLOT, deadlineAt: started + 5000, watch: requester }, realClock);
    await requester.drain();
    expect(round.results[0]).toMatchObject({ status: 'down', errorClass: 'timeout' });
    expect(transport.sent).toHaveLength(3);
    const sentAfter = (transport.sent[0]?.atMs ?? 0) - started;
    expect(sentAfter).toBeGreaterThanOrEqual(300);
    expect(sentAfter).toBeLessThan(1500);
  });

  it('asks only about targets whose previous check from here was up: a target that stays down is confirmed once, when it starts failing', async () => {
    const config = testConfig({
      us: [
        { name: 'new-failure', type: 'http', url: `${server.origin}/status/503?t=a` },
        { name: 'still-down', type: 'http', url: `${server.origin}/status/503?t=b` },
        { name: 'degraded-before', type: 'http', url: `${server.origin}/status/503?t=c` },
      ],
    });
    const transport = recorder();
    const asked: number[] = [];
    const previous = async (_p: string, slot: number) => {
      asked.push(slot);
      return new Map([
        ['us/new-failure', 'up' as const],
        ['us/still-down', 'down' as const],
        ['us/degraded-before', 'degraded' as const],
      ]);
    };
    const requester = new ConfirmationRequester({ config, probeRegion: 'us-east-1', slot: SLOT, transport, previous });
    await runRound({ config, probeRegion: 'us-east-1', slot: SLOT, deadlineAt: Date.now() + 5000, watch: requester }, realClock);
    await requester.drain();
    expect(asked).toEqual([SLOT]);
    expect(new Set(transport.sent.map((s) => s.request.targets.map((t) => t.target).join()))).toEqual(new Set(['new-failure']));
  });

  it('never asks about our own refusal (blocked-address): a target the SSRF guard refuses, directly or on a redirect, is a config problem, not a failure to confirm', async () => {
    const config = testConfig({
      us: [
        { name: 'metadata', type: 'http', url: 'http://169.254.169.254/latest/meta-data/' },
        { name: 'to-metadata', type: 'http', url: `${server.origin}/redirect/to?url=${encodeURIComponent('http://169.254.169.254/latest/')}` },
        { name: 'broken', type: 'http', url: `${server.origin}/status/503?t=refusal-beside` },
      ],
    });
    const transport = recorder();
    const requester = new ConfirmationRequester({ config, probeRegion: 'us-east-1', slot: SLOT, transport, previous: async () => new Map() });
    const round = await runRound({ config, probeRegion: 'us-east-1', slot: SLOT, deadlineAt: Date.now() + 5000, watch: requester }, realClock);
    await requester.drain();
    expect(round.results.map((r) => r.errorClass ?? r.status)).toEqual(['blocked-address', 'blocked-address', 'status']);
    // The real failure beside them is still asked about, alone.
    expect(transport.sent).toHaveLength(3);
    for (const { request } of transport.sent) expect(request.targets.map((t) => t.target)).toEqual(['broken']);
  });

  it("reads the previous checks as those before the round's first check, so its own round written first is not its past", async () => {
    const config = testConfig({ us: [{ name: 'ok', type: 'http', url: `${server.origin}/ok` }, { name: 'broken', type: 'http', url: `${server.origin}/status/503` }] });
    const transport = recorder();
    const asked: number[] = [];
    const before = Date.now();
    const requester = new ConfirmationRequester({
      config,
      probeRegion: 'us-east-1',
      slot: SLOT,
      transport,
      previous: async (_probeRegion, _slot, beforeMs) => {
        asked.push(beforeMs);
        return new Map();
      },
    });
    await runRound({ config, probeRegion: 'us-east-1', slot: SLOT, deadlineAt: Date.now() + 5000, watch: requester }, realClock);
    await requester.drain();
    expect(asked).toHaveLength(1);
    expect(asked[0]).toBeGreaterThanOrEqual(before);
    expect(asked[0]).toBeLessThanOrEqual(Date.now());
  });

  it('reads nothing and asks nothing when every check is up: quiet times cost no request and no read', async () => {
    const config = testConfig({ us: [{ name: 'a', type: 'http', url: `${server.origin}/ok` }, { name: 'b', type: 'http', url: `${server.origin}/ok` }] });
    const transport = recorder();
    let reads = 0;
    const requester = new ConfirmationRequester({
      config,
      probeRegion: 'us-east-1',
      slot: SLOT,
      transport,
      previous: async () => {
        reads++;
        return new Map();
      },
    });
    await runRound({ config, probeRegion: 'us-east-1', slot: SLOT, deadlineAt: Date.now() + 5000, watch: requester }, realClock);
    await requester.drain();
    expect(transport.sent).toEqual([]);
    expect(reads).toBe(0);
  });

  it('asks about at most perHostConcurrency targets per host and concurrency in all per round, and never about a check the caps held back (FAULTS 18, 20)', async () => {
    const many = Array.from({ length: 30 }, (_, i) => ({ name: `svc-${i}`, type: 'http' as const, url: `${server.origin}/status/503?svc=${i}` }));
    const config = testConfig({ us: many }, { probing: { perHostConcurrency: 4, concurrency: 10 } });
    const transport = recorder();
    const requester = new ConfirmationRequester({ config, probeRegion: 'us-east-1', slot: SLOT, transport, previous: async () => new Map() });
    const round = await runRound({ config, probeRegion: 'us-east-1', slot: SLOT, deadlineAt: Date.now() + 5000, watch: requester }, realClock);
    await requester.drain();
    expect(round.results.every((r) => r.status === 'down')).toBe(true);
    const askedOnce = new Set(transport.sent.filter((s) => s.to === 'us-east-1').flatMap((s) => s.request.targets.map((t) => t.target)));
    // One host (127.0.0.1): four of the thirty, the first to fail.
    expect(askedOnce.size).toBe(4);

    // A round whose deadline holds most checks back behind the caps: those are not observations, never asked about.
    const held = testConfig({ us: Array.from({ length: 6 }, (_, i) => ({ name: `hang-${i}`, type: 'http' as const, url: `${server.origin}/slow-headers?h=${i}` })) }, { probing: { perHostConcurrency: 1 }, defaults: { timeoutMs: 1000, degradedLatencyMs: 5000 } });
    const heldTransport = recorder();
    const heldRequester = new ConfirmationRequester({ config: held, probeRegion: 'us-east-1', slot: SLOT, transport: heldTransport, previous: async () => new Map() });
    const heldRound = await runRound({ config: held, probeRegion: 'us-east-1', slot: SLOT, deadlineAt: Date.now() + 1500, watch: heldRequester }, realClock);
    await heldRequester.drain();
    expect(heldRound.results.filter((r) => r.detail?.startsWith('not started')).length).toBeGreaterThan(3);
    const heldAsked = new Set(heldTransport.sent.flatMap((s) => s.request.targets.map((t) => t.target)));
    for (const r of heldRound.results) if (r.detail?.startsWith('not started')) expect(heldAsked.has(r.target)).toBe(false);
  });

  it('a request that cannot be sent is logged, never thrown; one whose state read fails asks nothing (detection falls back to the rounds)', async () => {
    const config = testConfig({ us: [{ name: 'broken', type: 'http', url: `${server.origin}/status/503?t=send` }] });
    const logger = memoryLogger();
    const transport = recorder((to) => to === 'ap-southeast-1');
    const requester = new ConfirmationRequester({ config, probeRegion: 'us-east-1', slot: SLOT, transport, previous: async () => new Map(), logger });
    await runRound({ config, probeRegion: 'us-east-1', slot: SLOT, deadlineAt: Date.now() + 5000, watch: requester }, realClock);
    await requester.drain();
    expect(transport.sent.map((s) => s.to)).toEqual(['us-east-1', 'eu-west-1']);
    expect(logger.lines.filter((l) => l.attributes?.event === 'confirm-send-failed').map((l) => l.attributes?.to)).toEqual(['ap-southeast-1']);

    const quiet = recorder();
    const stateless = new ConfirmationRequester({ config, probeRegion: 'us-east-1', slot: SLOT, transport: quiet, previous: () => Promise.reject(new Error('throttled')), logger });
    await runRound({ config, probeRegion: 'us-east-1', slot: SLOT, deadlineAt: Date.now() + 5000, watch: stateless }, realClock);
    await stateless.drain();
    expect(quiet.sent).toEqual([]);
    expect(logger.lines.some((l) => l.attributes?.event === 'confirm-state-unavailable')).toBe(true);
  });
});

describe('the confirmer (a probe region asked to check)', () => {
  const config = () =>
    testConfig(
      { us: [{ name: 'db', type: 'http', url: `${server.origin}/status/503?confirm=db` }, { name: 'api', type: 'http', url: `${server.origin}/ok?confirm=api` }] },
      { defaults: { minFaultSeconds: 0.4 } },
    );
  const request = (at: number, batch = 0): ConfirmationRequest => ({ kind: 'confirm', from: 'us-east-1', slot: SLOT, batch, targets: [{ region: 'us', target: 'db', at }, { region: 'us', target: 'api', at }] });

  it('waits until the failure is minFaultSeconds old, checks every target at once and writes one confirmation record in the slot of its checks', async () => {
    const { results, claim } = await freshTable();
    const at = Date.now();
    const before = server.requests.length;
    const summary = await runConfirmation({ config: config(), probeRegion: 'eu-west-1', request: request(at), store: results, claim }, realClock);
    expect(summary).toMatchObject({ outcome: 'checked', from: 'us-east-1', checked: 2, claimedAway: 0, heldBack: 0 });
    const checks = server.requests.slice(before);
    expect(checks.map((r) => r.headers['x-regionwatch-probe-region'])).toEqual(['eu-west-1', 'eu-west-1']);
    const slot = summary.slot ?? 0;
    const [record] = (await results.readRounds(slot, slot)).filter((r) => r.kind === 'confirmation');
    expect(record).toMatchObject({ probeRegion: 'eu-west-1', batch: confirmationBatchId(request(at)) });
    expect(record?.results.map((r) => `${r.target}:${r.status}`)).toEqual(['db:down', 'api:up']);
    for (const r of record?.results ?? []) expect(r.at).toBeGreaterThanOrEqual(at + 400);
  });

  it('checks a target at most once per probe region and slot, whoever asks and however often the request is delivered', async () => {
    const { results, claim } = await freshTable();
    await awayFromSlotEdge(10, 4000);
    const at = Date.now();
    const before = server.requests.length;
    const first = await runConfirmation({ config: config(), probeRegion: 'eu-west-1', request: request(at), store: results, claim }, realClock);
    const duplicate = await runConfirmation({ config: config(), probeRegion: 'eu-west-1', request: request(at), store: results, claim }, realClock);
    const otherOrigin = await runConfirmation({ config: config(), probeRegion: 'eu-west-1', request: { ...request(at), from: 'ap-southeast-1' }, store: results, claim }, realClock);
    expect([first.outcome, duplicate.outcome, otherOrigin.outcome]).toEqual(['checked', 'claimed', 'claimed']);
    expect(duplicate.claimedAway).toBe(2);
    expect(server.requests.length - before).toBe(2);
    // Another probe region keeps its own claim: it checks once too.
    const there = await runConfirmation({ config: config(), probeRegion: 'ap-southeast-1', request: request(at), store: results, claim }, realClock);
    expect(there.checked).toBe(2);
  });

  it('drops a request older than an interval, and checks nothing when the claim store fails (the bound is kept)', async () => {
    const { results } = await freshTable();
    const stale = await runConfirmation({ config: config(), probeRegion: 'eu-west-1', request: request(Date.now() - 11_000), store: results, claim: async () => [] }, realClock);
    expect(stale.outcome).toBe('stale');
    const before = server.requests.length;
    const failing = await runConfirmation({ config: config(), probeRegion: 'eu-west-1', request: request(Date.now()), store: results, claim: () => Promise.reject(new Error('throttled')) }, { ...realClock, logger: memoryLogger() });
    expect(failing.outcome).toBe('claim-failed');
    expect(server.requests.length).toBe(before);
  });

  it('never waits more than minFaultSeconds, whatever time the request names (a skewed origin clock)', async () => {
    const { results, claim } = await freshTable();
    const started = Date.now();
    const summary = await runConfirmation({ config: config(), probeRegion: 'eu-west-1', request: request(Date.now() + 60_000), store: results, claim }, realClock);
    expect(summary.outcome).toBe('checked');
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
