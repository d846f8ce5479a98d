// The simulator through its scenario library: every scenario's expectations, determinism, the story's figures, the
// lost-aggregator takeover, crash-after-write and the CLI's contract (DESIGN.md `simulate --json`).
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lambda/cli/main';
import type { CommandIo } from '../../lambda/cli/command';
import { loadConfigFile } from '../../lambda/config/load';
import { loadScenarioFile, resolveScenario, ScenarioError, scenarioSchema } from '../../lambda/simulate/scenario';
import { simulate, type Simulation } from '../../lambda/simulate/simulate';

const ROOT = join(import.meta.dirname, '..', '..');
const SCENARIOS = join(ROOT, 'scenarios');

const runs = new Map<string, Simulation>();
let files: string[] = [];

beforeAll(async () => {
  files = (await readdir(SCENARIOS)).filter((f) => f.endsWith('.json')).sort();
  for (const f of files) runs.set(f, await simulate(loadScenarioFile(join(SCENARIOS, f))));
}, 60_000);

function sim(file: string): Simulation {
  const s = runs.get(file);
  if (!s) throw new Error(`scenario ${file} did not run`);
  return s;
}

function capture(cwd = ROOT): CommandIo & { outLines: string[]; errLines: string[] } {
  const outLines: string[] = [];
  const errLines: string[] = [];
  return { outLines, errLines, cwd, out: (l) => outLines.push(l), err: (l) => errLines.push(l) };
}

describe('the scenario library', () => {
  it('has a described scenario with expectations for every fault the simulator can express', () => {
    const faults = new Set<string>();
    for (const f of files) {
      const s = sim(f).scenario;
      expect(s.description, f).not.toBe('');
      expect(s.expect, f).toBeDefined();
      for (const e of s.events) faults.add(e.fault);
    }
    const expressible = scenarioSchema.shape.events.unwrap().element.options.map((o) => o.shape.fault.value);
    expect([...faults].sort()).toEqual([...expressible].sort());
    expect(files.some((f) => sim(f).scenario.config.maintenance.length > 0)).toBe(true);
  });

  it.each([
    'story.json',
    'design-example.json',
    'partition.json',
    'silent-prober.json',
    'blips.json',
    'flapping.json',
    'slow-region.json',
    'aggregator-lost.json',
    'duplicate-delivery.json',
    'crash-after-write.json',
    'maintenance.json',
    'replication-lag.json',
    'replication-lag-short.json',
    'split-brain.json',
    'publish-errors.json',
    'errors.json',
    'one-path-down.json',
    'dns-one-probe-region.json',
    'many-targets.json',
    'slot-blips.json',
    'region-outage.json',
    'confirmation-loss.json',
  ])('%s is in the library', (f) => {
    expect(files).toContain(f);
  });

  it('meets every expectation of every scenario', () => {
    const failures: string[] = [];
    for (const f of files) {
      for (const e of sim(f).expectations) if (!e.ok) failures.push(`${f}: ${e.what}: expected ${e.expected}, got ${e.got}`);
      expect(sim(f).expectations.length, f).toBeGreaterThan(0);
    }
    expect(failures).toEqual([]);
  });

  it("gives the same results with the repository's regionwatch.config.json (simulate's default --config) as with the built-in config", async () => {
    const baseConfig = loadConfigFile(join(ROOT, 'regionwatch.config.json')) as unknown as Record<string, unknown>;
    for (const f of files) {
      const withFile = await simulate(loadScenarioFile(join(SCENARIOS, f), { baseConfig }));
      expect(withFile.report, f).toEqual(sim(f).report);
      expect(withFile.expectations.filter((e) => !e.ok), f).toEqual([]);
    }
  }, 60_000);

  it('no scenario ends with an engine warning or a page owed but never sent', () => {
    for (const f of files) {
      expect(sim(f).trace.warnings.filter((w) => !w.includes('publish failed')), f).toEqual([]);
      for (const i of sim(f).trace.incidents) expect(i.outbox, `${f} ${i.incidentId}`).toEqual([]);
    }
  });
});

