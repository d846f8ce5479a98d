// A refusal of our own (the SSRF guard's blocked-address) is a checker alert, never a platform page (FAULTS 15):
// evaluation gives the target no verdict from it (neither down nor up) and the checker alerts once per refused target.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideChecker, emptyChecker } from '../../lambda/core/checker';
import { evaluateWindow, evaluationSettings } from '../../lambda/core/evaluate';
import type { ProbeResult, ResultStatus, RoundRecord } from '../../lambda/core/results';
import { PROBES, PureRun, REFUSED_DETAIL, roundFor, runTimed, T0, testConfig, type Script, type TimedScript } from './harness';

/** us has one target the guard refuses (a name that resolves to loopback) and, optionally, one it probes. */
function refusedConfig(withProbed: boolean) {
  return testConfig({
    regions: {
      us: {
        targets: [
          { name: 'internal', type: 'http', url: 'http://internal.us.example/health' },
          ...(withProbed ? [{ name: 'api', type: 'http' as const, url: 'https://api.us.example/health' }] : []),
        ],
      },
      eu: { targets: [{ name: 'api', type: 'http', url: 'https://api.eu.example/health' }] },
    },
  });
}

const pages = (run: PureRun) => run.published.filter((n) => n.event !== 'checker');
const alerts = (run: PureRun) => run.published.filter((n) => n.event === 'checker' && n.evidence.component === 'us/internal');

describe('evaluation of our own refusals', () => {
  const evaluate = (script: Script, withProbed = true) => {
    const config = refusedConfig(withProbed);
    const settings = evaluationSettings(config);
    const rounds = [];
    for (let s = 0; s < 60; s += 10) for (const p of PROBES) rounds.push(roundFor(config, T0 + s, p, script));
    const evaluation = evaluateWindow(settings, rounds, (T0 + 50) * 1000 + 3000);
    const us = evaluation.regions.us;
    if (!us) throw new Error('no window for us');
    return { us, d: evaluation.latest };
  };

  it('gives a target refused from every probe region no verdict, and leaves it out of its region\'s', () => {
    const { us, d } = evaluate((_s, _p, region, target) => (region === 'us' && target === 'internal' ? 'refused' : 'up'));
    expect(us.targetVerdict('internal', d)).toBe('unknown');
    expect(us.targetVerdict('api', d)).toBe('up');
    // Not unknown: the refused target is left out, so the region can be up (and an incident can resolve).
    expect(us.verdicts[d]).toBe('up');
    expect(us.refusalsAt(d)).toEqual([{ target: 'internal', probeRegions: [...PROBES], detail: REFUSED_DETAIL }]);
    expect(us.confirmedBad('internal', d)).toBeUndefined();
  });

  it('makes a region whose only target is refused unknown, never up and never down', () => {
    const { us, d } = evaluate((_s, _p, region) => (region === 'us' ? 'refused' : 'up'), false);
    expect(us.verdicts.every((v) => v === 'unknown')).toBe(true);
    expect(us.targetVerdict('internal', d)).toBe('unknown');
  });

  it('counts a refusal as no probe region: refused by two of three, down from the third is not a quorum', () => {
    const { us, d } = evaluate((_s, p, region, target) => (region === 'us' && target === 'internal' ? (p === 'ap-southeast-1' ? 'down' : 'refused') : 'up'));
    expect(us.targetVerdict('internal', d)).toBe('unknown');
    expect(us.verdicts[d]).toBe('up');
    expect(us.refusalsAt(d)[0]?.probeRegions).toEqual(['us-east-1', 'eu-west-1']);
  });

  it('judges from the probe regions that did probe: refused by one, up or down from the other two', () => {
    const up = evaluate((_s, p, region, target) => (region === 'us' && target === 'internal' && p === 'eu-west-1' ? 'refused' : 'up'));
    expect(up.us.targetVerdict('internal', up.d)).toBe('up');
    const down = evaluate((_s, p, region, target) => (region === 'us' && target === 'internal' ? (p === 'eu-west-1' ? 'refused' : 'down') : 'up'));
    expect(down.us.targetVerdict('internal', down.d)).toBe('down');
  });

  it('has no refusals, and costs nothing, when no result is refused', () => {
    const { us, d } = evaluate(() => 'up');
    expect(us.refusalsAt(d)).toEqual([]);
  });
});

