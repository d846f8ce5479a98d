// Probe engine benchmarks: a 1,000-target round against a bare request loop, and memory under 50 endless bodies.
// Each case runs in its own child process, so its peak RSS (getrusage maxRSS) is its own; the loopback server is
// another child, so the measured process does only the client's work.
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { nextMessage, startChild } from './children';
import type { Bench, BenchRow } from './types';

const SELF = fileURLToPath(import.meta.url);
const CHILD_ENV = 'REGIONWATCH_BENCH_PROBE_CHILD';
const TARGETS = 1000;
const CONCURRENCY = 100;
const ENDLESS_TARGETS = 50;
/** Warm-up rounds per process, both sides alike: JIT and socket paths take about five rounds to settle. */
const WARMUP = 5;
/** Rounds measured per process after the warm-up; the process reports their median. */
const MEASURED = 9;
/**
 * Engine and bare processes run in alternating pairs (ours, bare, ours, bare, ...): load from anything else on the
 * machine drifts over seconds, so each pair sees the same conditions and the ratio is taken per pair.
 */
const PAIRS = 3;
const CHILD_TIMEOUT_MS = 60_000;

type CaseName = 'round-1000' | 'bare-1000' | 'quiet-50' | 'endless-50';

interface CaseResult {
  wallMs: number;
  peakRssMb: number;
  /** Results that were not what the case expects: a benchmark of failures measures nothing. */
  unexpected: number;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;

// ---- children ---------------------------------------------------------------------------------

async function serve(): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/endless')) {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 10 * 1024 ** 3 });
      let sent = 0;
      const pump = () => {
        while (!res.destroyed && sent < 10 * 1024 ** 3) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      res.on('error', () => undefined);
      pump();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  process.on('disconnect', () => process.exit(0));
}

async function runCase(name: CaseName, port: number): Promise<CaseResult> {
  const { configSchema } = await import('../lambda/config/schema');
  const { runRound } = await import('../lambda/probe/round');
  const { setTimeout: delay } = await import('node:timers/promises');
  const deps = {
    now: () => Date.now(),
    sleep: async (ms: number, signal?: AbortSignal) => {
      try {
        await delay(ms, undefined, signal ? { signal } : {});
      } catch {
        // aborted
      }
    },
  };
  const endless = name === 'endless-50';
  const count = name === 'round-1000' || name === 'bare-1000' ? TARGETS : ENDLESS_TARGETS;
  const config = configSchema.parse({
    platform: 'bench',
    probeRegions: ['us-east-1'],
    homeRegion: 'us-east-1',
    defaults: { intervalSeconds: 10, timeoutMs: 5000, quorum: 1 },
    regions: {
      us: {
        targets: Array.from({ length: count }, (_, i) => ({
          name: `t${i}`,
          type: 'http',
          url: `http://127.0.0.1:${port}/${endless ? 'endless' : 'ok'}?t=${i}`,
          // The worst case for memory: every body is kept (and must be cut) because an assertion needs it.
          ...(count === ENDLESS_TARGETS ? { expect: { bodyContains: endless ? 'the end' : 'ok' } } : {}),
        })),
      },
    },
    probing: { allowPrivateAddresses: true, jitterMs: 0, concurrency: CONCURRENCY, perHostConcurrency: CONCURRENCY },
  });
  const oneRound = async (): Promise<{ ms: number; unexpected: number }> => {
    const started = performance.now();
    const round = await runRound({ config, probeRegion: 'us-east-1', slot: 0, deadlineAt: Date.now() + 9000 }, deps);
    const ms = performance.now() - started;
    const want = endless ? 'too-large' : undefined;
    return { ms, unexpected: round.results.filter((r) => (want ? r.errorClass !== want : r.status !== 'up')).length };
  };
  const bareRound = async (): Promise<{ ms: number; unexpected: number }> => {
    const started = performance.now();
    let next = 0;
    let unexpected = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < count) {
          const i = next++;
          await new Promise<void>((resolve) => {
            http
              .get({ host: '127.0.0.1', port, path: `/ok?t=${i}`, agent: false }, (res) => {
                if (res.statusCode !== 200) unexpected++;
                res.resume();
                res.once('end', resolve);
              })
              .once('error', () => {
                unexpected++;
                resolve();
              });
          });
        }
      }),
    );
    return { ms: performance.now() - started, unexpected };
  };
  const run = name === 'bare-1000' ? bareRound : oneRound;
  if (count === TARGETS) {
    for (let i = 0; i < WARMUP; i++) await run(); // JIT and sockets, for both sides alike
    const measured: { ms: number; unexpected: number }[] = [];
    for (let i = 0; i < MEASURED; i++) measured.push(await run());
    return { wallMs: median(measured.map((m) => m.ms)), peakRssMb: peakRssMb(), unexpected: measured.reduce((n, m) => n + m.unexpected, 0) };
  }
  const once = await run();
  return { wallMs: once.ms, peakRssMb: peakRssMb(), unexpected: once.unexpected };
}