describe('the story', () => {
  it('shows 59 minutes down and 62 minutes read-only in two incidents, each outage paged within 12 s and the read-only phase after one within 30 s', () => {
    const { report } = sim('story.json');
    expect(report.incidents.map((i) => i.region)).toEqual(['us', 'us']);
    expect(report.incidents.reduce((s, i) => s + i.downSeconds, 0)).toBe(59 * 60);
    expect(report.incidents.reduce((s, i) => s + i.readOnlySeconds, 0)).toBe(62 * 60);
    expect(report.incidents.reduce((s, i) => s + i.degradedSeconds, 0)).toBe(62 * 60);
    expect(report.incidents[0]).toMatchObject({ downSeconds: 20 * 60, readOnlySeconds: 62 * 60 });
    expect(report.incidents[1]).toMatchObject({ downSeconds: 39 * 60, readOnlySeconds: 0 });
    expect(report.detections.map((d) => [d.fault, d.from])).toEqual([
      ['down', 300],
      ['read-only', 1500],
      ['down', 7200],
      ['down', 8580],
    ]);
    // An outage opens an incident on confirmations within seconds. The read-only phase after the first is a
    // de-escalation: below down for the recovery threshold of whole slots (3), decided once a quorum's staggered
    // rounds of the last of them are in.
    for (const d of report.detections) expect(d.seconds).toBeLessThanOrEqual(d.fault === 'down' ? 12 : 30);
    expect(report.notifications.filter((n) => n.event === 'opened').map((n) => n.severity)).toEqual(['down', 'down', 'down']);
    expect(report.notifications.filter((n) => n.event === 'deescalated').map((n) => n.severity)).toEqual(['read-only']);
  });

  it('matches DESIGN.md’s example figures', () => {
    const { report } = sim('design-example.json');
    expect(report.incidents).toEqual([
      { region: 'us', openedAt: expect.any(Number), resolvedAt: expect.any(Number), downSeconds: 1200, degradedSeconds: 3720, readOnlySeconds: 3720 },
    ]);
    const [incident] = report.incidents;
    expect(incident?.openedAt).toBeGreaterThan(600);
    expect(incident?.openedAt).toBeLessThan(630);
    expect(incident?.resolvedAt).toBeGreaterThan(5520);
    expect(incident?.resolvedAt).toBeLessThan(5560);
  });
});

describe('replication lag (FAULTS row 5)', () => {
  it('a 3-minute lag through a 20-minute outage: verdicts wait, one page about the lag late, all 20 minutes, no silent alert', () => {
    const { report, trace } = sim('replication-lag.json');
    expect(report.incidents).toEqual([expect.objectContaining({ region: 'eu', downSeconds: 20 * 60, degradedSeconds: 0 })]);
    expect(report.notifications.map((n) => `${n.event}:${n.region ?? '-'}`)).toEqual(['opened:eu', 'resolved:eu']);
    const [detection] = report.detections;
    // Usually ~17 s; waiting for the late results adds the lag, and nothing more.
    expect(detection?.seconds).toBeGreaterThan(180);
    expect(detection?.seconds).toBeLessThanOrEqual(180 + 25);
    expect(trace.incidents[0]?.unknownSeconds).toBe(0);
  });

  it('a 15-second lag (inside freshness) costs its 15 s of detection and nothing else', () => {
    const { report } = sim('replication-lag-short.json');
    expect(report.incidents).toEqual([expect.objectContaining({ region: 'us', downSeconds: 10 * 60 })]);
    expect(report.detections[0]?.seconds).toBeLessThanOrEqual(15 + 25);
  });
});