describe('our own refusals in confirmation by time (staggered rounds and confirmations)', () => {
  const config = refusedConfig(true);
  /** Every probe region's staggered round and a confirmation of `internal` 2.5 s later, in each of four slots. */
  const records = (internal: () => Pick<ProbeResult, 'status' | 'errorClass' | 'detail'>): RoundRecord[] => {
    const out: RoundRecord[] = [];
    for (let s = 0; s < 40; s += 10) {
      PROBES.forEach((p, n) => {
        const at = (T0 + s) * 1000 + n * 3333;
        const result = (target: string, atMs: number): ProbeResult => ({ region: 'us', target, role: 'read', latencyMs: 5, at: atMs, ...(target === 'internal' ? internal() : { status: 'up' as const }) });
        out.push({ probeRegion: p, slot: T0 + s, intervalSeconds: 10, startedAt: at, finishedAt: at + 200, part: 0, parts: 1, results: [result('internal', at), result('api', at)] });
        out.push({ probeRegion: p, slot: T0 + s, intervalSeconds: 10, startedAt: at + 2500, finishedAt: at + 2600, part: 0, parts: 1, results: [result('internal', at + 2500)], kind: 'confirmation', batch: `${p}/${s}` });
      });
    }
    return out;
  };
  const decide = (rounds: RoundRecord[]) => {
    const evaluation = evaluateWindow(evaluationSettings(config), rounds, (T0 + 39) * 1000);
    const us = evaluation.regions.us;
    if (!us) throw new Error('no window for us');
    return { us, d: evaluation.latest };
  };

  it('never counts a refusal as a failing check: refused by every probe region, in rounds and confirmations spanning minFaultSeconds, is no verdict and no page', () => {
    expect(config.probing.detection).toBe('confirm');
    const refused = decide(records(() => ({ status: 'down', errorClass: 'blocked-address', detail: REFUSED_DETAIL })));
    expect(refused.us.confirmedBad('internal', refused.d)).toBeUndefined();
    expect(refused.us.targetVerdict('internal', refused.d)).toBe('unknown');
    expect(refused.us.verdicts[refused.d]).toBe('up');
    // The same checks as the platform's own failure (a 503) are confirmed by time: the rule would page on them.
    const failing = decide(records(() => ({ status: 'down', errorClass: 'status', statusCode: 503 }) as ProbeResult));
    expect(failing.us.confirmedBad('internal', failing.d)).toBe('down');
    expect(failing.us.verdicts[failing.d]).toBe('down');
  });

  it('beside a refused target (never asked about, as the prober has it), a real outage still pages within 12 s, naming only the real target (runTimed)', () => {
    const outage = { from: (T0 + 60) * 1000, to: (T0 + 240) * 1000 };
    const script: TimedScript = (atMs, _p, region, target) => {
      if (region !== 'us') return 'up';
      if (target === 'internal') return 'refused';
      return atMs >= outage.from && atMs < outage.to ? 'down' : 'up';
    };
    const run = runTimed(new PureRun(config, () => 'up'), script, 0, 600);
    const confirmations = run.rounds.filter((r) => r.kind === 'confirmation');
    expect(confirmations.length).toBeGreaterThan(0);
    expect(confirmations.flatMap((r) => r.results.map((x) => x.target))).not.toContain('internal');
    const us = pages(run).filter((n) => n.region === 'us');
    expect(us.map((n) => n.event)).toEqual(['opened', 'resolved']);
    expect((us[0]?.t ?? Infinity) - 60).toBeLessThanOrEqual(12);
    expect(us[0]?.evidence.targets.filter((x) => x.failingFrom.length > 0).map((x) => x.target)).toEqual(['api']);
  });
});

