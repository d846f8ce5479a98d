// FAULTS row 5 through the pure core: global table replication lag into the replica the aggregator reads. Verdicts
// wait for the late results (decided at the newest slot a quorum of probe regions has results for), nothing opens or
// resolves because data is late, minutes come out exact, and a truly silent probe region is still alerted.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decisionPoint, evaluationSettings, lateWindowBounds, windowBounds } from '../../lambda/core/evaluate';
import type { ResultStatus } from '../../lambda/core/results';
import { faults, PureRun, roundFor, T0, testConfig, type Script } from './harness';

const events = (run: PureRun, region = 'us') => run.published.filter((n) => n.region === region).map((n) => `${n.event}:${n.severity}`);
const checker = (run: PureRun) => run.published.filter((n) => n.event === 'checker').map((n) => n.subject);
const openedAt = (run: PureRun, region = 'us') => run.published.find((n) => n.region === region && n.event === 'opened')?.t;

/** eu-west-1 and ap-southeast-1 reach the replica `seconds` late between fromSecond and toSecond: us-east-1's aggregator sees only its own rounds on time. */
const remoteLag = (seconds: number, fromSecond = 0, toSecond = Number.POSITIVE_INFINITY) => (slot: number, p: string) =>
  p !== 'us-east-1' && slot - T0 >= fromSecond && slot - T0 < toSecond ? seconds : 0;

