// `simulate`: run a scenario, judge it, check its expectations; and the human summary of the outcome.
import { formatDuration } from '../core/incident-text';
import { confirmsFailures } from '../core/stagger';
import { count } from '../core/words';
import { checkExpectations, type ExpectationResult } from './expect';
import { judge, type FaultJudgement, type SimulationReport } from './report';
import type { Scenario } from './scenario';
import { runScenario, type SimulationTrace } from './simulator';

export interface Simulation {
  scenario: Scenario;
  /** DESIGN's `simulate --json` object. */
  report: SimulationReport;
  faults: FaultJudgement[];
  /** Indexes into report.notifications of the false ones. */
  falseAt: number[];
  trace: SimulationTrace;
  expectations: ExpectationResult[];
  /** Every expectation met (true when there are none). */
  ok: boolean;
}

export async function simulate(scenario: Scenario): Promise<Simulation> {
  const trace = await runScenario(scenario);
  const { report, faults, falseAt } = judge(scenario, trace);
  const expectations = checkExpectations(scenario.expect, report, trace.takeovers, trace);
  return { scenario, report, faults, falseAt, trace, expectations, ok: expectations.every((e) => e.ok) };
}

const s = (v: number) => `${Number.isInteger(v) ? v : v.toFixed(1)} s`;

/** The human summary: incidents, pages, detections, the judgement and the expectations. */
export function formatSimulation(sim: Simulation, label: string): string[] {
  const { scenario, report, trace } = sim;
  const c = scenario.config;
  const targets = Object.values(c.regions).reduce((n, r) => n + r.targets.length, 0);
  const out: string[] = [`scenario ${label}${scenario.description ? `: ${scenario.description}` : ''}`];
  out.push(
    `  ${formatDuration(scenario.durationSeconds)} simulated (+${scenario.warmupSeconds} s warm-up) in ${trace.wallMs.toFixed(0)} ms, seed ${scenario.seed}; ` +
      `${count(c.probeRegions.length, 'probe region')} and aggregators, ${count(Object.keys(c.regions).length, 'platform region')}, ${count(targets, 'target')}, every ${c.defaults.intervalSeconds} s`,
  );
  out.push(
    `  ${count(trace.rounds, 'round')}, ${count(trace.runs.length, 'aggregator run')} (${trace.runs.filter((r) => r.acted).length} acting), ${count(trace.storeWrites, 'store write')}, ` +
      `${count(trace.conflicts, 'lost race')}, ${count(trace.replays, 'replayed batch', 'replayed batches')}, ${count(trace.crashes, 'crash', 'crashes')}, ${count(trace.publishFailures, 'failed publish', 'failed publishes')}`,
  );
  const q = trace.confirmations;
  out.push(
    `  detection ${c.probing.detection}: ` +
      (confirmsFailures(c) ? `${count(q.requests, 'confirmation request')} (${q.lost} lost, ${q.dropped} dropped), ${count(q.checks, 'confirmation check')}, ${q.claimedAway} held back by a claim; ` : '') +
      `at most ${count(q.maxRequestsPerTargetSlot, 'request')} per target per probe region per slot`,
  );
  out.push('');
  out.push(`incidents (${report.incidents.length}):`);
  if (report.incidents.length === 0) out.push('  none');
  report.incidents.forEach((i, n) => {
    const id = trace.incidents[n]?.incidentId ?? '';
    out.push(
      `  ${i.region.padEnd(5)} ${id.padEnd(10)} opened ${s(i.openedAt).padStart(8)}  ${i.resolvedAt === null ? 'still open' : `resolved ${s(i.resolvedAt)}`}` +
        `  down ${formatDuration(i.downSeconds)}, degraded ${formatDuration(i.degradedSeconds)} (read-only ${formatDuration(i.readOnlySeconds)})`,
    );
  });
  out.push('');
  out.push(`notifications (${report.notifications.length}):`);
  if (report.notifications.length === 0) out.push('  none');
  const falseSet = new Set(sim.falseAt);
  report.notifications.forEach((n, k) => {
    const d = trace.deliveries[k];
    const flag = falseSet.has(k) ? '  <- FALSE' : '';
    out.push(`  ${s(n.at).padStart(9)}  ${n.event.padEnd(11)} ${(n.region ?? '-').padEnd(5)} ${n.severity.padEnd(9)} ${d?.notification.subject ?? ''}${flag}`);
  });
  out.push('');
  out.push('platform faults:');
  if (sim.faults.length === 0) out.push('  none');
  for (const f of sim.faults) {
    const e = f.event;
    const head = `  ${e.region.padEnd(5)} ${e.fault.padEnd(9)} ${s(e.from)}-${s(e.to)}`;
    if (f.outcome === 'detected' && f.detection) out.push(`${head}: ${f.expected ?? ''} page at ${s(f.detection.detectedAt)}, ${s(f.detection.seconds)} after it began`);
    else if (f.outcome === 'covered') out.push(`${head}: covered by the ${f.expected ?? ''} incident already open`);
    else if (f.outcome === 'missed') out.push(`${head}: MISSED (no ${f.expected ?? ''} page)`);
    else if (f.outcome === 'short') out.push(`${head}: no page, shorter than two failure thresholds (none required)`);
    else if (f.outcome === 'maintenance') out.push(`${head}: inside a maintenance window`);
    else out.push(`${head}: not a fault the config can see as a verdict (none required)`);
  }
  for (const t of trace.takeovers) out.push(`  aggregator ${t.awsRegion} lost at ${s(t.from)}: ${t.seconds === null ? 'nobody took over' : `${t.by ?? '?'} acted ${s(t.seconds)} later`}`);
  out.push('');
  const det = report.detections.map((d) => d.seconds);
  out.push(
    `false notifications ${report.falseNotifications}, missed faults ${report.missedFaults}, duplicate notifications ${report.duplicateNotifications}` +
      (det.length > 0 ? `; detection ${s(Math.min(...det))} to ${s(Math.max(...det))}` : ''),
  );
  if (sim.expectations.length > 0) {
    const failed = sim.expectations.filter((e) => !e.ok);
    out.push(failed.length === 0 ? `expectations: all ${sim.expectations.length} met` : `expectations: ${failed.length} of ${sim.expectations.length} NOT met`);
    for (const e of failed) out.push(`  ${e.what}: expected ${e.expected}, got ${e.got}`);
  }
  if (trace.warnings.length > 0) {
    out.push(`engine warnings (${trace.warnings.length}):`);
    for (const w of trace.warnings.slice(0, 5)) out.push(`  ${w}`);
  }
  return out;
}