describe('the refused target in the lifecycle and the checker', () => {
  const refusedScript: Script = (_s, _p, region, target) => (region === 'us' && target === 'internal' ? 'refused' : 'up');

  it('pages nothing, raises one checker alert with the reason and the fix, and shows the reason on the status item', () => {
    const run = new PureRun(refusedConfig(false), refusedScript).run(0, 600);
    expect(pages(run)).toEqual([]);
    expect(alerts(run)).toHaveLength(1);
    const [alert] = alerts(run);
    expect(alert?.subject).toBe('[CHECKER] internal of us is not probed: regionwatch refused to connect to a loopback address');
    expect(alert?.summary).toBe(
      "regionwatch's own SSRF guard refused to connect to a loopback address for target internal of us (from 3/3 probe regions: us-east-1, eu-west-1, ap-southeast-1); set probing.allowPrivateAddresses to true to probe it. This is regionwatch refusing, not the platform failing: the target has no verdict while it is refused, and no platform incident is opened for it.",
    );
    expect(alert).toMatchObject({ severity: 'degraded', region: null, incidentId: null });
    expect(run.checker?.refusedTargets).toEqual({ 'us/internal': { since: expect.any(Number) as number } });
    const status = run.status.get('us');
    expect(status?.verdict).toBe('unknown');
    expect(status?.summary).toBe('us has no verdict: internal is not probed: regionwatch refused to connect to a loopback address (set probing.allowPrivateAddresses to true to probe it)');
    expect(status?.refusedTargets).toEqual([{ target: 'internal', probeRegions: [...PROBES], detail: REFUSED_DETAIL }]);
    // The other regions' status items carry no refusals at all (the field is absent, not empty).
    expect(run.status.get('eu')).not.toHaveProperty('refusedTargets');
  });

  it('clears the alert once the target is probed again, and alerts again on a new refusal', () => {
    // Refused for 2 min, probed (the config or its DNS fixed) for 2 min, refused again.
    const script: Script = (slot, _p, region, target) => {
      if (region !== 'us' || target !== 'internal') return 'up';
      const s = slot - T0;
      return s < 120 || s >= 240 ? 'refused' : 'up';
    };
    const run = new PureRun(refusedConfig(true), script).run(0, 360);
    expect(pages(run)).toEqual([]);
    expect(alerts(run).map((n) => [n.severity, n.subject])).toEqual([
      ['degraded', '[CHECKER] internal of us is not probed: regionwatch refused to connect to a loopback address'],
      ['up', '[CHECKER] internal of us is probed again'],
      ['degraded', '[CHECKER] internal of us is not probed: regionwatch refused to connect to a loopback address'],
    ]);
    expect(run.status.get('us')?.summary).toBe('us is up; internal is not probed: regionwatch refused to connect to a loopback address (set probing.allowPrivateAddresses to true to probe it)');
  });

  it('says which probe regions refuse when only some do, and that the others still judge the target', () => {
    const script: Script = (_s, p, region, target) => (region === 'us' && target === 'internal' && p === 'eu-west-1' ? 'refused' : 'up');
    const run = new PureRun(refusedConfig(true), script).run(0, 120);
    expect(pages(run)).toEqual([]);
    const [alert] = alerts(run);
    expect(alert?.subject).toBe('[CHECKER] internal of us is not probed from eu-west-1: refused to connect to a loopback address');
    expect(alert?.summary).toContain('(from 1/3 probe regions: eu-west-1); set probing.allowPrivateAddresses to true to probe it. This is regionwatch refusing, not the platform failing: the refusing probe regions give the target no verdict (the others still judge it)');
    expect(run.status.get('us')?.verdict).toBe('up');
  });

  it('waits for the failure threshold before alerting: one refused round is no alert', () => {
    const script: Script = (slot, p, region, target) => (region === 'us' && target === 'internal' && slot === T0 + 60 && p === 'us-east-1' ? 'refused' : 'up');
    const run = new PureRun(refusedConfig(true), script).run(0, 300);
    expect(alerts(run)).toEqual([]);
  });

  it('alerts once whatever the replays, and drops a target taken out of the config without an all-clear', () => {
    const config = refusedConfig(true);
    const settings = evaluationSettings(config);
    const rounds = [];
    for (let s = 0; s < 60; s += 10) for (const p of PROBES) rounds.push(roundFor(config, T0 + s, p, refusedScript));
    const nowMs = (T0 + 50) * 1000 + 3000;
    const evaluation = evaluateWindow(settings, rounds, nowMs);
    const first = decideChecker({ settings, evaluation, nowMs, checker: emptyChecker() });
    expect(first.transitions).toContain('refused:us/internal');
    const again = decideChecker({ settings, evaluation, nowMs, checker: first.record });
    expect(again.transitions).toEqual([]);
    expect(again.record).toBeNull();
    // The target left the config: the record forgets it, with no notification (the fix was the user's own change).
    const without = refusedConfig(false);
    (without.regions.us?.targets ?? []).splice(0, 1, { name: 'api', type: 'http', url: 'https://api.us.example/health', method: 'GET', role: 'read', headers: {}, followRedirects: true, expect: {} });
    const laterSettings = evaluationSettings(without);
    const laterRounds = [];
    for (let s = 60; s < 120; s += 10) for (const p of PROBES) laterRounds.push(roundFor(without, T0 + s, p, () => 'up'));
    const laterNow = (T0 + 110) * 1000 + 3000;
    const dropped = decideChecker({ settings: laterSettings, evaluation: evaluateWindow(laterSettings, laterRounds, laterNow), nowMs: laterNow, checker: first.record });
    expect(dropped.transitions).toEqual([]);
    expect(dropped.record?.refusedTargets).toEqual({});
    expect(dropped.record?.outbox).toHaveLength(first.record?.outbox.length ?? -1);
  });
});

