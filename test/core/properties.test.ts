// Property tests of evaluation and lifecycle: whatever the results, the invariants on-call relies on hold.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sameJson, verdictSeconds } from '../../lambda/core/lifecycle';
import type { ResultStatus } from '../../lambda/core/results';
import { PureRun, reordered, T0, testConfig, type Script } from './harness';

type Phase = { slots: number; us: 'up' | 'down' | 'read-only' | 'degraded' | 'flaky'; silent: number; partition: boolean; lateOne: boolean };

const phase = fc.record({
  slots: fc.integer({ min: 1, max: 25 }),
  us: fc.constantFrom('up', 'up', 'down', 'read-only', 'degraded', 'flaky'),
  silent: fc.integer({ min: 0, max: 4 }), // 0..2 silent probe regions most of the time
  partition: fc.boolean(),
  lateOne: fc.boolean(),
}) as fc.Arbitrary<Phase>;

const PROBES = ['us-east-1', 'eu-west-1', 'ap-southeast-1'];

function scriptOf(phases: Phase[], seed: number): { script: Script; silent: (slot: number, p: string) => boolean; slots: number } {
  const bySlot: Phase[] = [];
  for (const p of phases) for (let n = 0; n < p.slots; n++) bySlot.push(p);
  const phaseAt = (slot: number) => bySlot[Math.floor((slot - T0) / 10)];
  const noise = (slot: number, p: string, t: string) => {
    let h = seed ^ slot;
    for (const c of p + t) h = (Math.imul(h, 31) + c.charCodeAt(0)) | 0;
    return (h >>> 0) % 100;
  };
  const script: Script = (slot, p, region, target, role): ResultStatus | undefined => {
    const ph = phaseAt(slot);
    if (!ph) return 'up';
    if (ph.partition && p === 'ap-southeast-1') return 'down';
    if (region !== 'us') return 'up';
    if (ph.lateOne && p === 'eu-west-1' && target === 'api') return undefined;
    switch (ph.us) {
      case 'down':
        return 'down';
      case 'degraded':
        return 'degraded';
      case 'read-only':
        return role === 'write-probe' ? 'down' : 'up';
      case 'flaky':
        return noise(slot, p, target) < 50 ? 'down' : 'up';
      default:
        return noise(slot, p, target) < 5 ? 'down' : 'up';
    }
  };
  const silent = (slot: number, p: string) => {
    const ph = phaseAt(slot);
    const n = ph ? (ph.silent > 2 ? 0 : ph.silent) : 0;
    return PROBES.indexOf(p) >= PROBES.length - n;
  };
  return { script, silent, slots: bySlot.length };
}

function checkInvariants(run: PureRun, lastSlotEnd: number): void {
  const quorum = run.config.defaults.quorum;
  for (const region of run.settings.regions) {
    const incidents = run.all(region);
    // At most one open incident per region, and only the newest can be open.
    expect(incidents.slice(0, -1).every((i) => i.status === 'resolved')).toBe(true);
    for (const i of incidents) {
      const tl = i.timeline;
      expect(tl.length).toBeGreaterThan(0);
      // Segments cover the incident: no gap, no overlap, nothing empty.
      expect(tl[0]?.from).toBe(i.startedAt);
      for (let n = 0; n < tl.length; n++) {
        const s = tl[n];
        expect(s && s.to > s.from).toBe(true);
        if (n > 0) expect(s?.from).toBe(tl[n - 1]?.to);
        // A summary segment's seconds add up to its length, and summaries are only the oldest part.
        if (s?.folded) {
          expect(Object.values(s.folded.seconds).reduce((a, x) => a + (x ?? 0), 0)).toBe(s.to - s.from);
          expect(tl.slice(0, n).every((x) => x.folded)).toBe(true);
        }
      }
      const end = tl[tl.length - 1]?.to ?? 0;
      if (i.status === 'resolved') expect(end).toBe(i.endedAt);
      else expect(end).toBe(lastSlotEnd);
      // Minutes add up.
      const up = tl.flatMap(verdictSeconds).reduce((a, [v, seconds]) => a + (v === 'up' ? seconds : 0), 0);
      expect(i.downSeconds + i.degradedSeconds + i.maintenanceSeconds + i.unknownSeconds + up).toBe(end - i.startedAt);
      expect(i.readOnlySeconds).toBeLessThanOrEqual(i.degradedSeconds);
      expect(['degraded', 'read-only', 'down']).toContain(i.severity);
      expect(i.outbox).toEqual([]);
    }
    // The status says what is seen now and, separately, which incident is open and at what severity.
    const status = run.status.get(region);
    const open = incidents.find((i) => i.status === 'open');
    if (status) {
      expect(status.openIncidentId).toBe(open?.incidentId ?? null);
      expect(status.incidentSeverity).toBe(open?.currentSeverity ?? null);
      if (status.recovering) expect(status.verdict === 'up' && open !== undefined).toBe(true);
      if (!open) expect(['up', 'maintenance', 'unknown']).toContain(status.verdict);
    }
  }
  // No incident without quorum: every opening was decided with at least quorum fresh probe regions.
  for (const d of run.decided) if (d.transitions.includes('opened')) expect(d.fresh).toBeGreaterThanOrEqual(quorum);
  // No notification without a transition, and one dedupKey per transition.
  const platform = run.published.filter((n) => n.event !== 'checker');
  expect(platform.length).toBe(run.decided.reduce((a, d) => a + d.transitions.length, 0));
  expect(new Set(run.published.map((n) => n.dedupKey)).size).toBe(run.published.length);
  // Each region's pages follow the lifecycle: opened first, resolved only after opened.
  for (const region of run.settings.regions) {
    let open = false;
    for (const n of platform.filter((p) => p.region === region)) {
      if (n.event === 'opened') {
        expect(open).toBe(false);
        open = true;
      } else {
        expect(open).toBe(true);
        if (n.event === 'resolved') open = false;
      }
    }
  }
}

