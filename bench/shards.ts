// A 10,000-target round against a loopback platform that answers in 300 ms, fanned out over the shards the plan
// gives (lambda/config/capacity.ts), beside the same round in one invocation. Each shard runs in its own child
// process, all at once as Lambda runs them, so its wall time and peak RSS are its own; the platform is another child
// that counts requests per target and per host and the most in flight per host.
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { RegionwatchConfig } from '../lambda/config/schema';
import { nextMessage, startChild } from './children';
import type { Bench, BenchRow } from './types';

const SELF = fileURLToPath(import.meta.url);
const CHILD_ENV = 'REGIONWATCH_BENCH_SHARD_CHILD';
const TARGETS = 10_000;
const TARGETS_PER_HOST = 10;
const ANSWER_MS = 300;
const CHILD_TIMEOUT_MS = 90_000;
const PROBE_REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-1'];
/** The slot starts this long after every shard reported ready: the children are warm, as the queue's deliveries are. */
const START_LEAD_MS = 1500;
/** Checks each child runs before it reports ready (not counted: the platform's counts are reset after). */
const WARMUP_CHECKS = 300;
/** What a check still queued behind the caps at the round deadline reports (lambda/probe/round.ts). */
const NOT_STARTED = 'not started before the round deadline';

interface PlatformCounts {
  requests: number;
  /** Most requests any one target (path) received, and any one host (Host header). */
  maxPerTarget: number;
  maxPerHost: number;
  /** Most requests in flight at once on one host. */
  maxInFlightPerHost: number;
}

interface ShardResult {
  shard: number;
  checks: number;
  wallMs: number;
  /** Checks the caps left unstarted at the deadline (reported timeout): what sharding is for. */
  notStarted: number;
  /** Other results that were not up: a loopback platform that always answers should give none. */
  otherFailures: number;
  /** Those other failures by error class and a sample detail, for the note. */
  failureKinds: Record<string, { count: number; detail: string }>;
  peakRssMb: number;
  /** DynamoDB items the shard's part of the round packs into, and the shard its record says it is (-1: unsharded). */
  items: number;
  recordShard: number;
}

async function loadConfig(port: number): Promise<RegionwatchConfig> {
  const { configSchema } = await import('../lambda/config/schema');
  return configSchema.parse({
    platform: 'bench',
    // Three probe regions, staggered as deployed (0, 3.3 and 6.7 s into each slot): each runs the same plan.
    probeRegions: PROBE_REGIONS,
    homeRegion: 'us-east-1',
    defaults: { intervalSeconds: 10, timeoutMs: 3000, quorum: 1 },
    regions: {
      us: {
        targets: Array.from({ length: TARGETS }, (_, i) => ({ name: `t${i}`, type: 'http', url: `http://h${Math.floor(i / TARGETS_PER_HOST)}.bench.test:${port}/t${i}` })),
      },
    },
    probing: { allowPrivateAddresses: true, expectedLatencyMs: ANSWER_MS },
  });
}

// ---- children ---------------------------------------------------------------------------------

function servePlatform(): void {
  const perTarget = new Map<string, number>();
  const perHost = new Map<string, number>();
  const inFlight = new Map<string, number>();
  let requests = 0;
  let maxInFlightPerHost = 0;
  const server = http.createServer((req, res) => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    requests++;
    perTarget.set(req.url ?? '', (perTarget.get(req.url ?? '') ?? 0) + 1);
    perHost.set(host, (perHost.get(host) ?? 0) + 1);
    const now = (inFlight.get(host) ?? 0) + 1;
    inFlight.set(host, now);
    maxInFlightPerHost = Math.max(maxInFlightPerHost, now);
    setTimeout(() => {
      inFlight.set(host, (inFlight.get(host) ?? 1) - 1);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    }, ANSWER_MS);
  });
  server.keepAliveTimeout = 1000;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  process.on('message', (message) => {
    if (message === 'reset') {
      perTarget.clear();
      perHost.clear();
      requests = 0;
      maxInFlightPerHost = 0;
      process.send?.('reset');
    } else if (message === 'counts') {
      const counts: PlatformCounts = { requests, maxPerTarget: Math.max(0, ...perTarget.values()), maxPerHost: Math.max(0, ...perHost.values()), maxInFlightPerHost };
      process.send?.(counts);
    }
  });
  process.on('disconnect', () => process.exit(0));
}

