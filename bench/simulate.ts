// Detection rows of `npm run bench`: how fast regionwatch pages, how often it pages wrongly or not at all, and how fast
// the simulator runs. Everything goes through `simulate`: the real engine on a virtual clock, seeded.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { mulberry32 } from '../lambda/simulate/random';
import { loadScenarioFile, resolveScenario, type ScenarioInput } from '../lambda/simulate/scenario';
import { simulate, type Simulation } from '../lambda/simulate/simulate';
import type { Bench, BenchRow } from './types';

const SCENARIOS = fileURLToPath(new URL('../scenarios/', import.meta.url));

/** How many randomised faults, and the seed that draws them. */
const RANDOM_FAULTS = 200;
const RANDOM_SEED = 42;
const GOAL_P95_SECONDS = 25;

/**
 * Baselines, computed rather than measured (neither can run here):
 * - Route 53 health checks at their fastest: a 10-second request interval ("fast", an extra charge) and the failure
 *   threshold of 3 consecutive failed checks, so about 10 × 3 = 30 s before the check turns unhealthy
 *   (Route 53 Developer Guide, "Values that you specify when you create or update health checks": request interval
 *   10 or 30 s, failure threshold 1-10, default 3). An alarm on it adds its own period on top.
 * - CloudWatch Synthetics canaries: the shortest schedule is once a minute (`rate(1 minute)`), so a failure is seen
 *   60 s after the previous run at worst and 30 s on average, before any alarm period (Synthetics User Guide,
 *   "Scheduling canary runs"); a page needs the canary's alarm, whose period is at least a minute: >= 60 s.
 */
const ROUTE53_FASTEST_SECONDS = 10 * 3;
const SYNTHETICS_FASTEST_SECONDS = 60;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/**
 * Randomised scenarios: in each platform region, faults one after another, each `down` or `read-only`, starting at a
 * random instant (to a tenth of a second, not on a slot boundary) and lasting 1-15 minutes, with 20-25 quiet minutes
 * between them so that every fault is a fresh incident (beyond the 15-minute reopen window).
 */
function randomScenarios(total: number, seed: number): ScenarioInput[] {
  const random = mulberry32(seed);
  const regions = ['us', 'eu', 'apac'];
  const duration = 2 * 3600;
  const out: ScenarioInput[] = [];
  let made = 0;
  for (let n = 0; made < total && n < total; n++) {
    const events: ScenarioInput['events'] = [];
    for (const region of regions) {
      let t = 60 + random() * 600;
      for (;;) {
        const length = 60 + random() * 840;
        if (t + length > duration - 600 || made >= total) break;
        const from = Math.round(t * 10) / 10;
        events.push({ region, fault: random() < 0.5 ? 'down' : 'read-only', from, to: Math.round((t + length) * 10) / 10 });
        made++;
        t += length + 1200 + random() * 300;
      }
    }
    out.push({ description: `randomised faults #${n + 1}`, durationSeconds: duration, seed: seed + n, events });
  }
  return out;
}

/** Replication lags swept (FAULTS row 5): detection should cost the lag and nothing more. */
const LAG_SWEEP_SECONDS = [0, 30, 60, 180] as const;

/** A 10-minute EU outage inside 20 minutes of replication lag into every replica. */
function lagScenario(lagSeconds: number): ScenarioInput {
  return {
    description: `replication lag ${lagSeconds} s`,
    durationSeconds: 2400,
    events: [
      ...(lagSeconds > 0 ? [{ fault: 'replication-lag' as const, from: 300, to: 1500, delaySeconds: lagSeconds }] : []),
      { region: 'eu', fault: 'down' as const, from: 600, to: 1200 },
    ],
  };
}

async function lagSweep(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const lag of LAG_SWEEP_SECONDS) {
    const { report } = await simulate(resolveScenario(lagScenario(lag), { source: `lag ${lag}` }));
    const detected = report.detections[0]?.seconds ?? Number.NaN;
    const down = report.incidents.reduce((n, i) => n + i.downSeconds, 0);
    const checker = report.notifications.filter((n) => n.event === 'checker').length;
    const pages = report.notifications.filter((n) => n.event !== 'checker').length;
    rows.push({
      area: 'detection',
      figure: `replication lag ${lag} s: detection of a 10-minute EU down`,
      value: detected,
      unit: 's',
      goal: `<= ${lag + GOAL_P95_SECONDS} s, 600 s down, 2 pages, no checker alert`,
      ok: detected <= lag + GOAL_P95_SECONDS && down === 600 && pages === 2 && checker === 0 && report.falseNotifications === 0,
      note: `${down} s down recorded, ${pages} pages, ${checker} checker alerts`,
    });
  }
  return rows;
}