describe('checker faults', () => {
  it('a lost home aggregator is replaced within two minutes and the incident is finished by the new lease holder', () => {
    const { trace, report } = sim('aggregator-lost.json');
    expect(trace.takeovers).toHaveLength(1);
    const [takeover] = trace.takeovers;
    expect(takeover?.by).toBe('eu-west-1');
    expect(takeover?.seconds).not.toBeNull();
    expect(takeover?.seconds ?? Infinity).toBeLessThanOrEqual(120);
    expect(trace.deliveries.map((d) => [d.notification.event, d.aggregator])).toEqual([
      ['opened', 'us-east-1'],
      ['resolved', 'eu-west-1'],
    ]);
    // While it was lost, us-east-1 did not run at all.
    const lostFrom = trace.runs.find((r) => r.aggregator === 'eu-west-1' && r.acted)?.atMs ?? 0;
    expect(trace.runs.filter((r) => r.aggregator === 'us-east-1' && r.atMs >= lostFrom && r.atMs < lostFrom + 1500_000 && r.acted)).toEqual([]);
    expect(report.duplicateNotifications).toBe(0);
  });

  it('a crash after every transition write still publishes each page exactly once, on the retried batch', () => {
    const { trace, report } = sim('crash-after-write.json');
    const pages = trace.deliveries.filter((d) => d.notification.region !== null);
    expect(trace.crashes).toBeGreaterThanOrEqual(pages.length);
    expect(new Set(pages.map((d) => d.notification.dedupKey)).size).toBe(pages.length);
    for (const d of pages) {
      const run = trace.runs.find((r) => r.atMs === d.atMs && r.aggregator === d.aggregator);
      expect(run?.reason, d.notification.dedupKey).toBe('retry');
    }
    expect(report.duplicateNotifications).toBe(0);
  });

  it('replayed batches ran and changed nothing', () => {
    const { trace } = sim('duplicate-delivery.json');
    expect(trace.replays).toBeGreaterThan(100);
    // A replay drawn in the last 30 s may fall after the end of the scenario: at most one per batch run there.
    const replayed = trace.runs.filter((r) => r.reason === 'replay').length;
    const end = Date.parse('2026-04-14T14:00:00Z') + sim('duplicate-delivery.json').scenario.durationSeconds * 1000;
    const lastBatches = trace.runs.filter((r) => r.reason === 'batch' && r.atMs > end - 30_000).length;
    expect(replayed).toBeLessThanOrEqual(trace.replays);
    expect(replayed).toBeGreaterThanOrEqual(trace.replays - lastBatches);
  });

  it('replayed batches write nothing, though the store returns every item with its attributes in another order (FAULTS rows 6, 21)', async () => {
    const scenario = loadScenarioFile(join(SCENARIOS, 'duplicate-delivery.json'));
    const once = await simulate({ ...scenario, events: scenario.events.filter((e) => e.fault !== 'duplicate-delivery') });
    const { trace } = sim('duplicate-delivery.json');
    expect(trace.replays).toBeGreaterThan(1000);
    // The same writes as without replays but for a lease renewal or two that a replay's run happens to make
    // (an order-sensitive comparison rewrote the status and incident on every replay: 2,631 writes against 250).
    expect(trace.storeWrites).toBeLessThanOrEqual(once.trace.storeWrites + 10);
  });

  it('split brain: every aggregator acted, the store kept one incident and one page per transition', () => {
    const { trace, report } = sim('split-brain.json');
    const acting = new Set(trace.runs.filter((r) => r.acted && r.atMs > Date.parse('2026-04-14T14:06:00Z')).map((r) => r.aggregator));
    expect([...acting].sort()).toEqual(['ap-southeast-1', 'eu-west-1', 'us-east-1']);
    expect(report.duplicateNotifications).toBe(0);
  });
});

