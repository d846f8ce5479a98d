// FAULTS row 18 and the round's own rules: one request per target per round, caps, jitter, intervals, the round deadline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDue, jitterOffsetMs, runRound } from '../../lambda/probe/round';
import { startFaultyServer, type FaultyServer } from '../helpers/servers';
import { memoryLogger, realClock, tableLookup, testConfig } from './fixtures';

let server: FaultyServer;
beforeAll(async () => {
  server = await startFaultyServer();
});
afterAll(async () => {
  await server.close();
});

describe('1,000 targets on one host all returning 503 (FAULTS 18)', () => {
  it('sends exactly one request per target per round, at most perHostConcurrency at a time, and reports each down', async () => {
    const targets = Array.from({ length: 1000 }, (_, i) => ({ name: `t${i}`, type: 'http' as const, url: `${server.origin}/status/503?target=${i}` }));
    const config = testConfig({ us: targets.slice(0, 500), eu: targets.slice(500) }, { probing: { concurrency: 64, perHostConcurrency: 8, jitterMs: 300 } });
    const before = server.requests.length;
    const slots = [1_764_400_000, 1_764_400_010];
    for (const slot of slots) {
      const started = Date.now();
      const deadlineAt = started + 5000;
      const round = await runRound({ config, probeRegion: 'us-east-1', slot, deadlineAt }, realClock);
      expect(round.finishedAt).toBeLessThanOrEqual(deadlineAt);
      expect(round.results).toHaveLength(1000);
      expect(round.results.every((r) => r.status === 'down' && r.errorClass === 'status' && r.statusCode === 503)).toBe(true);
    }
    const seen = server.requests.slice(before).map((r) => r.path);
    expect(seen).toHaveLength(2000);
    const perTarget = new Map<string, number>();
    for (const path of seen) perTarget.set(path, (perTarget.get(path) ?? 0) + 1);
    expect(perTarget.size).toBe(1000);
    expect([...perTarget.values()].every((n) => n === 2)).toBe(true);
    expect(server.maxInFlight()).toBeLessThanOrEqual(8);
  });
});

