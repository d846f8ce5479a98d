// FAULTS rows 1, 14 and 16 through the evaluation (lambda/core/evaluate.ts): what reaches the aggregator from a late,
// doubled, skewed or DNS-failing probe region, and what the verdicts and evidence make of it.
import { describe, expect, it } from 'vitest';
import { incompleteRounds, type RoundRecord } from '../../lambda/core/results';
import { faults, PureRun, roundFor, T0, testConfig, type Script } from './harness';

const pages = (run: PureRun) => run.published.filter((n) => n.region !== null).map((n) => n.dedupKey);
const checker = (run: PureRun) => run.published.filter((n) => n.event === 'checker').map((n) => n.subject);

/**
 * Runs slots [0, toSecond) as the aggregator sees them: `rounds(slot)` is what reached the replica at that slot.
 * Returns every status verdict of us, one per slot.
 */
function drive(run: PureRun, toSecond: number, rounds: (slot: number) => RoundRecord[]): string[] {
  const verdicts: string[] = [];
  for (let s = 0; s < toSecond; s += 10) {
    run.rounds.push(...rounds(T0 + s));
    run.evaluate((T0 + s) * 1000 + 3000);
    verdicts.push(run.status.get('us')?.verdict ?? 'none');
  }
  return verdicts;
}

describe('a silent probe region whose results arrive late (FAULTS 1, nothing lost)', () => {
  it('counts the late results once they arrive: the re-derived timeline has the probe region fresh and failing', () => {
    // eu-west-1's rounds of 300-1200 s reach the replica 3 minutes late; us is down from 600 s.
    const euLate = (slot: number, p: string) => (p === 'eu-west-1' && slot - T0 >= 300 && slot - T0 < 1200 ? 180 : 0);
    const run = new PureRun(testConfig(), faults({ us: [[600, 1500, 'down']] })).lagged(euLate).run(0, 700);
    // While eu-west-1 is behind, the incident is decided by the two fresh probe regions and says eu-west-1 is stale.
    const during = run.latest('us')?.timeline[0];
    expect(during?.probeRegions).toEqual({ fresh: ['us-east-1', 'ap-southeast-1'], stale: ['eu-west-1'], impaired: [] });
    expect(during?.targets.map((t) => t.failingFrom)).toEqual([
      ['us-east-1', 'ap-southeast-1'],
      ['us-east-1', 'ap-southeast-1'],
    ]);
    run.run(700, 1300);
    // eu-west-1's late rounds have arrived: the open incident's timeline is re-derived and counts them.
    const after = run.latest('us');
    expect(after?.timeline.map((s) => [s.verdict, s.from - T0, s.to - T0])).toEqual([['down', 600, 1300]]);
    expect(after?.timeline[0]?.probeRegions).toEqual({ fresh: ['us-east-1', 'eu-west-1', 'ap-southeast-1'], stale: [], impaired: [] });
    expect(after?.timeline[0]?.targets.map((t) => t.failingFrom)).toEqual([
      ['us-east-1', 'eu-west-1', 'ap-southeast-1'],
      ['us-east-1', 'eu-west-1', 'ap-southeast-1'],
    ]);
    expect(after).toMatchObject({ downSeconds: 700, unknownSeconds: 0 });
    expect(checker(run)).toEqual(['[CHECKER] probe region eu-west-1 is silent: no results for 40 s', '[CHECKER] probe region eu-west-1 is healthy again']);
    expect(run.published.filter((n) => n.region === 'us').map((n) => n.event)).toEqual(['opened']);
  });
});