/**
 * One invocation of the prober's shard code path (lambda/probe/queued-round.ts runQueuedRound, as the rounds queue's
 * message is served): the message names the slot and `shard` (none with -1: the whole round in one invocation); the
 * plan picks its targets, the late check, a slot claim and the round follow, and the round is packed into its
 * DynamoDB items (kept in memory: the table is not what this measures).
 */
async function runShard(shard: number, probeRegion: string, port: number): Promise<void> {
  const { runRound } = await import('../lambda/probe/round');
  const { runQueuedRound } = await import('../lambda/probe/queued-round');
  const { toRoundItems } = await import('../lambda/store/results-store');
  const { resolveTargets } = await import('../lambda/config/resolve');
  const { staggerOffsetMs } = await import('../lambda/core/stagger');
  const { setTimeout: delay } = await import('node:timers/promises');
  const config = await loadConfig(port);
  const offsetMs = staggerOffsetMs(config, probeRegion);
  const deps = {
    now: () => Date.now(),
    sleep: async (ms: number, signal?: AbortSignal) => {
      try {
        await delay(ms, undefined, signal ? { signal } : {});
      } catch {
        // aborted
      }
    },
    lookup: async () => [{ address: '127.0.0.1', family: 4 as const }],
  };
  process.once('message', (message) => {
    const { slotStartMs } = message as { slotStartMs: number };
    void (async () => {
      // The slot's label must be a multiple of the interval (a target is due on those); the message's clock offset
      // puts its start at slotStartMs, as a planning invocation's offset puts a skewed clock's.
      const slot = Math.floor(slotStartMs / 10_000) * 10;
      const roundMessage = { slot, probeRegion, minute: slot, clockOffsetMs: slotStartMs - slot * 1000, ...(shard < 0 ? {} : { shard }) };
      const claimed = new Set<string>();
      let written: Parameters<typeof toRoundItems>[0] | undefined;
      let items = 0;
      const summary = await runQueuedRound(
        {
          config,
          probeRegion,
          message: roundMessage,
          store: {
            writeRound: async (round) => {
              written = round;
              items = toRoundItems(round, config.probing.resultRetentionHours).length;
            },
          },
          claimSlot: async (p, s, n) => !claimed.has(`${p}/${s}/${n ?? ''}`) && Boolean(claimed.add(`${p}/${s}/${n ?? ''}`)),
        },
        deps,
      );
      // From the round's start (the slot's, plus the probe region's stagger offset; the message arrives before it and
      // waits) to its part of the round packed.
      const wallMs = Date.now() - slotStartMs - offsetMs;
      if (summary.outcome !== 'ran' || !written) throw new Error(`shard ${shard}: ${summary.outcome}`);
      const results = written.results;
      const notStarted = results.filter((r) => r.detail?.startsWith(NOT_STARTED)).length;
      const failureKinds: ShardResult['failureKinds'] = {};
      for (const r of results) {
        if (r.status === 'up' || r.detail?.startsWith(NOT_STARTED)) continue;
        const kind = (failureKinds[r.errorClass ?? r.status] ??= { count: 0, detail: r.detail ?? '' });
        kind.count++;
      }
      const result: ShardResult = {
        shard,
        checks: results.length,
        wallMs,
        notStarted,
        otherFailures: results.filter((r) => r.status !== 'up').length - notStarted,
        failureKinds,
        peakRssMb: process.resourceUsage().maxRSS / 1024,
        items,
        recordShard: written.shard ?? -1,
      };
      process.send?.(result, () => process.exit(0));
    })();
  });
  const targets = resolveTargets(config);
  // Warm, as a shard's container is from its earlier rounds: JIT and socket paths settle over a few hundred checks.
  await runRound({ config, probeRegion, slot: 0, deadlineAt: Date.now() + 9000, targets: targets.slice(0, WARMUP_CHECKS) }, { ...deps, now: () => Date.now() });
  process.send?.('ready');
}

