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
/** Randomised degraded faults (slowness between degradedLatencyMs and the timeout), reported on their own. */
const DEGRADED_FAULTS = 100;
const RANDOM_SEED = 42;
/** The goals of issue 11 at a 10 s interval, over the randomised down and read-only faults. */
const GOAL_P50_SECONDS = 8;
const GOAL_P95_SECONDS = 12;
/** The first design's goal, kept for the replication-lag sweep: detection should cost the lag and nothing more. */
const LAG_GOAL_SECONDS = 25;
/** The design measured, and the ones it is measured against, all in the same run (`probing.detection`). */
const DESIGNS = {
  confirm: 'staggered rounds and confirm on failure (the default)',
  staggered: 'staggered rounds without confirmation (what is left when the transport fails)',
  rounds: 'the first design: aligned rounds, failureThreshold slots',
} as const;
type Design = keyof typeof DESIGNS;

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
/**
 * updown.io: when a check fails it runs two confirmation checks from other locations and alerts if they fail too,
 * about 1.5 times its check interval after the failure (issue 11, from updown.io's documentation); at our 10 s: 15 s.
 */
const UPDOWN_SECONDS = 1.5 * 10;

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
type ScenarioEvent = NonNullable<ScenarioInput['events']>[number];

function randomScenarios(total: number, seed: number, faultOf: (random: () => number) => 'down' | 'read-only' | 'slow' = (random) => (random() < 0.5 ? 'down' : 'read-only')): ScenarioInput[] {
  const random = mulberry32(seed);
  const regions = ['us', 'eu', 'apac'];
  const duration = 2 * 3600;
  const out: ScenarioInput[] = [];
  let made = 0;
  for (let n = 0; made < total && n < total; n++) {
    const events: ScenarioEvent[] = [];
    for (const region of regions) {
      let t = 60 + random() * 600;
      for (;;) {
        const length = 60 + random() * 840;
        if (t + length > duration - 600 || made >= total) break;
        const from = Math.round(t * 10) / 10;
        const fault = faultOf(random);
        const to = Math.round((t + length) * 10) / 10;
        // Degraded: slower than degradedLatencyMs (1.5 s), faster than the timeout (3 s).
        events.push(fault === 'slow' ? { region, fault, from, to, latencyMs: 2500 } : { region, fault, from, to });
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
      goal: `<= ${lag + LAG_GOAL_SECONDS} s, 600 s down, 2 pages, no checker alert`,
      ok: detected <= lag + LAG_GOAL_SECONDS && down === 600 && pages === 2 && checker === 0 && report.falseNotifications === 0,
      note: `${down} s down recorded, ${pages} pages, ${checker} checker alerts`,
    });
  }
  return rows;
}

/** The scenario with `probing.detection` set. */
function withDesign(input: ScenarioInput, design: Design): ScenarioInput {
  const config = (input.config ?? {}) as { probing?: Record<string, unknown> };
  return { ...input, config: { ...config, probing: { ...config.probing, detection: design } } };
}

interface DesignRun {
  sims: Simulation[];
  /** Detection seconds, ascending, per fault kind and over down and read-only together. */
  seconds: { all: number[]; down: number[]; readOnly: number[] };
}

async function runDesign(inputs: readonly ScenarioInput[], design: Design): Promise<DesignRun> {
  const sims: Simulation[] = [];
  for (const input of inputs) sims.push(await simulate(resolveScenario(withDesign(input, design), { source: input.description ?? 'random' })));
  const of = (fault?: string) => sims.flatMap((s) => s.report.detections.filter((d) => fault === undefined || d.fault === fault).map((d) => d.seconds)).sort((a, b) => a - b);
  return { sims, seconds: { all: of(), down: of('down'), readOnly: of('read-only') } };
}

const stats = (sorted: readonly number[]) => `p50 ${percentile(sorted, 50)} s, p95 ${percentile(sorted, 95)} s, max ${sorted[sorted.length - 1] ?? Number.NaN} s`;

/** Confirmation checks per target per hour of the platform region's own state (failing or not), over a run. */
function extraRequests(sims: readonly Simulation[]): { quiet: number; broken: number; brokenChecks: number; brokenTargetHours: number } {
  let quietChecks = 0;
  let brokenChecks = 0;
  let quietTargetHours = 0;
  let brokenTargetHours = 0;
  for (const sim of sims) {
    const { scenario, trace } = sim;
    const t0 = scenario.startAtMs;
    const targetsOf = (region: string) => scenario.config.regions[region]?.targets.length ?? 0;
    const faults = scenario.events.filter((e) => 'region' in e && e.region !== undefined && ['down', 'read-only', 'slow', 'errors', 'flap'].includes(e.fault));
    // A fault's hour counts as broken for the targets of its region from its start to a minute after its end.
    const brokenAt = (region: string, atMs: number) => faults.some((e) => 'region' in e && e.region === region && t0 + e.from * 1000 <= atMs && atMs < t0 + (e.to + 60) * 1000);
    for (const c of trace.confirmationChecks) {
      if (c.atMs < t0) continue;
      if (brokenAt(c.region, c.atMs)) brokenChecks++;
      else quietChecks++;
    }
    for (const region of Object.keys(scenario.config.regions)) {
      const brokenSeconds = faults.filter((e) => 'region' in e && e.region === region).reduce((n, e) => n + Math.min(scenario.durationSeconds, e.to + 60) - e.from, 0);
      brokenTargetHours += (targetsOf(region) * brokenSeconds) / 3600;
      quietTargetHours += (targetsOf(region) * (scenario.durationSeconds - brokenSeconds)) / 3600;
    }
  }
  return { quiet: quietChecks / Math.max(1e-9, quietTargetHours), broken: brokenChecks / Math.max(1e-9, brokenTargetHours), brokenChecks, brokenTargetHours };
}