describe('staggered rounds and confirm on failure', () => {
  it('a whole region down: confirmations ran, paged within 12 s, the round and one confirmation at most per target, probe region and slot (FAULTS 20)', () => {
    const { trace, report } = sim('region-outage.json');
    expect(trace.confirmations.checks).toBeGreaterThan(0);
    expect(trace.confirmations.maxRequestsPerTargetSlot).toBe(2);
    expect(report.detections.map((d) => d.seconds).every((s) => s <= 12)).toBe(true);
    // Each target is confirmed once per probe region at the start of each outage, not every round after.
    const targets = Object.values(sim('region-outage.json').scenario.config.regions).reduce((n, r) => n + r.targets.length, 0) / 3;
    expect(trace.confirmations.checks).toBeLessThanOrEqual(2 * 3 * targets);
  });

  it('1,000 targets on one host returning 503: at most two requests per target per probe region per slot reach it, and a bounded handful of confirmations (FAULTS 18)', () => {
    const { trace, report } = sim('many-targets.json');
    expect(trace.confirmations.maxRequestsPerTargetSlot).toBeLessThanOrEqual(2);
    // One round asks about at most perHostConcurrency (8) targets of the host, and each probe region asks at most once a
    // round: the confirmations are tens, not thousands.
    expect(trace.confirmations.checks).toBeGreaterThan(0);
    expect(trace.confirmations.checks).toBeLessThanOrEqual(3 * 3 * 8 * 2);
    expect(report.detections[0]?.seconds).toBeLessThanOrEqual(12);
  });

  it('quiet times cost nothing: a healthy platform gets one request per target per probe region per slot and no confirmation', () => {
    for (const f of ['silent-prober.json', 'maintenance.json', 'replication-lag-short.json']) {
      const { trace } = sim(f);
      const quiet = trace.confirmationChecks.filter((c) => c.region === 'apac');
      expect(quiet, f).toEqual([]);
    }
  });

  it('when the confirmation transport fails, detection falls back to the staggered rounds: slower, still exact (25 s at worst)', () => {
    const { trace, report } = sim('confirmation-loss.json');
    const [us, eu] = report.detections;
    expect(trace.confirmations.lost).toBeGreaterThan(0);
    // Every request lost: the staggered rounds alone, later than with confirmations (region-outage pages in < 12 s),
    // within the first design's 25 s.
    expect(us?.seconds).toBeGreaterThan(12);
    expect(us?.seconds).toBeLessThanOrEqual(25);
    // Only eu-west-1's requests lost: the other probe regions still confirm, at full speed.
    expect(eu?.seconds).toBeLessThanOrEqual(10);
  });

  it('the first design stays runnable (probing.detection "rounds"): aligned rounds, no confirmation, the failure threshold in slots', async () => {
    const scenario = loadScenarioFile(join(SCENARIOS, 'design-example.json'));
    const rounds = await simulate({ ...scenario, config: { ...scenario.config, probing: { ...scenario.config.probing, detection: 'rounds' } } });
    expect(rounds.trace.confirmations.checks).toBe(0);
    expect(rounds.trace.confirmations.maxRequestsPerTargetSlot).toBe(1);
    expect(rounds.report.incidents.map((i) => [i.downSeconds, i.readOnlySeconds])).toEqual([[1200, 3720]]);
    // About two intervals, as before staggering and confirmation (and twice the new design's).
    expect(rounds.report.detections[0]?.seconds).toBeGreaterThan(15);
    expect(rounds.report.detections[0]?.seconds).toBeGreaterThan(2 * (sim('design-example.json').report.detections[0]?.seconds ?? 0) - 5);
  });
});

describe('determinism', () => {
  it('the same seed gives identical JSON; another seed gives other draws', async () => {
    for (const f of ['design-example.json', 'duplicate-delivery.json', 'errors.json']) {
      const again = await simulate(loadScenarioFile(join(SCENARIOS, f)));
      expect(JSON.stringify(again.report), f).toBe(JSON.stringify(sim(f).report));
      expect(again.trace.runs.length, f).toBe(sim(f).trace.runs.length);
    }
    const other = await simulate(loadScenarioFile(join(SCENARIOS, 'duplicate-delivery.json'), { seed: 2 }));
    expect(other.trace.runs.map((r) => r.atMs)).not.toEqual(sim('duplicate-delivery.json').trace.runs.map((r) => r.atMs));
    expect(other.ok).toBe(true);
  });
});