// ---- parent -----------------------------------------------------------------------------------

function start(role: string, port?: number): ChildProcess {
  return startChild(SELF, CHILD_ENV, role, port);
}

function childMessage<T>(child: ChildProcess, what: string): Promise<T> {
  return nextMessage<T>(child, what, CHILD_TIMEOUT_MS);
}

/** Runs `shards` (shard indexes; -1: the whole round in one invocation) of `probeRegion` at once against the platform. */
async function roundOf(platform: ChildProcess, port: number, shards: number[], probeRegion = 'us-east-1'): Promise<{ results: ShardResult[]; counts: PlatformCounts }> {
  const children = shards.map((s) => start(`${s}@${probeRegion}`, port));
  try {
    await Promise.all(children.map((c, n) => childMessage(c, `shard ${shards[n]} start`)));
    platform.send('reset');
    await childMessage(platform, 'platform reset');
    const slotStartMs = (Math.floor((Date.now() + START_LEAD_MS) / 1000) + 1) * 1000;
    const done = children.map((c, n) => childMessage<ShardResult>(c, `shard ${shards[n]}`));
    for (const c of children) c.send({ slotStartMs });
    const results = await Promise.all(done);
    platform.send('counts');
    return { results, counts: await childMessage<PlatformCounts>(platform, 'platform counts') };
  } finally {
    for (const c of children) c.kill();
  }
}

const round1 = (n: number) => Math.round(n * 10) / 10;

