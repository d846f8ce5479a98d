// Detection in local mode against a real loopback platform: one HTTP server per platform region, killed for real at
// a moment of the clock, and the page timed on the same clock. Local mode's probers stagger their rounds and confirm
// failures with each other, as on AWS (lambda/local/slot-loop.ts, lambda/local/local-mode.ts).
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambda/config/load';
import { isConfirmation } from '../../lambda/core/results';
import { ScaledClock } from '../../lambda/local/clock';
import { startLocalMode, type LocalMode } from '../../lambda/local/local-mode';
import { tempDir } from './harness';

/** A platform region: a health endpoint that counts requests per probe region and slot, until it is killed. */
interface RegionServer {
  url: string;
  /** Requests per `probe region|slot`. */
  perSlot: Map<string, number>;
  kill(): Promise<void>;
}

async function regionServer(clock: { now(): number }): Promise<RegionServer> {
  const perSlot = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const probe = String(req.headers['x-regionwatch-probe-region'] ?? '-');
    const key = `${probe}|${Math.floor(clock.now() / 10_000) * 10}`;
    perSlot.set(key, (perSlot.get(key) ?? 0) + 1);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/health`,
    perSlot,
    // Refused from now on: the listener is gone and every open connection with it.
    kill: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('local mode against a loopback platform whose servers are killed', () => {
  const data = tempDir('regionwatch-detection-');
  let mode: LocalMode | undefined;
  afterAll(async () => {
    await mode?.close();
    data.remove();
  });

  it('pages each outage within 12 s of the kill, from staggered rounds and confirmations, with at most two requests per target per probe region per slot', { timeout: 90_000 }, async () => {
    const startMs = Date.parse('2026-04-14T14:00:00Z');
    // Twenty times real time: a 10-second slot takes half a second; requests and their latencies stay real.
    const clock = new ScaledClock(startMs, 20);
    clock.holdAt(startMs);
    const regions = ['us', 'eu', 'apac'];
    const servers = new Map<string, RegionServer>();
    for (const r of regions) servers.set(r, await regionServer(clock));
    const config = parseConfig(
      {
        platform: 'detect',
        probeRegions: ['us-east-1', 'eu-west-1', 'ap-southeast-1'],
        homeRegion: 'us-east-1',
        defaults: { intervalSeconds: 10, timeoutMs: 2000 },
        regions: Object.fromEntries(regions.map((r) => [r, { targets: [{ name: 'api', type: 'http', url: servers.get(r)?.url }] }])),
        probing: { allowPrivateAddresses: true, jitterMs: 0 },
        notifications: { emails: [], slackWebhookSecretName: null, reminderMinutes: 30 },
      },
      'detection test config',
    );
    expect(config.probing.detection).toBe('confirm');
    mode = await startLocalMode({ config, dataDir: data.path, cwd: tmpdir(), port: 0, clock, speed: 20, notificationLine: () => undefined });
    const running = mode;
    // Killed at moments that fall early, in the middle and late in a slot, for each of the three staggered offsets.
    const kills = [
      { region: 'us', atMs: startMs + 62_300 },
      { region: 'eu', atMs: startMs + 95_900 },
      { region: 'apac', atMs: startMs + 128_700 },
    ];
    const run = running.run({ fromMs: startMs, untilMs: startMs + 170_000, catchUp: 'replay' });
    for (const kill of kills) {
      await clock.sleepUntil(kill.atMs);
      await servers.get(kill.region)?.kill();
    }
    await run;

    for (const kill of kills) {
      const opened = running.sent.find((n) => n.region === kill.region && n.event === 'opened');
      expect(opened, kill.region).toBeDefined();
      expect(opened?.severity).toBe('down');
      const seconds = (Date.parse(opened?.at ?? '') - kill.atMs) / 1000;
      expect(seconds, kill.region).toBeGreaterThan(0);
      expect(seconds, kill.region).toBeLessThanOrEqual(12);
      console.log(`local mode: ${kill.region} killed at +${(kill.atMs - startMs) / 1000} s, paged ${seconds.toFixed(1)} s later`);
    }
    expect(running.sent.filter((n) => n.event === 'opened')).toHaveLength(3);

    // Staggered: each probe region's rounds start a third of the interval after the previous one's.
    const rounds = await running.results.readRounds(startMs / 1000, startMs / 1000 + 160);
    const offsets = new Map<string, number[]>();
    for (const r of rounds) if (!isConfirmation(r)) offsets.set(r.probeRegion, [...(offsets.get(r.probeRegion) ?? []), r.startedAt - r.slot * 1000]);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
    // Within 400 ms of the offset: a loaded machine's timers run late, a wrong stagger is off by whole seconds.
    for (const [region, offsetMs] of [['us-east-1', 0], ['eu-west-1', 3333], ['ap-southeast-1', 6667]] as const) {
      expect(Math.abs(median(offsets.get(region) ?? []) - offsetMs), region).toBeLessThan(400);
    }
    // Confirmed: every probe region checked the killed targets again at the others' request, in records of their own.
    const confirmations = rounds.filter(isConfirmation);
    expect(new Set(confirmations.map((c) => c.probeRegion))).toEqual(new Set(config.probeRegions));
    expect(new Set(confirmations.flatMap((c) => c.results.map((r) => r.region)))).toEqual(new Set(regions));
    // Healthy targets before the kill: one request per probe region per slot, no confirmation of anything up.
    for (const [region, server] of servers) {
      for (const [key, n] of server.perSlot) expect(n, `${region} ${key}`).toBe(1);
    }
    // After the kill, a target gets its round's check and at most one confirmation per probe region and slot.
    const perSlot = new Map<string, number>();
    for (const r of rounds) for (const x of r.results) {
      const key = `${r.probeRegion}|${x.region}|${Math.floor((x.at ?? r.startedAt) / 10_000)}`;
      perSlot.set(key, (perSlot.get(key) ?? 0) + 1);
    }
    expect(Math.max(...perSlot.values())).toBe(2);
  });
});