describe('scenario validation', () => {
  it('names every problem with its path', () => {
    let error: unknown;
    try {
      resolveScenario({
        durationSeconds: 600,
        events: [
          { fault: 'down', region: 'mars', from: 10, to: 20 },
          { fault: 'melt', region: 'us' },
          { fault: 'silent', probeRegion: 'us-east-1', from: 500, to: 700 },
          { fault: 'errors', region: 'us', rate: 2 },
        ],
      });
    } catch (e: unknown) {
      error = e;
    }
    expect(error).toBeInstanceOf(ScenarioError);
    const problems = (error as ScenarioError).problems;
    expect(problems.map((p) => p.path)).toEqual(['events[1].fault', 'events[3].rate']);
    expect(problems[0]?.message).toMatch(/^fault must be one of down, read-only/);
    expect(problems[1]?.message).toBe('rate must be between 0 and 1');

    let second: unknown;
    try {
      resolveScenario({ durationSeconds: 600, events: [{ fault: 'down', region: 'mars' }, { fault: 'silent', probeRegion: 'us-east-1', from: 500, to: 700 }] });
    } catch (e: unknown) {
      second = e;
    }
    expect((second as ScenarioError).problems).toEqual([
      { path: 'events[0].region', message: '"mars" is not a platform region of the config (us, eu, apac)' },
      { path: 'events[1].to', message: 'to (700) must be within durationSeconds (600)' },
    ]);
  });

  it('lays the scenario config over the built-in one and validates the result', () => {
    const s = resolveScenario({ durationSeconds: 600, config: { defaults: { failureThreshold: 3 }, homeRegion: 'eu-west-1' } });
    expect(s.config.defaults).toMatchObject({ failureThreshold: 3, intervalSeconds: 10, quorum: 2 });
    expect(s.config.homeRegion).toBe('eu-west-1');
    expect(() => resolveScenario({ durationSeconds: 600, config: { defaults: { intervalSeconds: 7 } } })).toThrow(/config\.defaults\.intervalSeconds: intervalSeconds must divide a minute/);
  });
});