const round1 = (n: number) => Math.round(n * 10) / 10;

export const bench: Bench = async () => {
  // The scenario library.
  const library: { file: string; sim: Simulation }[] = [];
  for (const file of readdirSync(SCENARIOS).filter((f) => f.endsWith('.json')).sort()) {
    library.push({ file, sim: await simulate(loadScenarioFile(join(SCENARIOS, file))) });
  }
  // Randomised faults with the default (built-in example) config, in each design; degraded faults apart.
  const inputs = randomScenarios(RANDOM_FAULTS, RANDOM_SEED);
  const designs = {} as Record<Design, DesignRun>;
  for (const design of Object.keys(DESIGNS) as Design[]) designs[design] = await runDesign(inputs, design);
  const slowInputs = randomScenarios(DEGRADED_FAULTS, RANDOM_SEED + 1, () => 'slow');
  const slow = { confirm: await runDesign(slowInputs, 'confirm'), rounds: await runDesign(slowInputs, 'rounds') };
  const slowSeconds = (run: DesignRun) => run.sims.flatMap((s) => s.report.detections.map((d) => d.seconds)).sort((a, b) => a - b);
  // A quiet platform for two hours: what confirmation costs when nothing fails.
  const quiet = await simulate(resolveScenario({ description: 'quiet', durationSeconds: 7200, events: [] }, { source: 'quiet' }));
  const randomised = designs.confirm.sims;

  const faults = randomised.reduce((n, s) => n + s.scenario.events.length, 0);
  const { all: seconds, down, readOnly } = designs.confirm.seconds;
  const first = designs.rounds.seconds;
  const p50 = percentile(seconds, 50);
  const p95 = percentile(seconds, 95);

  const sum = (list: readonly Simulation[], key: 'falseNotifications' | 'missedFaults' | 'duplicateNotifications') => list.reduce((n, s) => n + s.report[key], 0);
  const where = (key: 'falseNotifications' | 'missedFaults' | 'duplicateNotifications') =>
    library.filter((l) => l.sim.report[key] > 0).map((l) => `${l.file}: ${l.sim.report[key]}`);
  const allSims = [...library.map((l) => l.sim), ...randomised, ...slow.confirm.sims];
  const judged = (key: 'falseNotifications' | 'missedFaults' | 'duplicateNotifications', label: string): BenchRow => {
    const value = sum(allSims, key);
    const inLibrary = where(key);
    const others = (Object.keys(DESIGNS) as Design[]).filter((d) => d !== 'confirm').map((d) => `${d}: ${sum(designs[d].sims, key)}`);
    return {
      area: 'detection',
      figure: `${label} over the ${library.length} library scenarios and ${faults + DEGRADED_FAULTS} randomised faults`,
      value,
      unit: key === 'missedFaults' ? 'faults' : 'notifications',
      goal: '0',
      ok: value === 0,
      note: inLibrary.length > 0 ? `from ${inLibrary.join(', ')}` : `randomised: ${sum(randomised, key) + sum(slow.confirm.sims, key)}; the other designs on the same faults: ${others.join(', ')}`,
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

  const traffic = extraRequests(randomised);
  const quietTraffic = extraRequests([quiet]);
  const quietTargets = Object.values(quiet.scenario.config.regions).reduce((n, r) => n + r.targets.length, 0);
  const quietRoundChecksPerInterval = quiet.trace.roundChecks / (quietTargets * quiet.scenario.config.probeRegions.length * ((quiet.scenario.durationSeconds + quiet.scenario.warmupSeconds) / 10));
  const storm = library.find((l) => l.file === 'many-targets.json')?.sim;
  const outage = library.find((l) => l.file === 'region-outage.json')?.sim;
  const mostRequests = Math.max(storm?.trace.confirmations.maxRequestsPerTargetSlot ?? 0, outage?.trace.confirmations.maxRequestsPerTargetSlot ?? 0, ...randomised.map((s) => s.trace.confirmations.maxRequestsPerTargetSlot));
  const slowConfirm = slowSeconds(slow.confirm);
  const slowFirst = slowSeconds(slow.rounds);
  const rows: BenchRow[] = [
    {
      area: 'detection',
      figure: `detection p50, ${seconds.length} of ${faults} randomised down/read-only faults, default config (10 s interval, ${DESIGNS.confirm})`,
      value: p50,
      unit: 's',
      goal: `<= ${GOAL_P50_SECONDS} s`,
      ok: p50 <= GOAL_P50_SECONDS,
      baseline: { label: 'the first design (aligned rounds), same faults', value: percentile(first.all, 50) },
      note: `down p50 ${percentile(down, 50)} s, read-only p50 ${percentile(readOnly, 50)} s`,
    },
    {
      area: 'detection',
      figure: 'detection p95, same faults',
      value: p95,
      unit: 's',
      goal: `<= ${GOAL_P95_SECONDS} s`,
      ok: p95 <= GOAL_P95_SECONDS,
      baseline: { label: 'the first design (aligned rounds), same faults', value: percentile(first.all, 95) },
      note: `max ${seconds[seconds.length - 1] ?? Number.NaN} s; the first design max ${first.all[first.all.length - 1] ?? Number.NaN} s`,
    },
    {
      area: 'detection',
      figure: 'detection of down faults (timeouts: the slowest to see)',
      value: percentile(down, 95),
      unit: 's',
      goal: `<= ${GOAL_P95_SECONDS} s (p95)`,
      ok: percentile(down, 95) <= GOAL_P95_SECONDS,
      baseline: { label: 'the first design, p95', value: percentile(first.down, 95) },
      note: `${stats(down)}; the first design ${stats(first.down)}`,
    },
    {
      area: 'detection',
      figure: 'detection of read-only faults (refused write probes)',
      value: percentile(readOnly, 95),
      unit: 's',
      goal: `<= ${GOAL_P95_SECONDS} s (p95)`,
      ok: percentile(readOnly, 95) <= GOAL_P95_SECONDS,
      baseline: { label: 'the first design, p95', value: percentile(first.readOnly, 95) },
      note: `${stats(readOnly)}; the first design ${stats(first.readOnly)}`,
    },
    {
      area: 'detection',
      figure: `detection of degraded faults (${slowConfirm.length} of ${DEGRADED_FAULTS} randomised spells at 2.5 s, between degradedLatencyMs and the timeout)`,
      value: percentile(slowConfirm, 95),
      unit: 's',
      goal: 'informational (p95)',
      ok: true,
      baseline: { label: 'the first design, p95', value: percentile(slowFirst, 95) },
      note: `${stats(slowConfirm)}; the first design ${stats(slowFirst)}`,
    },
    {
      area: 'detection',
      figure: `detection p95 with ${DESIGNS.staggered}`,
      value: percentile(designs.staggered.seconds.all, 95),
      unit: 's',
      goal: `<= ${LAG_GOAL_SECONDS} s (the first design's goal)`,
      ok: percentile(designs.staggered.seconds.all, 95) <= LAG_GOAL_SECONDS,
      baseline: { label: 'the first design, p95', value: percentile(first.all, 95) },
      note: stats(designs.staggered.seconds.all),
    },
    {
      area: 'detection',
      figure: 'detection p95 vs Route 53 health checks',
      value: p95,
      unit: 's',
      goal: `<= ${GOAL_P95_SECONDS} s`,
      ok: p95 <= GOAL_P95_SECONDS,
      baseline: { label: 'Route 53 health check at its fastest (10 s × threshold 3)', value: ROUTE53_FASTEST_SECONDS },
    },
    {
      area: 'detection',
      figure: 'detection p95 vs updown.io',
      value: p95,
      unit: 's',
      goal: `<= ${GOAL_P95_SECONDS} s`,
      ok: p95 <= GOAL_P95_SECONDS,
      baseline: { label: 'updown.io: two confirmations from other locations, ~1.5 × its interval (10 s)', value: UPDOWN_SECONDS },
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
    {
      area: 'detection',
      figure: 'extra requests per target per hour that confirmation costs in quiet times (a healthy two hours)',
      value: round1(quietTraffic.quiet),
      unit: 'requests',
      goal: '0',
      ok: quietTraffic.quiet === 0,
      note: `round requests per target per probe region per interval: ${quietRoundChecksPerInterval.toFixed(3)} (unchanged: 1)`,
    },
    {
      area: 'detection',
      figure: "extra requests per target per hour that confirmation costs in broken times (per hour of the target's region failing, randomised faults)",
      value: round1(traffic.broken),
      unit: 'requests',
      goal: 'informational',
      ok: true,
      baseline: { label: 'the rounds themselves, 3 probe regions × 360 an hour', value: 3 * 360 },
      note: `${traffic.brokenChecks} confirmation checks over ${round1(traffic.brokenTargetHours)} target-hours of faults; between faults ${round1(traffic.quiet)} an hour`,
    },
    {
      area: 'detection',
      figure: 'most requests one target got from one probe region in one interval (the round and confirmations; region-outage, many-targets and the randomised faults)',
      value: mostRequests,
      unit: 'requests',
      goal: '<= 2 (FAULTS 18, 20)',
      ok: mostRequests <= 2,
      note: `1,000 targets on one host returning 503: ${storm?.trace.confirmations.checks ?? 0} confirmation checks in all, paged in ${storm?.report.detections[0]?.seconds ?? Number.NaN} s`,
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