// ---- parent -----------------------------------------------------------------------------------

function start(role: string, port?: number): ChildProcess {
  return startChild(SELF, CHILD_ENV, role, port);
}

function firstMessage<T>(child: ChildProcess, what: string): Promise<T> {
  return nextMessage<T>(child, what, CHILD_TIMEOUT_MS);
}

async function measure(name: CaseName, port: number): Promise<CaseResult> {
  const child = start(name, port);
  try {
    return await firstMessage<CaseResult>(child, `bench case ${name}`);
  } finally {
    child.kill();
  }
}

const round1 = (n: number) => Math.round(n * 10) / 10;

export const bench: Bench = async () => {
  const server = start('server');
  try {
    const { port } = await firstMessage<{ port: number }>(server, 'bench server');
    // One after the other: two cores, and the server needs one.
    const pairs: { ours: CaseResult; bare: CaseResult }[] = [];
    for (let i = 0; i < PAIRS; i++) pairs.push({ ours: await measure('round-1000', port), bare: await measure('bare-1000', port) });
    const ratios = pairs.map((p) => p.ours.wallMs / p.bare.wallMs);
    // The pair with the median ratio gives the reported figures, so wall time, baseline and ratio belong together.
    const mid = pairs[ratios.indexOf(median(ratios))] ?? pairs[0];
    if (!mid) throw new Error('no pairs measured');
    const ours: CaseResult = { ...mid.ours, peakRssMb: Math.max(...pairs.map((p) => p.ours.peakRssMb)), unexpected: pairs.reduce((n, p) => n + p.ours.unexpected, 0) };
    const bare: CaseResult = { ...mid.bare, peakRssMb: Math.max(...pairs.map((p) => p.bare.peakRssMb)) };
    const spread = (values: number[], digits: number) => `${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)}`;
    const quiet = await measure('quiet-50', port);
    const endless = await measure('endless-50', port);
    const failures = (c: CaseResult) => (c.unexpected > 0 ? ` ${c.unexpected} results were not as expected: the figure is suspect.` : '');
    const ratio = median(ratios);
    const growth = endless.peakRssMb - quiet.peakRssMb;
    const rows: BenchRow[] = [
      {
        area: 'probe',
        figure: 'round of 1,000 loopback targets: wall time',
        value: Math.round(ours.wallMs),
        unit: 'ms',
        goal: '<= 2000 ms',
        ok: ours.wallMs <= 2000 && ours.unexpected === 0,
        baseline: { label: `bare http.request loop, ${CONCURRENCY} at a time`, value: Math.round(bare.wallMs) },
        note: `concurrency ${CONCURRENCY}, no jitter, fresh connections both sides; per process the median of ${MEASURED} rounds after ${WARMUP} warm-up rounds, ${PAIRS} alternating process pairs, the median pair shown (engine ${spread(pairs.map((p) => p.ours.wallMs), 0)} ms, bare ${spread(pairs.map((p) => p.bare.wallMs), 0)} ms).${failures(ours)}`,
      },
      {
        area: 'probe',
        figure: 'round of 1,000 targets: time over the bare loop',
        value: round1(ratio),
        unit: 'x',
        goal: '<= 1.5x',
        ok: ratio <= 1.5,
        baseline: { label: 'bare loop', value: 1 },
        note: `median of ${PAIRS} alternating pairs, spread ${spread(ratios, 2)}x; the engine adds the SSRF guard, deadlines, caps, body cap and evidence per request`,
      },
      {
        area: 'probe',
        figure: 'round of 1,000 targets: peak RSS',
        value: round1(ours.peakRssMb),
        unit: 'MB',
        goal: '<= 150 MB',
        ok: ours.peakRssMb <= 150,
        baseline: { label: 'bare loop peak RSS', value: round1(bare.peakRssMb) },
        note: 'process maxRSS, including the tsx loader both sides share',
      },
      {
        area: 'probe',
        figure: '50 endless bodies: peak RSS over the quiet case',
        value: round1(growth),
        unit: 'MB',
        goal: '<= 30 MB',
        ok: growth <= 30 && endless.unexpected === 0,
        baseline: { label: '50 quiet targets peak RSS', value: round1(quiet.peakRssMb) },
        note: `each body kept up to the 64 KiB cap, then cut (too-large); endless round took ${Math.round(endless.wallMs)} ms.${failures(endless)}`,
      },
    ];
    return rows;
  } finally {
    server.kill();
  }
};

const role = process.env[CHILD_ENV];
if (role === 'server') {
  void serve();
} else if (role !== undefined) {
  runCase(role as CaseName, Number(process.env.REGIONWATCH_BENCH_PORT)).then(
    (result) => process.send?.(result, () => process.exit(0)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