describe('regionwatch simulate', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'regionwatch-simulate-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--json prints exactly DESIGN.md’s object and exits 0 when the expectations hold', async () => {
    const io = capture();
    expect(await main(['simulate', '--scenario', 'scenarios/design-example.json', '--json'], io)).toBe(0);
    const out = JSON.parse(io.outLines.join('\n')) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['incidents', 'notifications', 'detections', 'falseNotifications', 'missedFaults', 'duplicateNotifications']);
    expect(out).toEqual(sim('design-example.json').report);
    expect(Object.keys((out.notifications as object[])[0] ?? {})).toEqual(['at', 'event', 'region', 'severity']);
    expect(Object.keys((out.detections as object[])[0] ?? {})).toEqual(['region', 'fault', 'from', 'detectedAt', 'seconds']);
    expect(io.errLines).toEqual([]);
  });

  it('prints a human summary and exits 1 when an expectation is not met', async () => {
    const file = join(dir, 'wrong.json');
    await writeFile(file, JSON.stringify({ description: 'a wrong guess', durationSeconds: 900, events: [{ fault: 'down', region: 'eu', from: 300, to: 600 }], expect: { incidents: { eu: 2 }, missedFaults: 0 } }));
    const io = capture();
    expect(await main(['simulate', '--scenario', file, '--seed', '7'], io)).toBe(1);
    const text = io.outLines.join('\n');
    expect(text).toContain('a wrong guess');
    expect(text).toMatch(/^incidents \(1\):$/m);
    expect(text).toMatch(/eu\s+down\s+300 s-600 s: down page at [\d.]+ s, [\d.]+ s after it began/);
    // The traffic confirmation cost, and its bound (FAULTS 18, 20).
    expect(text).toMatch(/^ {2}detection confirm: [1-9]\d* confirmation requests \(0 lost, \d+ dropped\), [1-9]\d* confirmation checks, \d+ held back by a claim; at most 2 requests per target per probe region per slot$/m);
    expect(text).toContain('expectations: 1 of 2 NOT met');
    expect(text).toContain('  incidents.eu: expected 2, got 1');
  });

  it('exits 2 on a missing --scenario, a bad seed or an invalid scenario', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ durationSeconds: 30, events: [] }));
    for (const [args, message] of [
      [['simulate'], /--scenario FILE is required/],
      [['simulate', '--scenario', 'scenarios/story.json', '--seed', 'x'], /--seed must be a whole number/],
      [['simulate', '--scenario', bad], /durationSeconds: durationSeconds must be at least 60/],
      [['simulate', '--scenario', join(dir, 'none.json')], /\(file\): no such file/],
      [['simulate', '--scenario', 'scenarios/story.json', '--seed', '4294967296'], /^regionwatch simulate: --seed must be a whole number from 0 to 4294967295, got "4294967296"/],
      [['simulate', '--scenario', 'scenarios/story.json', '--seed=-1'], /--seed must be a whole number from 0 to 4294967295/],
      [['simulate', '--scenario', 'scenarios/story.json', '--config', join(dir, 'missing.config.json')], /missing\.config\.json: 1 problem\n {2}\(file\): no such file/],
    ] as const) {
      const io = capture();
      expect(await main([...args], io)).toBe(2);
      expect(io.errLines.join('\n')).toMatch(message);
    }
  });

  it('runs on the regionwatch.config.json of the directory it is run from, and the scenario\'s config still overrides it', async () => {
    const here = join(dir, 'with-config');
    await mkdir(here, { recursive: true });
    const repoConfig = JSON.parse(await readFile(join(ROOT, 'regionwatch.config.json'), 'utf8')) as { defaults: Record<string, unknown> };
    await writeFile(join(here, 'regionwatch.config.json'), JSON.stringify({ ...repoConfig, $schema: undefined, defaults: { ...repoConfig.defaults, minFaultSeconds: 40 } }));
    const io = capture(here);
    expect(await main(['simulate', '--scenario', join(SCENARIOS, 'design-example.json'), '--json'], io)).toBe(1);
    expect(io.errLines.filter((l) => !l.startsWith('expectation not met'))).toEqual([]);
    const out = JSON.parse(io.outLines.join('\n')) as { detections: { fault: string; seconds: number }[] };
    const builtIn = sim('design-example.json').report.detections;
    // Only a fault of 40 s is worth a page here: the outage is paged after it (and the scenario's 30-second detection
    // expectation is missed, hence exit 1).
    expect(out.detections.map((d) => d.fault)).toEqual(builtIn.map((d) => d.fault));
    expect(out.detections[0]?.seconds).toBeGreaterThan(40);
    expect(builtIn[0]?.seconds).toBeLessThan(12);

    const baseConfig = loadConfigFile(join(here, 'regionwatch.config.json')) as unknown as Record<string, unknown>;
    expect(resolveScenario({ durationSeconds: 600 }, { baseConfig }).config.defaults.minFaultSeconds).toBe(40);
    expect(resolveScenario({ durationSeconds: 600, config: { defaults: { minFaultSeconds: 5 } } }, { baseConfig }).config.defaults.minFaultSeconds).toBe(5);
  });

  it('falls back to the built-in config with a note when the directory has no regionwatch.config.json', async () => {
    const io = capture(dir);
    expect(await main(['simulate', '--scenario', join(SCENARIOS, 'design-example.json'), '--json'], io)).toBe(0);
    expect(io.errLines).toEqual([`regionwatch simulate: no regionwatch.config.json in ${dir}; using the built-in example config (pass --config FILE to use yours)`]);
    expect(JSON.parse(io.outLines.join('\n'))).toEqual(sim('design-example.json').report);
  });

  it('accepts the largest seed, and a scenario seed out of range is refused', async () => {
    const io = capture();
    expect(await main(['simulate', '--scenario', 'scenarios/design-example.json', '--seed', '4294967295', '--json'], io)).not.toBe(2);
    expect(io.errLines.join('\n')).not.toMatch(/--seed/);
    const file = join(dir, 'big-seed.json');
    await writeFile(file, JSON.stringify({ durationSeconds: 600, seed: 2 ** 32, events: [] }));
    const bad = capture();
    expect(await main(['simulate', '--scenario', file], bad)).toBe(2);
    expect(bad.errLines).toEqual([`${file}: 1 problem\n  seed: seed must be a whole number from 0 to 4294967295`]);
  });
});