export const bench: Bench = async () => {
  // The scenario library.
  const library: { file: string; sim: Simulation }[] = [];
  for (const file of readdirSync(SCENARIOS).filter((f) => f.endsWith('.json')).sort()) {
    library.push({ file, sim: await simulate(loadScenarioFile(join(SCENARIOS, file))) });
  }
  // Randomised faults with the default (built-in example) config.
  const randomised: Simulation[] = [];
  for (const input of randomScenarios(RANDOM_FAULTS, RANDOM_SEED)) randomised.push(await simulate(resolveScenario(input, { source: input.description ?? 'random' })));

  const faults = randomised.reduce((n, s) => n + s.scenario.events.length, 0);
  const seconds = randomised.flatMap((s) => s.report.detections.map((d) => d.seconds)).sort((a, b) => a - b);
  const p50 = percentile(seconds, 50);
  const p95 = percentile(seconds, 95);
  const byFault = (fault: string) =>
    randomised
      .flatMap((s) => s.report.detections.filter((d) => d.fault === fault).map((d) => d.seconds))
      .sort((a, b) => a - b);

  const sum = (list: readonly Simulation[], key: 'falseNotifications' | 'missedFaults' | 'duplicateNotifications') => list.reduce((n, s) => n + s.report[key], 0);
  const where = (key: 'falseNotifications' | 'missedFaults' | 'duplicateNotifications') =>
    library.filter((l) => l.sim.report[key] > 0).map((l) => `${l.file}: ${l.sim.report[key]}`);
  const allSims = [...library.map((l) => l.sim), ...randomised];
  const judged = (key: 'falseNotifications' | 'missedFaults' | 'duplicateNotifications', label: string): BenchRow => {
    const value = sum(allSims, key);
    const inLibrary = where(key);
    return {
      area: 'detection',
      figure: `${label} over the ${library.length} library scenarios and ${faults} randomised faults`,
      value,
      unit: key === 'missedFaults' ? 'faults' : 'notifications',
      goal: '0',
      ok: value === 0,
      note: inLibrary.length > 0 ? `from ${inLibrary.join(', ')}` : `randomised: ${sum(randomised, key)}`,
    };
  };

  // The simulator's own speed: DESIGN.md's two-hour example, best of three (the first run also warms the JIT).
  const example = loadScenarioFile(join(SCENARIOS, 'design-example.json'));
  const walls: number[] = [];
  for (let n = 0; n < 3; n++) {
    const started = performance.now();
    await simulate(example);
    walls.push(performance.now() - started);
  }
  const wall = Math.min(...walls);

  const down = byFault('down');
  const readOnly = byFault('read-only');
  const rows: BenchRow[] = [
    {
      area: 'detection',
      figure: `detection p50, ${seconds.length} of ${faults} randomised down/read-only faults, default config (10 s interval, failure threshold 2)`,
      value: p50,
      unit: 's',
      goal: 'informational',
      ok: true,
      baseline: { label: 'Route 53 health check at its fastest (10 s × threshold 3)', value: ROUTE53_FASTEST_SECONDS },
      note: `down p50 ${percentile(down, 50)} s, read-only p50 ${percentile(readOnly, 50)} s`,
    },
    {
      area: 'detection',
      figure: 'detection p95, same faults',
      value: p95,
      unit: 's',
      goal: `<= ${GOAL_P95_SECONDS} s`,
      ok: p95 <= GOAL_P95_SECONDS,
      baseline: { label: 'Route 53 health check at its fastest (10 s × threshold 3)', value: ROUTE53_FASTEST_SECONDS },
      note: `max ${seconds[seconds.length - 1] ?? Number.NaN} s; down p95 ${percentile(down, 95)} s, read-only p95 ${percentile(readOnly, 95)} s`,
    },
    {
      area: 'detection',
      figure: 'detection p95 vs a CloudWatch Synthetics canary',
      value: p95,
      unit: 's',
      goal: `<= ${GOAL_P95_SECONDS} s`,
      ok: p95 <= GOAL_P95_SECONDS,
      baseline: { label: 'Synthetics canary at its fastest (every minute, + alarm)', value: SYNTHETICS_FASTEST_SECONDS },
    },
    judged('falseNotifications', 'false notifications'),
    judged('missedFaults', 'missed faults'),
    judged('duplicateNotifications', 'duplicate notifications'),
    {
      area: 'detection',
      figure: 'library scenarios whose expectations hold',
      value: library.filter((l) => l.sim.ok).length,
      unit: 'scenarios',
      goal: `${library.length}`,
      ok: library.every((l) => l.sim.ok),
      note: library.filter((l) => !l.sim.ok).map((l) => `not met: ${l.file}`).join(', ') || 'all met',
    },
    {
      area: 'detection',
      figure: 'simulator: DESIGN.md’s two-hour scenario, wall time (best of 3)',
      value: Math.round(wall),
      unit: 'ms',
      goal: '< 1000 ms',
      ok: wall < 1000,
      baseline: { label: 'the same two hours in real time', value: example.durationSeconds * 1000 },
      note: `first run ${Math.round(walls[0] ?? 0)} ms`,
    },
    ...(await lagSweep()),
  ];
  return rows;
};