export const bench: Bench = async () => {
  const platform = start('platform');
  try {
    const { port } = await childMessage<{ port: number }>(platform, 'loopback platform');
    const { shardPlan } = await import('../lambda/config/capacity');
    const config = await loadConfig(port);
    const plan = shardPlan(config);
    // Each probe region's shard set in turn (three at once on two shared cores would measure the cores): the worst of
    // each figure across them is the one reported.
    const sets: { probeRegion: string; results: ShardResult[]; counts: PlatformCounts }[] = [];
    for (const probeRegion of PROBE_REGIONS) sets.push({ probeRegion, ...(await roundOf(platform, port, Array.from({ length: plan.shards }, (_, s) => s), probeRegion)) });
    const sharded = {
      results: sets.flatMap((set) => set.results),
      counts: {
        requests: Math.min(...sets.map((set) => set.counts.requests)),
        maxPerTarget: Math.max(...sets.map((set) => set.counts.maxPerTarget)),
        maxPerHost: Math.max(...sets.map((set) => set.counts.maxPerHost)),
        maxInFlightPerHost: Math.max(...sets.map((set) => set.counts.maxInFlightPerHost)),
      },
      everyRequestCount: sets.every((set) => set.counts.requests === TARGETS),
    };
    const single = await roundOf(platform, port, [-1]);
    const one = single.results[0];
    if (!one) throw new Error('the one-invocation round reported nothing');
    const worstWall = Math.max(...sharded.results.map((r) => r.wallMs));
    const notStarted = sharded.results.reduce((n, r) => n + r.notStarted, 0);
    const otherFailures = sharded.results.reduce((n, r) => n + r.otherFailures, 0);
    const checks = sharded.results.reduce((n, r) => n + r.checks, 0) / sets.length;
    const peak = Math.max(...sharded.results.map((r) => r.peakRssMb));
    const walls = sets.map((set) => `${set.probeRegion} ${set.results.map((r) => Math.round(r.wallMs)).join('/')}`);
    const kinds = new Map<string, { count: number; detail: string }>();
    for (const r of sharded.results) {
      for (const [kind, { count, detail }] of Object.entries(r.failureKinds)) kinds.set(kind, { count: (kinds.get(kind)?.count ?? 0) + count, detail });
    }
    const kindList = [...kinds].map(([kind, { count, detail }]) => `${count} ${kind} (${detail})`).join(', ');
    const suspect = otherFailures > 0 ? ` ${otherFailures} other failures (${kindList}): the figure is suspect.` : '';
    const rows: BenchRow[] = [
      {
        area: 'probe',
        figure: `round of ${TARGETS.toLocaleString('en-US')} loopback targets answering in ${ANSWER_MS} ms (${TARGETS_PER_HOST} per host), ${plan.shards} shards at once, each of ${PROBE_REGIONS.length} probe regions' shard sets in turn: slowest shard's wall time`,
        value: Math.round(worstWall),
        unit: 'ms',
        goal: '< 9000 ms (the 10 s slot less the write margin)',
        ok: worstWall < 9000 && notStarted === 0 && checks === TARGETS && otherFailures === 0 && sharded.results.every((r) => r.recordShard === r.shard),
        baseline: { label: `one invocation, the whole round (${one.notStarted.toLocaleString('en-US')} checks never started: timeout)`, value: Math.round(one.wallMs) },
        note: `each shard a rounds-queue message served by the prober's code (runQueuedRound: plan, late check, claim, round, packed items; ${sharded.results.map((r) => r.items).join('/')} items); shards of ${plan.checksPerShard.join('/')} checks took ${walls.join('; ')} ms from the round's start to packed; concurrency ${config.probing.concurrency}, jitter ${config.probing.jitterMs} ms, fresh connections.${suspect}`,
      },
      {
        area: 'probe',
        figure: `round of ${TARGETS.toLocaleString('en-US')} targets in ${plan.shards} shards: checks the caps left unstarted (reported timeout)`,
        value: notStarted,
        unit: 'checks',
        goal: '0',
        ok: notStarted === 0,
        baseline: { label: 'one invocation', value: one.notStarted },
      },
      {
        area: 'probe',
        figure: `round of ${TARGETS.toLocaleString('en-US')} targets in ${plan.shards} shards: requests per target and per host reaching the platform, per probe region`,
        value: sharded.counts.maxPerTarget,
        unit: 'requests per target (most)',
        goal: `1 per target, ${TARGETS_PER_HOST} per host, <= ${config.probing.perHostConcurrency} in flight per host`,
        ok: sharded.counts.maxPerTarget === 1 && sharded.everyRequestCount && sharded.counts.maxPerHost === TARGETS_PER_HOST && sharded.counts.maxInFlightPerHost <= config.probing.perHostConcurrency,
        baseline: { label: 'one invocation, most per target', value: single.counts.maxPerTarget },
        note: `${sharded.counts.requests.toLocaleString('en-US')} requests from each probe region; most per host ${sharded.counts.maxPerHost}, most in flight on one host ${sharded.counts.maxInFlightPerHost} (one invocation: ${single.counts.maxInFlightPerHost})`,
      },
      {
        area: 'probe',
        figure: `round of ${TARGETS.toLocaleString('en-US')} targets in ${plan.shards} shards: peak RSS of the largest shard`,
        value: round1(peak),
        unit: 'MB',
        goal: '<= 256 MB (the prober\'s memory)',
        ok: peak <= 256,
        baseline: { label: 'one invocation, the whole round', value: round1(one.peakRssMb) },
        note: 'process maxRSS, including the tsx loader',
      },
    ];
    return rows;
  } finally {
    platform.kill();
  }
};

const role = process.env[CHILD_ENV];
if (role === 'platform') {
  servePlatform();
} else if (role !== undefined) {
  const [shard, probeRegion] = role.split('@');
  runShard(Number(shard), probeRegion ?? 'us-east-1', Number(process.env.REGIONWATCH_BENCH_PORT)).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