describe('replication lag: verdicts wait for fresh data', () => {
  it.each([40, 180])('lag %i s on two of three probe regions: one page, the lag later than usual, exact minutes, no silent alert', (lag) => {
    const run = new PureRun(testConfig(), faults({ us: [[600, 1200, 'down']] })).lagged(remoteLag(lag)).run(0, 1800);
    expect(events(run)).toEqual(['opened:down', 'resolved:up']);
    expect(run.all('us')).toHaveLength(1);
    expect(run.all('us')[0]).toMatchObject({ startedAt: T0 + 600, endedAt: T0 + 1200, downSeconds: 600, unknownSeconds: 0 });
    // Undelayed it opens at 613 s (second failing slot + 3 s); waiting costs the lag, no more.
    expect(openedAt(run)).toBe(613 + Math.ceil(lag / 10) * 10);
    expect(checker(run)).toEqual([]);
    expect(events(run, 'eu')).toEqual([]);
  });

  it('while it waits, the status says what for, and the incident neither resolves early nor gains unknown minutes', () => {
    const run = new PureRun(testConfig(), faults({ us: [[600, 1200, 'down']] })).lagged(remoteLag(180)).run(0, 1300);
    // At 1303 s the decision slot is 1120 s: still down there, although us-east-1 alone has seen it up since 1200 s.
    expect(run.latest('us')).toMatchObject({ status: 'open', unknownSeconds: 0 });
    expect(run.status.get('us')?.verdict).toBe('down');
    expect(run.status.get('us')?.summary).toMatch(/waiting for late results from eu-west-1, ap-southeast-1$/);
    run.run(1300, 1600);
    expect(run.latest('us')).toMatchObject({ status: 'resolved', endedAt: T0 + 1200, downSeconds: 600 });
    // The lag goes on: up, as of the slot it waits at.
    expect(run.status.get('us')?.summary).toBe('us is up; waiting for late results from eu-west-1, ap-southeast-1');
  });

  it('a lag that starts and ends mid-outage is reconciled: the minutes stay exact, one page each way', () => {
    const run = new PureRun(testConfig(), faults({ us: [[600, 1800, 'down']] })).lagged(remoteLag(150, 900, 1500)).run(0, 2400);
    expect(events(run)).toEqual(['opened:down', 'resolved:up']);
    expect(run.all('us')[0]).toMatchObject({ downSeconds: 1200, unknownSeconds: 0, endedAt: T0 + 1800 });
    expect(checker(run)).toEqual([]);
  });

  it('a short outage inside the lag is still paged once, backdated to its first failing slot', () => {
    const run = new PureRun(testConfig(), faults({ us: [[700, 760, 'down']] })).lagged(remoteLag(180, 500, 1100)).run(0, 1600);
    expect(events(run)).toEqual(['opened:down', 'resolved:up']);
    expect(run.all('us')[0]).toMatchObject({ startedAt: T0 + 700, endedAt: T0 + 760, downSeconds: 60 });
  });

  it('FAULTS row 1 still holds during a lag: a truly silent probe region is alerted once, and quorum counts the others', () => {
    const silentAp = (slot: number, p: string) => p === 'ap-southeast-1' && slot - T0 >= 300 && slot - T0 < 1500;
    // eu-west-1 lags 3 minutes into us-east-1's replica while ap-southeast-1 is silent.
    const euLag = (slot: number, p: string) => (p === 'eu-west-1' && slot - T0 >= 300 && slot - T0 < 1500 ? 180 : 0);
    const run = new PureRun(testConfig(), faults({ us: [[600, 900, 'down']] }), {}, silentAp).lagged(euLag).run(0, 2100);
    expect(checker(run)).toEqual(['[CHECKER] probe region ap-southeast-1 is silent: no results for 40 s', '[CHECKER] probe region ap-southeast-1 is healthy again']);
    expect(events(run)).toEqual(['opened:down', 'resolved:up']);
    expect(run.all('us')[0]).toMatchObject({ downSeconds: 300, unknownSeconds: 0 });
    expect(openedAt(run)).toBe(613 + 180);
  });

  it('one probe region behind two current ones is silent for quorum (with its real age), and healthy once caught up', () => {
    const euLag = (slot: number, p: string) => (p === 'eu-west-1' && slot - T0 >= 300 && slot - T0 < 1200 ? 180 : 0);
    const run = new PureRun(testConfig(), faults({ us: [[600, 900, 'down']] })).lagged(euLag).run(0, 1800);
    expect(checker(run)).toEqual(['[CHECKER] probe region eu-west-1 is silent: no results for 40 s', '[CHECKER] probe region eu-west-1 is healthy again']);
    // Decided by us-east-1 and ap-southeast-1 without waiting.
    expect(openedAt(run)).toBe(613);
    expect(run.all('us')[0]).toMatchObject({ downSeconds: 300, unknownSeconds: 0 });
  });

  it('past maxDataWaitSeconds: one "results late" alert (not one silent alert per probe region), unknown, no page; one alert when on time again', () => {
    const run = new PureRun(testConfig(), faults({})).lagged(remoteLag(420, 600, 1200)).run(0, 1200);
    expect(checker(run)).toEqual(['[CHECKER] results from eu-west-1, ap-southeast-1 are more than 5 min late']);
    expect(run.status.get('us')).toMatchObject({ verdict: 'unknown', summary: 'us has no verdict: results from eu-west-1, ap-southeast-1 are more than 5 min late' });
    run.run(1200, 2400);
    expect(checker(run)).toEqual(['[CHECKER] results from eu-west-1, ap-southeast-1 are more than 5 min late', '[CHECKER] results are on time again']);
    expect(run.published.filter((n) => n.region !== null)).toEqual([]);
    expect(run.published.find((n) => n.event === 'checker')).toMatchObject({ evidence: { component: 'results' }, dedupKey: `checker/results/late/${T0 + 600}` });
  });

  it('two probe regions silent for good: the same single alert after the wait, no page on the one left', () => {
    const twoSilent = (slot: number, p: string) => p !== 'us-east-1' && slot - T0 >= 300;
    const run = new PureRun(testConfig(), faults({ us: [[100, 1200, 'down']] }), {}, twoSilent).run(0, 1500);
    expect(checker(run)).toEqual(['[CHECKER] results from eu-west-1, ap-southeast-1 are more than 5 min late']);
    // Opened before the silence from all three; the silence neither resolves it nor adds a page.
    expect(events(run)).toEqual(['opened:down']);
    expect(run.status.get('us')?.verdict).toBe('unknown');
  });
});