type Phase = { slots: number; real: 'up' | 'down' | 'flaky'; refusedFrom: number; silent: number };

const phase = fc.record({
  slots: fc.integer({ min: 1, max: 20 }),
  real: fc.constantFrom('up', 'up', 'down', 'flaky'),
  // How many probe regions refuse the refused target in this phase (the others write nothing for it: its name did
  // not resolve there, or it is not in their round yet).
  refusedFrom: fc.integer({ min: 0, max: 3 }),
  silent: fc.integer({ min: 0, max: 3 }),
}) as fc.Arbitrary<Phase>;

/**
 * `alwaysRefused`: at least one probe region refuses the refused target in every phase (with none, a target with no
 * result at all is unknown and holds its region unknown, as any target the probers stopped reporting does).
 */
function scriptOf(phases: Phase[], seed: number, alwaysRefused = false) {
  const bySlot: Phase[] = [];
  for (const p of phases) for (let n = 0; n < p.slots; n++) bySlot.push(p);
  const at = (slot: number) => bySlot[Math.floor((slot - T0) / 10)];
  const script: Script = (slot, p, region, target): ResultStatus | 'refused' | undefined => {
    const ph = at(slot);
    if (region !== 'us') return 'up';
    const refusers = ph ? (alwaysRefused ? Math.max(1, ph.refusedFrom) : ph.refusedFrom) : 3;
    if (target === 'internal') return PROBES.indexOf(p as (typeof PROBES)[number]) < refusers ? 'refused' : undefined;
    if (!ph || ph.real === 'up') return 'up';
    if (ph.real === 'down') return 'down';
    return ((seed ^ (slot * 31) ^ p.length) >>> 0) % 2 === 0 ? 'down' : 'up';
  };
  const silent = (slot: number, p: string) => {
    const n = at(slot)?.silent ?? 0;
    return PROBES.indexOf(p as (typeof PROBES)[number]) >= PROBES.length - (n > 1 ? 0 : n);
  };
  return { script, silent, slots: bySlot.length };
}

describe('refusal properties', () => {
  it('a config whose only target is refused never pages, whatever refuses it, when, and whoever is silent', () => {
    fc.assert(
      fc.property(fc.array(phase, { minLength: 1, maxLength: 8 }), fc.integer(), (phases, seed) => {
        const { script, silent, slots } = scriptOf(phases, seed);
        const run = new PureRun(refusedConfig(false), script, {}, silent).run(0, slots * 10 + 100);
        expect(pages(run)).toEqual([]);
        for (const region of run.settings.regions) expect(run.all(region)).toEqual([]);
        // At most one alert per refusal that held for the failure threshold, each with its own all-clear between.
        const subjects = alerts(run).map((n) => n.severity);
        for (let n = 1; n < subjects.length; n++) expect(subjects[n]).not.toBe(subjects[n - 1]);
        expect(new Set(run.published.map((n) => n.dedupKey)).size).toBe(run.published.length);
      }),
      { numRuns: 40 },
    );
  });

  it('a real outage of another target in the same region still pages, and resolves: the refused one never holds it open', () => {
    fc.assert(
      fc.property(fc.array(phase, { minLength: 1, maxLength: 8 }), fc.integer(), (phases, seed) => {
        // Every probe region writes: the real target's outage is seen with a full quorum.
        const { script, slots } = scriptOf(phases, seed, true);
        // Ends with 11 min of up, more than the 10 min a flapped incident needs: every incident must have resolved.
        const end = slots * 10 + 660;
        const run = new PureRun(refusedConfig(true), script).run(0, end);
        const us = pages(run).filter((n) => n.region === 'us');
        let bySlot = 0;
        let longestDown = 0;
        for (const p of phases) {
          if (p.real === 'down') longestDown = Math.max(longestDown, p.slots);
          bySlot += p.slots;
        }
        expect(bySlot).toBe(slots);
        const f = run.config.defaults.failureThreshold;
        // A down phase of the failure threshold and a slot more from every probe region opens an incident …
        if (longestDown >= f + 1) expect(us.some((n) => n.event === 'opened')).toBe(true);
        // … which resolves once the real target is up again, whatever the refused one does.
        const incidents = run.all('us');
        expect(incidents.every((i) => i.status === 'resolved')).toBe(true);
        // Every page names the real target as failing, never the refused one.
        for (const n of us.filter((x) => x.event === 'opened' || x.event === 'escalated')) {
          expect(n.evidence.targets.filter((t) => t.failingFrom.length > 0).map((t) => t.target)).toEqual(['api']);
        }
      }),
      { numRuns: 40 },
    );
  });
});