describe('DNS failing in one probe region (FAULTS 14)', () => {
  it('keeps error class dns in the evidence and pages nobody when only that probe region\'s resolver fails', () => {
    const config = testConfig();
    const run = new PureRun(config, faults({}));
    // ap-southeast-1's resolver answers NXDOMAIN for every us name from 100 s: its us results are down with class dns.
    const nxdomain = (round: RoundRecord): RoundRecord =>
      round.probeRegion !== 'ap-southeast-1' || round.slot < T0 + 100
        ? round
        : { ...round, results: round.results.map((r) => (r.region === 'us' ? { ...r, status: 'down', errorClass: 'dns', detail: 'api.us.example does not exist (NXDOMAIN)', latencyMs: 4 } : r)) };
    const verdicts = drive(run, 900, (slot) => config.probeRegions.map((p) => nxdomain(roundFor(config, slot, p, faults({})))));
    expect(run.published).toEqual([]);
    expect(run.all('us')).toEqual([]);
    expect(verdicts.every((v) => v === 'up')).toBe(true);
    const status = run.status.get('us');
    expect(status?.targets.map((t) => [t.target, t.verdict, t.failingFrom])).toEqual([
      ['api', 'up', ['ap-southeast-1']],
      ['write-path', 'up', ['ap-southeast-1']],
    ]);
    for (const t of status?.targets ?? []) {
      expect(t.seenBy.find((s) => s.probeRegion === 'ap-southeast-1')).toMatchObject({ status: 'down', errorClass: 'dns' });
    }
  });

  it('is treated like any single-region failure: a real outage meanwhile is still paged from the other two', () => {
    const config = testConfig();
    const script = faults({ us: [[300, 600, 'down']] });
    const plain = new PureRun(config, script).run(0, 1200);
    const run = new PureRun(config, script);
    const dnsEverywhere = (round: RoundRecord): RoundRecord =>
      round.probeRegion !== 'ap-southeast-1' ? round : { ...round, results: round.results.map((r) => (r.region === 'us' ? { ...r, status: 'down', errorClass: 'dns' } : r)) };
    drive(run, 1200, (slot) => config.probeRegions.map((p) => dnsEverywhere(roundFor(config, slot, p, script))));
    expect(pages(run)).toEqual(pages(plain));
    expect(run.all('us')[0]).toMatchObject({ downSeconds: 300, status: 'resolved' });
  });
});

describe('late, doubled and skewed invocations (FAULTS 16)', () => {
  const config = testConfig();
  const script: Script = faults({ us: [[630, 930, 'down']] });

  it('give the same incident, pages and minutes as an undisturbed run: no spurious unknown, no duplicate result', () => {
    const plain = new PureRun(config, script).run(0, 1500);
    const run = new PureRun(config, script);
    const verdicts = drive(run, 1500, (slot) => {
      const s = slot - T0;
      const rounds: RoundRecord[] = [];
      for (const p of config.probeRegions) {
        // eu-west-1's and ap-southeast-1's scheduled invocations start 25 s late: the first two slots of every minute
        // are never probed there, so for those slots us-east-1 is the only probe region with a current round.
        if (p !== 'us-east-1' && s >= 60 && s % 60 < 20) continue;
        const round = roundFor(config, slot, p, script);
        // us-east-1's clock is 2 minutes fast: its rounds are labelled by the schedule, only its timestamps are off.
        if (p === 'us-east-1') rounds.push({ ...round, startedAt: round.startedAt + 120_000, finishedAt: round.finishedAt + 120_000 });
        // ap-southeast-1's invocations are delivered twice: every round is written (and streamed) twice.
        else if (p === 'ap-southeast-1') rounds.push(round, structuredClone(round));
        else rounds.push(round);
      }
      return rounds;
    });
    expect(verdicts).not.toContain('unknown');
    // Down from the second failing slot (640 s) through the recovery wait, as in the undisturbed run.
    expect(verdicts.slice(64, 95).every((v) => v === 'down')).toBe(true);
    expect(pages(run)).toEqual(pages(plain));
    expect(pages(run)).toHaveLength(2);
    expect(checker(run)).toEqual([]);
    const [incident] = run.all('us');
    expect(incident).toMatchObject({ downSeconds: 300, unknownSeconds: 0, status: 'resolved' });
    // The doubled rounds count once: three probe regions, not four, fail each target.
    expect(incident?.timeline[0]?.targets.map((t) => t.failingFrom.length)).toEqual([3, 3]);
  });
});