describe('the decision point and the window read for it', () => {
  const config = testConfig();
  const settings = evaluationSettings(config);
  const up: Script = () => 'up';
  const rounds = (lag: number, upTo: number) =>
    config.probeRegions.flatMap((p) => {
      const newest = p === 'us-east-1' ? upTo : upTo - lag;
      return Array.from({ length: 80 }, (_, k) => newest - k * 10).map((s) => roundFor(config, T0 + s, p, up));
    });

  it('is the slot of now when every probe region is current: one read, as before', () => {
    const nowMs = (T0 + 1000) * 1000 + 3000;
    const all = rounds(0, 1000);
    expect(decisionPoint(settings, all, nowMs)).toMatchObject({ slot: T0 + 1000, waitSeconds: 0, waitingFor: [], overdue: false });
    const near = windowBounds(settings, nowMs);
    expect(lateWindowBounds(settings, all.filter((r) => r.slot >= near.fromSlot), nowMs)).toBeNull();
  });

  it('waits at the quorum-th newest probe region, reads the older range once, and never reads past the bound', () => {
    const nowMs = (T0 + 1000) * 1000 + 3000;
    const all = rounds(180, 1000);
    expect(decisionPoint(settings, all, nowMs)).toEqual({
      slot: T0 + 820,
      waitSeconds: 180,
      waitingFor: ['eu-west-1', 'ap-southeast-1'],
      overdue: false,
      newestSlots: { 'us-east-1': T0 + 1000, 'eu-west-1': T0 + 820, 'ap-southeast-1': T0 + 820 },
    });
    const near = windowBounds(settings, nowMs);
    const late = lateWindowBounds(settings, all.filter((r) => r.slot >= near.fromSlot && r.slot <= near.toSlot), nowMs);
    expect(late).toEqual({ fromSlot: T0 + 820 - (near.toSlot - 10 - near.fromSlot), toSlot: near.fromSlot - 10 });
    // Far behind: decided at the bound, and the read stops there.
    const far = rounds(600, 1000);
    expect(decisionPoint(settings, far, nowMs)).toMatchObject({ slot: T0 + 700, overdue: true, waitingFor: ['eu-west-1', 'ap-southeast-1'] });
    const bound = lateWindowBounds(settings, far.filter((r) => r.slot >= near.fromSlot), nowMs);
    expect(bound?.fromSlot).toBe(T0 + 700 - (near.toSlot - 10 - near.fromSlot));
  });
});

type Phase = { slots: number; us: 'up' | 'down' | 'read-only' | 'degraded' | 'flaky' };
const phase = fc.record({ slots: fc.integer({ min: 1, max: 20 }), us: fc.constantFrom('up', 'down', 'read-only', 'degraded', 'flaky') }) as fc.Arbitrary<Phase>;

/** What every probe region sees alike (a platform fault, not a probe region's): the case where lag must change nothing. */
function platformScript(phases: Phase[], seed: number): { script: Script; seconds: number } {
  const bySlot: Phase[] = [];
  for (const p of phases) for (let n = 0; n < p.slots; n++) bySlot.push(p);
  const script: Script = (slot, _p, region, _target, role): ResultStatus => {
    const ph = bySlot[Math.floor((slot - T0) / 10)];
    if (!ph || region !== 'us') return 'up';
    switch (ph.us) {
      case 'down':
        return 'down';
      case 'degraded':
        return 'degraded';
      case 'read-only':
        return role === 'write-probe' ? 'down' : 'up';
      case 'flaky':
        return (Math.imul(seed ^ slot, 2654435761) >>> 0) % 2 === 0 ? 'down' : 'up';
      default:
        return 'up';
    }
  };
  return { script, seconds: bySlot.length * 10 };
}

describe('replication lag property', () => {
  it('delaying every round of some probe regions by a constant creates no page the undelayed run lacked, and the minutes agree', () => {
    fc.assert(
      fc.property(
        fc.array(phase, { minLength: 1, maxLength: 8 }),
        fc.integer(),
        fc.subarray(['us-east-1', 'eu-west-1', 'ap-southeast-1'], { minLength: 1 }),
        fc.integer({ min: 1, max: 240 }),
        (phases, seed, lagging, lag) => {
          const { script, seconds } = platformScript(phases, seed);
          // A long all-up tail: every late round arrives and every incident resolves (flap recovery is 10 minutes).
          const end = seconds + 1200;
          const config = testConfig({ notifications: { reminderMinutes: 1440 } });
          const plain = new PureRun(config, script).run(0, end);
          const late = new PureRun(config, script).lagged((_slot, p) => (lagging.includes(p) ? lag : 0)).run(0, end);
          const pages = (r: PureRun) => r.published.map((n) => n.dedupKey);
          expect(pages(late)).toEqual(pages(plain));
          for (const region of plain.settings.regions) {
            const figures = (r: PureRun) => r.all(region).map((i) => [i.status, i.startedAt, i.endedAt, i.downSeconds, i.degradedSeconds, i.readOnlySeconds, i.unknownSeconds]);
            expect(figures(late)).toEqual(figures(plain));
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