describe('round rules', () => {
  it('spreads starts over jitterMs, the same way for the same target and slot', async () => {
    expect(jitterOffsetMs('us/api/1764400000', 2000)).toBe(jitterOffsetMs('us/api/1764400000', 2000));
    const offsets = Array.from({ length: 200 }, (_, i) => jitterOffsetMs(`us/t${i}/1764400000`, 2000));
    expect(Math.min(...offsets)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...offsets)).toBeLessThanOrEqual(2000);
    expect(new Set(offsets.map((o) => Math.floor(o / 250))).size).toBeGreaterThanOrEqual(8); // every 250 ms bucket of 0..2000 gets some
    expect(jitterOffsetMs('anything', 0)).toBe(0);

    const config = testConfig({ us: Array.from({ length: 20 }, (_, i) => ({ name: `j${i}`, type: 'http' as const, url: `${server.origin}/ok?j=${i}` })) }, { probing: { jitterMs: 600 } });
    const arrivals: number[] = [];
    const onRequest = () => arrivals.push(Date.now());
    const before = server.requests.length;
    const started = Date.now();
    const timer = setInterval(() => {
      while (arrivals.length < server.requests.length - before) onRequest();
    }, 5);
    await runRound({ config, probeRegion: 'us-east-1', slot: 1_764_400_000, deadlineAt: started + 3000 }, realClock);
    clearInterval(timer);
    while (arrivals.length < server.requests.length - before) onRequest();
    expect(arrivals).toHaveLength(20);
    expect(Math.max(...arrivals) - Math.min(...arrivals)).toBeGreaterThan(250);
  });

  it('runs a target with a longer interval only on slots that are multiples of it', async () => {
    expect(isDue({ intervalSeconds: 30 }, 1_764_399_990)).toBe(true);
    expect(isDue({ intervalSeconds: 30 }, 1_764_400_000)).toBe(false);
    const config = testConfig({
      us: [
        { name: 'often', type: 'http', url: `${server.origin}/ok` },
        { name: 'rarely', type: 'http', url: `${server.origin}/ok`, intervalSeconds: 30 },
      ],
    });
    const off = await runRound({ config, probeRegion: 'us-east-1', slot: 1_764_400_000, deadlineAt: Date.now() + 2000 }, realClock);
    expect(off.results.map((r) => r.target)).toEqual(['often']);
    const on = await runRound({ config, probeRegion: 'us-east-1', slot: 1_764_399_990, deadlineAt: Date.now() + 2000 }, realClock);
    expect(on.results.map((r) => r.target)).toEqual(['often', 'rarely']);
  });

  it('counts a redirect hop to another host against that host\'s cap, without deadlocking hosts that redirect into each other', async () => {
    const other = await startFaultyServer();
    try {
      // Ten front hosts each redirect to one slow back host, which also has targets of its own; and two hosts
      // redirect into each other's slow paths, which would deadlock if a check held one host while waiting for another.
      const back = `http://back.acme.test:${other.port}`;
      const fronts = Array.from({ length: 10 }, (_, i) => ({
        name: `front${i}`,
        type: 'http' as const,
        url: `http://front${i}.acme.test:${server.port}/redirect/to?url=${encodeURIComponent(`${back}/slow/150?from=${i}`)}`,
      }));
      const direct = Array.from({ length: 4 }, (_, i) => ({ name: `back${i}`, type: 'http' as const, url: `${back}/slow/150?direct=${i}` }));
      const crossed = ['x', 'y'].map((name, i, both) => ({
        name: `cross-${name}`,
        type: 'http' as const,
        url: `http://${name}.acme.test:${server.port}/redirect/to?url=${encodeURIComponent(`http://${both[1 - i] ?? 'x'}.acme.test:${server.port}/slow/150?cross=${name}`)}`,
      }));
      const config = testConfig({ us: [...fronts, ...direct, ...crossed] }, { probing: { concurrency: 50, perHostConcurrency: 2 } });
      const names = ['back', 'x', 'y', ...fronts.map((_, i) => `front${i}`)];
      const lookup = tableLookup(Object.fromEntries(names.map((n) => [`${n}.acme.test`, ['127.0.0.1']])));
      const round = await runRound({ config, probeRegion: 'us-east-1', slot: 1_764_400_000, deadlineAt: Date.now() + 4000 }, { ...realClock, lookup });
      expect(round.results.map((r) => [r.target, r.status])).toEqual([...fronts, ...direct, ...crossed].map((t) => [t.name, 'up']));
      expect(other.requests).toHaveLength(14);
      expect(other.maxInFlight()).toBeLessThanOrEqual(2);

      // One slot per host: holding x while waiting for y (and y for x) would stall both until the deadline.
      const single = testConfig({ us: crossed }, { probing: { perHostConcurrency: 1 } });
      const started = Date.now();
      const crossing = await runRound({ config: single, probeRegion: 'us-east-1', slot: 1_764_400_000, deadlineAt: started + 3000 }, { ...realClock, lookup });
      expect(crossing.results.map((r) => r.status)).toEqual(['up', 'up']);
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      await other.close();
    }
  });

  it('ends at the round deadline even when hung targets fill the caps, and says which checks never started', async () => {
    const logger = memoryLogger();
    const config = testConfig(
      { us: [...Array.from({ length: 4 }, (_, i) => ({ name: `hung${i}`, type: 'http' as const, url: `${server.origin}/slow-headers?h=${i}` }))] },
      { probing: { concurrency: 1, perHostConcurrency: 1 }, defaults: { timeoutMs: 5000 } },
    );
    const started = Date.now();
    const round = await runRound({ config, probeRegion: 'us-east-1', slot: 1_764_400_000, deadlineAt: started + 600 }, { ...realClock, logger });
    const wall = Date.now() - started;
    expect(wall).toBeGreaterThanOrEqual(550);
    expect(wall).toBeLessThan(1000);
    expect(round.results[0]).toMatchObject({ status: 'down', errorClass: 'timeout', detail: 'no complete response headers within the round deadline' });
    for (const result of round.results.slice(1)) {
      expect(result).toMatchObject({ status: 'down', errorClass: 'timeout', detail: 'not started before the round deadline (concurrency caps)' });
    }
    expect(logger.lines.find((l) => l.attributes?.event === 'round-saturated')?.attributes).toMatchObject({ notStarted: 3, due: 4 });
  });
});