describe('a round that fans out over shards (lambda/core/results.ts completeRoundKeys)', () => {
  /** A probe region's round as `shards` invocations write it: targets dealt round-robin, each shard its own record. */
  const sharded = (round: RoundRecord, shards: number): RoundRecord[] =>
    Array.from({ length: shards }, (_, shard) => ({ ...round, shard, shards, results: round.results.filter((_, n) => n % shards === shard) }));

  it('counts a probe region current at a slot only once every shard of its round is in', () => {
    const config = testConfig();
    const run = new PureRun(config, faults({}));
    // eu-west-1's shard 1 of 2 goes missing from 100 s to 300 s: its shard 0 alone does not make it fresh.
    const missing = (slot: number, p: string, shard: number | undefined) => p === 'eu-west-1' && shard === 1 && slot - T0 >= 100 && slot - T0 < 300;
    const freshAt: string[][] = [];
    for (let s = 0; s < 400; s += 10) {
      const slot = T0 + s;
      for (const p of config.probeRegions) run.rounds.push(...sharded(roundFor(config, slot, p, run.script), 2).filter((r) => !missing(slot, p, r.shard)));
      run.evaluate(slot * 1000 + 3000);
      freshAt.push(run.status.get('us')?.probeRegions.fresh ?? []);
    }
    const all = ['us-east-1', 'eu-west-1', 'ap-southeast-1'];
    expect(freshAt[5]).toEqual(all);
    expect(freshAt[25]).toEqual(['us-east-1', 'ap-southeast-1']);
    expect(run.status.get('us')?.probeRegions.fresh).toEqual(all);
    expect(checker(run)).toEqual(['[CHECKER] probe region eu-west-1 is silent: no results for 40 s', '[CHECKER] probe region eu-west-1 is healthy again']);
  });

  it('a page never counts fewer probe regions than see the targets fail, while a shard of one probe region\'s round is missing', () => {
    const config = testConfig();
    const run = new PureRun(config, faults({ us: [[100, 400, 'down']] }));
    // eu-west-1's shard 1 (us/write-path, apac/api) goes missing while US goes down: eu-west-1 is not fresh then, but its
    // shard 0 (us/api, eu/api) sees us/api fail. The page said "failing from 3/2 probe regions".
    const missing = (slot: number, p: string, shard: number | undefined) => p === 'eu-west-1' && shard === 1 && slot - T0 >= 90 && slot - T0 < 200;
    for (let s = 0; s < 200; s += 10) {
      const slot = T0 + s;
      for (const p of config.probeRegions) run.rounds.push(...sharded(roundFor(config, slot, p, run.script), 2).filter((r) => !missing(slot, p, r.shard)));
      run.evaluate(slot * 1000 + 3000);
    }
    expect(run.published.find((n) => n.event === 'opened')?.subject).toBe('[DOWN] us is down: api, write-path failing from 3/3 probe regions');
  });

  it('names the rounds still missing a shard, for the incomplete rounds alarm; unsharded rounds and later slots are not counted', () => {
    const config = testConfig();
    const script = faults({});
    const rounds = [
      ...sharded(roundFor(config, T0, 'us-east-1', script), 3),
      // eu-west-1's shard 2 never ran; its shard 1 wrote only the first of two parts.
      ...sharded(roundFor(config, T0, 'eu-west-1', script), 3).filter((r) => r.shard !== 2),
      ...sharded(roundFor(config, T0 + 10, 'eu-west-1', script), 3).map((r) => (r.shard === 1 ? { ...r, parts: 2 } : r)),
      // A later slot whose shards are still being written, and an unsharded round.
      ...sharded(roundFor(config, T0 + 20, 'us-east-1', script), 3).slice(0, 1),
      roundFor(config, T0, 'ap-southeast-1', script),
    ];
    expect(incompleteRounds(rounds, T0 + 10)).toEqual([
      { slot: T0, probeRegion: 'eu-west-1' },
      { slot: T0 + 10, probeRegion: 'eu-west-1' },
    ]);
  });
});

describe('evidence with many targets failing', () => {
  it('names the worst first: down before degraded, then by how many probe regions see it fail', () => {
    const names = Array.from({ length: 8 }, (_, n) => `t${n}`);
    const config = testConfig({ regions: { us: { targets: names.map((name) => ({ name, type: 'http', url: `https://api.us.example/${name}` })) } } });
    // t0-t3 degraded everywhere, t4-t5 down from two probe regions, t6-t7 down from all three.
    const script: Script = (_slot, p, _region, target) => {
      const n = Number(target.slice(1));
      if (n < 4) return 'degraded';
      if (n < 6) return p === 'ap-southeast-1' ? 'up' : 'down';
      return 'down';
    };
    const run = new PureRun(config, script).run(0, 60);
    const status = run.status.get('us');
    expect(status?.targets.map((t) => t.target)).toEqual(['t6', 't7', 't4', 't5', 't0', 't1', 't2', 't3']);
    const opened = run.published.find((n) => n.event === 'opened');
    expect(opened?.subject).toBe('[DOWN] us is down: t6, t7, t4, t5 and 4 more failing from 3/3 probe regions');
  });
});