describe('evaluation and lifecycle properties', () => {
  it('hold for any sequence of results, silences and partitions', () => {
    fc.assert(
      fc.property(fc.array(phase, { minLength: 1, maxLength: 10 }), fc.integer(), (phases, seed) => {
        const { script, silent, slots } = scriptOf(phases, seed);
        const run = new PureRun(testConfig({ notifications: { reminderMinutes: 5 } }), script, {}, silent).run(0, slots * 10 + 200);
        checkInvariants(run, T0 + slots * 10 + 200);
      }),
      { numRuns: 40 },
    );
  });

  it('folding old timeline segments (a long flapping incident) changes no figure, flap count or notification, and bounds the timeline', () => {
    let foldedRuns = 0;
    fc.assert(
      fc.property(fc.array(phase, { minLength: 2, maxLength: 10 }), fc.integer(), (phases, seed) => {
        const { script, silent, slots } = scriptOf(phases, seed);
        const config = testConfig({ notifications: { reminderMinutes: 5 } });
        const end = slots * 10 + 200;
        const whole = new PureRun(config, script, {}, silent).run(0, end);
        const folded = new PureRun(config, script, { maxTimelineSegments: 4 }, silent).run(0, end);
        checkInvariants(folded, T0 + end);
        const figures = (r: PureRun, region: string) =>
          r.all(region).map((i) => [i.incidentId, i.status, i.startedAt, i.endedAt, i.downSeconds, i.degradedSeconds, i.readOnlySeconds, i.maintenanceSeconds, i.unknownSeconds, i.flaps]);
        for (const region of whole.settings.regions) {
          expect(figures(folded, region)).toEqual(figures(whole, region));
          // At most the kept segments plus what the window re-derives (fewer than 40 slots here).
          for (const i of folded.all(region)) expect(i.timeline.length).toBeLessThanOrEqual(4 + 40);
          if (folded.all(region).some((i) => i.timeline.some((seg) => seg.folded))) foldedRuns++;
        }
        expect(folded.published.map((n) => `${n.dedupKey}|${n.subject}|${n.summary}`)).toEqual(whole.published.map((n) => `${n.dedupKey}|${n.subject}|${n.summary}`));
      }),
      { numRuns: 40 },
    );
    // The property is about folded timelines: enough of the generated runs must have folded some.
    expect(foldedRuns).toBeGreaterThan(5);
  });

  it('deciding every batch twice (duplicates, replays) changes nothing: same incidents, same notifications', () => {
    fc.assert(
      fc.property(fc.array(phase, { minLength: 1, maxLength: 8 }), fc.integer(), (phases, seed) => {
        const { script, silent, slots } = scriptOf(phases, seed);
        const config = testConfig();
        const once = new PureRun(config, script, {}, silent).run(0, slots * 10 + 100);
        const twice = new PureRun(config, script, {}, silent);
        for (let s = 0; s < slots * 10 + 100; s += 10) {
          twice.run(s, s + 10);
          twice.evaluate((T0 + s) * 1000 + 3000);
        }
        const strip = (r: PureRun) => r.published.map((n) => `${n.dedupKey}|${n.subject}`);
        expect(strip(twice)).toEqual(strip(once));
        for (const region of config.probeRegions.length ? once.settings.regions : []) {
          expect(twice.all(region).map((i) => [i.downSeconds, i.degradedSeconds, i.status])).toEqual(once.all(region).map((i) => [i.downSeconds, i.degradedSeconds, i.status]));
        }
      }),
      { numRuns: 25 },
    );
  });
});

/** JSON with every object's keys sorted: what a value "is" once key order stops mattering (DynamoDB keeps none). */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : v,
  );
}

describe('sameJson (the lifecycle\'s "did the incident change" test)', () => {
  it('agrees with comparing JSON with sorted keys, undefined properties left out (FAULTS row 21)', () => {
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom(null, undefined, true, false, 0, -0, 1, 1.5, '', 'a', 'b'),
        fc.array(tie('v'), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom('a', 'b', 'c', 'constructor'), tie('v'), { maxKeys: 3 }),
      ),
    })).v;
    fc.assert(
      fc.property(value, value, (a, b) => {
        expect(sameJson(a, b)).toBe(canonicalJson(a) === canonicalJson(b));
        const copy: unknown = JSON.parse(JSON.stringify(a ?? null));
        expect(sameJson(a ?? null, copy)).toBe(true);
        expect(sameJson(a ?? null, reordered(copy))).toBe(true);
      }),
      { numRuns: 500 },
    );
    expect(sameJson({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(sameJson({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameJson({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameJson({ a: 1, b: 2 }, { a: 1, c: 2 })).toBe(false);
    expect(sameJson({ constructor: 1 }, {})).toBe(false);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
  });
});
