import { describe, expect, it } from 'vitest';
import { decideRegion, type IncidentRecord, type RegionStatusRecord } from '../../lambda/core/lifecycle';
import { evaluateWindow, windowBounds } from '../../lambda/core/evaluate';
import { faults, PureRun, reordered, T0, testConfig, roundFor, type Script } from './harness';

const events = (run: PureRun, region = 'us') => run.published.filter((n) => n.region === region).map((n) => `${n.event}:${n.severity}`);

describe('incident lifecycle: the DESIGN example (us down 600-1800 s, read-only until 5520 s)', () => {
  const run = new PureRun(testConfig(), faults({ us: [[600, 1800, 'down'], [1800, 5520, 'read-only']] })).run(0, 7200);
  const [incident] = run.all('us');

  it('opens one incident on the second failing slot and backdates its timeline to the first', () => {
    expect(run.all('us')).toHaveLength(1);
    expect(incident?.startedAt).toBe(T0 + 600);
    expect(Date.parse(incident?.openedAt ?? '') / 1000 - T0).toBe(613);
  });

  it('counts 1200 s down and 3720 s read-only (inside degraded) from the segments, and resolves after recovery', () => {
    expect(incident).toMatchObject({ status: 'resolved', downSeconds: 1200, readOnlySeconds: 3720, degradedSeconds: 3720, severity: 'down', endedAt: T0 + 5520 });
    expect(Date.parse(incident?.resolvedAt ?? '') / 1000 - T0).toBe(5543);
    expect(incident?.timeline.map((s) => [s.verdict, s.from - T0, s.to - T0])).toEqual([
      ['down', 600, 1800],
      ['read-only', 1800, 5520],
    ]);
  });

  it('pages opened, de-escalated, reminders every 30 minutes, resolved: each once, nothing for eu or apac', () => {
    expect(events(run)).toEqual(['opened:down', 'deescalated:read-only', 'reminder:read-only', 'reminder:read-only', 'resolved:up']);
    expect(run.published.map((n) => n.t).filter((t) => t < 3000)).toEqual([613, 1823, 2413]);
    expect(new Set(run.published.map((n) => n.dedupKey)).size).toBe(run.published.length);
    expect(events(run, 'eu')).toEqual([]);
    expect(events(run, 'apac')).toEqual([]);
  });

  it('writes a subject on-call can read at a glance, within the SNS limit', () => {
    const [opened, deescalated] = run.published;
    expect(opened?.subject).toBe('[DOWN] us is down: api, write-path failing from 3/3 probe regions');
    expect(deescalated?.subject).toBe('[READ-ONLY] us is read-only now (was down): write-path refused from 3/3 probe regions');
    expect(run.published.every((n) => n.subject.length <= 99)).toBe(true);
    expect(opened?.dedupKey).toBe(`us/us-00001/opened/${T0 + 610}`);
    expect(opened?.evidence.targets.map((t) => [t.target, t.failingFrom.length, t.seenBy[0]?.errorClass])).toEqual([
      ['api', 3, 'timeout'],
      ['write-path', 3, 'status'],
    ]);
  });
});

describe('fault matrix rows through the pure core', () => {
  it('row 1: a silent probe region raises one checker alert, no page, and quorum counts only the fresh ones', () => {
    const silentEu = (slot: number, p: string) => p === 'eu-west-1' && slot >= T0 + 300;
    const run = new PureRun(testConfig(), faults({ us: [[600, 900, 'down']] }), {}, silentEu).run(0, 1500);
    const checker = run.published.filter((n) => n.event === 'checker');
    expect(checker).toHaveLength(1);
    expect(checker[0]).toMatchObject({ severity: 'degraded', evidence: { component: 'eu-west-1' } });
    expect(checker[0]?.subject).toContain('eu-west-1 is silent');
    // The real outage while eu is silent is still seen by the two fresh probe regions: one incident.
    expect(events(run)).toEqual(['opened:down', 'resolved:up']);
    expect(run.all('us')[0]?.downSeconds).toBe(300);
    expect(run.all('us')[0]?.timeline[0]?.probeRegions?.stale).toEqual(['eu-west-1']);
  });

  it('row 2: a target failing from one probe region only is evidence on the target, never a page', () => {
    const script = faults({}, (_slot, p) => (p === 'ap-southeast-1' ? undefined : undefined));
    const oneProbe: Script = (slot, p, region, target, role) => (region === 'us' && target === 'api' && p === 'ap-southeast-1' ? 'down' : script(slot, p, region, target, role));
    const run = new PureRun(testConfig(), oneProbe).run(0, 1200);
    expect(run.published).toEqual([]);
    const status = run.status.get('us');
    expect(status?.verdict).toBe('up');
    expect(status?.targets).toEqual([expect.objectContaining({ target: 'api', verdict: 'up', failingFrom: ['ap-southeast-1'] })]);
    expect(status?.targets[0]?.seenBy.find((s) => s.probeRegion === 'ap-southeast-1')).toMatchObject({ status: 'down', errorClass: 'timeout' });
  });

  it('row 3: failing from every probe region for the threshold is one incident, one opened page, one resolved page', () => {
    const run = new PureRun(testConfig(), faults({ us: [[100, 400, 'down']] })).run(0, 1000);
    expect(run.all('us')).toHaveLength(1);
    expect(events(run)).toEqual(['opened:down', 'resolved:up']);
    expect(run.all('us')[0]).toMatchObject({ downSeconds: 300, status: 'resolved' });
    // A blip shorter than the threshold opens nothing.
    const blip = new PureRun(testConfig(), faults({ us: [[100, 110, 'down']] })).run(0, 400);
    expect(blip.published).toEqual([]);
  });

  it('row 4: an hour of flapping is one incident with the real down time and a handful of pages', () => {
    // 40 s down, 50 s up, for an hour.
    const flap: Script = (slot, _p, region) => (region === 'us' && slot - T0 >= 600 && slot - T0 < 4200 && (slot - T0 - 600) % 90 < 40 ? 'down' : 'up');
    const run = new PureRun(testConfig(), flap).run(0, 6000);
    const incidents = run.all('us');
    expect(incidents).toHaveLength(1);
    const actualDown = Array.from({ length: 360 }, (_, k) => 600 + k * 10).filter((s) => (s - 600) % 90 < 40).length * 10;
    expect(incidents[0]?.downSeconds).toBe(actualDown);
    expect(incidents[0]?.status).toBe('resolved');
    expect(run.published.length).toBeLessThanOrEqual(6);
    expect(incidents[0]?.timeline.filter((s) => s.verdict === 'down').length).toBe(40);
  });

  it('row 5: replication lag makes verdicts wait (no incident opened or resolved on late data) and late results are reconciled', () => {
    const config = testConfig();
    const script = faults({ us: [[0, 300, 'down']] });
    const run = new PureRun(config, script);
    // eu and ap rounds of slots in [200, 400) arrive 120 s late.
    const pending: { visibleAt: number; round: ReturnType<typeof roundFor> }[] = [];
    for (let s = 0; s < 900; s += 10) {
      const slot = T0 + s;
      for (const p of config.probeRegions) {
        const round = roundFor(config, slot, p, script);
        const late = p !== 'us-east-1' && s >= 200 && s < 400;
        pending.push({ visibleAt: late ? slot + 120 : slot, round });
      }
      for (let n = pending.length - 1; n >= 0; n--) {
        const item = pending[n];
        if (item && item.visibleAt <= slot) {
          run.rounds.push(item.round);
          pending.splice(n, 1);
        }
      }
      run.evaluate(slot * 1000 + 3000);
      if (s === 350) {
        // Decided at the newest slot eu and ap have results for (230 s), where it was still down: the incident stays
        // open although us-east-1 alone has seen it up since 300 s.
        expect(run.status.get('us')?.verdict).toBe('down');
        expect(run.latest('us')?.status).toBe('open');
        expect(run.status.get('us')?.summary).toContain('waiting for late results from eu-west-1, ap-southeast-1');
      }
    }
    expect(run.all('us')).toHaveLength(1);
    expect(events(run)).toEqual(['opened:down', 'resolved:up']);
    // The late rounds told the truth: down until 300, then up; resolved only once fresh data said so.
    expect(run.all('us')[0]).toMatchObject({ downSeconds: 300, endedAt: T0 + 300, unknownSeconds: 0 });
    expect(Date.parse(run.all('us')[0]?.resolvedAt ?? '') / 1000 - T0).toBeGreaterThanOrEqual(400);
    // And no incident at all where the only fault was the lag.
    expect(events(run, 'eu')).toEqual([]);
  });

  it('deciding a transition leaves the stored incident it was given untouched', () => {
    const run = new PureRun(testConfig(), faults({ us: [[100, 400, 'down']] })).run(0, 420);
    const latest = run.latest('us');
    const before = JSON.stringify(latest);
    run.rounds.push(...run.config.probeRegions.map((p) => roundFor(run.config, T0 + 420, p, faults({}))));
    const nowMs = (T0 + 420) * 1000 + 3000;
    const evaluation = evaluateWindow(run.settings, run.rounds, nowMs);
    const decision = decideRegion({ settings: run.settings, evaluation, region: 'us', nowMs, latest, status: run.status.get('us') ?? null });
    expect(decision.transitions).toEqual(['resolved']);
    expect(decision.incident?.outbox).toHaveLength(1);
    expect(JSON.stringify(latest)).toBe(before);
  });

  it('row 6 (pure): deciding the same window twice owes nothing new', () => {
    const run = new PureRun(testConfig(), faults({ us: [[100, 400, 'down']] })).run(0, 200);
    const nowMs = (T0 + 190) * 1000 + 3000;
    const { fromSlot, toSlot } = windowBounds(run.settings, nowMs);
    const evaluation = evaluateWindow(run.settings, run.rounds.filter((r) => r.slot >= fromSlot && r.slot <= toSlot), nowMs);
    const again = decideRegion({ settings: run.settings, evaluation, region: 'us', nowMs, latest: run.latest('us'), status: run.status.get('us') ?? null });
    expect(again).toMatchObject({ incident: null, transitions: [], status: null });
  });

  it('row 21 (pure): the stored incident and status read back with their attributes in another order change nothing', () => {
    // DynamoDB keeps no attribute or map-entry order: what it returns is the same item, so no write, no version bump.
    for (const until of [200, 420]) {
      const run = new PureRun(testConfig(), faults({ us: [[100, 400, 'down']] })).run(0, until);
      const nowMs = (T0 + until - 10) * 1000 + 3000;
      const { fromSlot, toSlot } = windowBounds(run.settings, nowMs);
      const evaluation = evaluateWindow(run.settings, run.rounds.filter((r) => r.slot >= fromSlot && r.slot <= toSlot), nowMs);
      const latest = reordered(run.latest('us')) as IncidentRecord;
      const status = reordered(run.status.get('us')) as RegionStatusRecord;
      expect(Object.keys(latest)).not.toEqual(Object.keys(run.latest('us') ?? {}));
      const again = decideRegion({ settings: run.settings, evaluation, region: 'us', nowMs, latest, status });
      expect(again).toMatchObject({ incident: null, transitions: [], status: null });
    }
  });

  it('row 6 (pure): a reopen decided twice keeps the gap since the resolve up, as deciding it once does', () => {
    // From the duplicated-batch property: us degraded 0-20 s (opened, resolved at 40 s), then single read-only slots
    // (never confirmed, status up) while ap-southeast-1 is partitioned (impaired, left out), then degraded again at
    // 250 s: reopened at 260 s with the gap 20-250 s recorded as up. Deciding it again, or on later slots, must not
    // re-read the gap's slots into the reopened incident (they are inside the window: 50 s on).
    const script = faults({ us: [[0, 20, 'degraded'], [50, 60, 'read-only'], [70, 80, 'read-only'], [140, 150, 'read-only'], [250, 300, 'degraded']] }, (slot, p) =>
      p === 'ap-southeast-1' && slot - T0 >= 40 && slot - T0 < 250 ? 'down' : undefined,
    );
    const once = new PureRun(testConfig(), script);
    const twice = new PureRun(testConfig(), script);
    const figures = (r: PureRun) => r.all('us').map((i) => ({ ...i, version: 0, updatedAt: '', outbox: [], notifications: i.notifications.map((n) => n.dedupKey) }));
    for (let s = 0; s < 300; s += 10) {
      once.run(s, s + 10);
      twice.run(s, s + 10);
      twice.evaluate((T0 + s) * 1000 + 3000);
      expect(figures(twice)).toEqual(figures(once));
    }
    expect(events(once)).toEqual(['opened:degraded', 'resolved:up', 'opened:degraded']);
    const [incident] = once.all('us');
    expect(once.all('us')).toHaveLength(1);
    expect(incident?.timeline.map((t) => [t.verdict, t.from - T0, t.to - T0])).toEqual([
      ['degraded', 0, 20],
      ['up', 20, 250],
      ['degraded', 250, 300],
    ]);
    expect(incident).toMatchObject({ status: 'open', degradedSeconds: 70, readOnlySeconds: 0, flaps: 1 });
  });
});

describe('evaluation rules', () => {
  it('a write probe refused while reads succeed makes the region read-only', () => {
    const run = new PureRun(testConfig(), faults({ us: [[100, 400, 'read-only']] })).run(0, 800);
    expect(events(run)).toEqual(['opened:read-only', 'resolved:up']);
    expect(run.all('us')[0]).toMatchObject({ severity: 'read-only', readOnlySeconds: 300, degradedSeconds: 300, downSeconds: 0 });
  });

  it('escalates degraded to down and records the worst severity', () => {
    const run = new PureRun(testConfig(), faults({ us: [[100, 300, 'degraded'], [300, 500, 'down']] })).run(0, 900);
    expect(events(run)).toEqual(['opened:degraded', 'escalated:down', 'resolved:up']);
    expect(run.all('us')[0]).toMatchObject({ severity: 'down', downSeconds: 200, degradedSeconds: 200, readOnlySeconds: 0 });
  });

  it('with fewer fresh probe regions than quorum the verdict is unknown and nothing opens', () => {
    const onlyUs = (_slot: number, p: string) => p !== 'us-east-1';
    const run = new PureRun(testConfig(), faults({ us: [[0, 600, 'down']] }), {}, onlyUs).run(0, 600);
    expect(run.all('us')).toEqual([]);
    expect(run.status.get('us')?.verdict).toBe('unknown');
    expect(run.published.filter((n) => n.event !== 'checker')).toEqual([]);
  });

  it('an impaired probe region (sees everything down, the others see up) is left out: a checker alert, no page', () => {
    const partition: Script = (slot, p) => (p === 'eu-west-1' && slot - T0 >= 100 && slot - T0 < 500 ? 'down' : 'up');
    const run = new PureRun(testConfig({ defaults: { quorum: 1 } }), partition).run(0, 900);
    expect(run.published.filter((n) => n.region !== null)).toEqual([]);
    const checker = run.published.filter((n) => n.event === 'checker').map((n) => n.subject);
    expect(checker).toEqual([
      '[CHECKER] probe region eu-west-1 is impaired: it sees every region fail, the others do not',
      '[CHECKER] probe region eu-west-1 is healthy again',
    ]);
  });

  it('a real outage during a partition is still seen by the others', () => {
    const script: Script = (slot, p, region) => {
      const s = slot - T0;
      if (p === 'eu-west-1' && s >= 100 && s < 700) return 'down';
      return region === 'us' && s >= 300 && s < 500 ? 'down' : 'up';
    };
    const run = new PureRun(testConfig(), script).run(0, 900);
    expect(events(run)).toEqual(['opened:down', 'resolved:up']);
    expect(run.all('us')[0]?.downSeconds).toBe(200);
  });

  it('maintenance turns pages off and counts its time as maintenance', () => {
    const config = testConfig({ maintenance: [{ region: 'us', start: new Date((T0 + 100) * 1000).toISOString(), end: new Date((T0 + 700) * 1000).toISOString() }] });
    const run = new PureRun(config, faults({ us: [[200, 600, 'down']] })).run(0, 1200);
    expect(run.published).toEqual([]);
    expect(run.all('us')).toEqual([]);
    const during = new PureRun(config, faults({ us: [[200, 600, 'down']] })).run(0, 300);
    expect(during.status.get('us')?.verdict).toBe('maintenance');
  });

  it('an incident open when maintenance starts keeps its minutes apart and sends no reminders inside it', () => {
    const config = testConfig({
      notifications: { reminderMinutes: 5 },
      maintenance: [{ region: 'us', start: new Date((T0 + 300) * 1000).toISOString(), end: new Date((T0 + 1500) * 1000).toISOString() }],
    });
    const run = new PureRun(config, faults({ us: [[100, 1600, 'down']] })).run(0, 2200);
    // No reminder inside the window; one as it ends with the region still down.
    expect(events(run)).toEqual(['opened:down', 'reminder:down', 'resolved:up']);
    expect(run.published.find((n) => n.event === 'reminder')?.t).toBe(1503);
    expect(run.all('us')[0]).toMatchObject({ downSeconds: 200 + 100, maintenanceSeconds: 1200 });
  });
});

describe('flap damping: the current verdict is the truth, separately from whether the incident is still open', () => {
  // 40 s down, 50 s up, from 600 s for an hour; reminders every 5 minutes.
  const flap: Script = (slot, _p, region) => (region === 'us' && slot - T0 >= 600 && slot - T0 < 4200 && (slot - T0 - 600) % 90 < 40 ? 'down' : 'up');
  const config = testConfig({ notifications: { reminderMinutes: 5 } });
  const seen = new Map<number, { verdict?: string; summary?: string; incident?: string | null; incidentSeverity?: string | null; recovering?: unknown }>();
  const run = new PureRun(config, flap);
  for (let s = 0; s < 6000; s += 10) {
    run.run(s, s + 10);
    const status = run.status.get('us');
    seen.set(s, { verdict: status?.verdict, summary: status?.summary, incident: status?.openIncidentId, incidentSeverity: status?.incidentSeverity, recovering: status?.recovering });
  }

  it('says up once the recovery threshold holds, while the reopened incident stays open until the flap recovery time', () => {
    expect(seen.get(620)).toMatchObject({ verdict: 'down', incident: 'us-00001', summary: 'us is down: api, write-path failing from 3/3 probe regions' });
    // Up for 2 of the 3 slots the recovery threshold asks: not up yet, and the words say it is recovering.
    expect(seen.get(650)).toMatchObject({ verdict: 'down', summary: 'us is recovering: no target failing since 14:10:40 UTC; incident us-00001 resolves after 30 s up' });
    // Reopened within the reopen window (flapping): up after 3 slots, the incident open for 10 minutes of up.
    expect(seen.get(740)).toMatchObject({ verdict: 'down', incident: 'us-00001' });
    expect(seen.get(750)).toEqual({
      verdict: 'up',
      incident: 'us-00001',
      incidentSeverity: 'down',
      recovering: { since: '2026-04-14T14:12:10.000Z', resolvesAfterSeconds: 600, flapping: true },
      summary: 'us is recovering: no target failing since 14:12:10 UTC; incident us-00001 resolves after 10 min up (it flapped)',
    });
    expect(seen.get(790)).toMatchObject({ verdict: 'down', recovering: null, summary: 'us is down: api, write-path failing from 3/3 probe regions' });
    // After the last drop (4110-4150 s): up from 4170 s (3 slots), resolved at 4740 s (600 s of up from 4150 s),
    // never shown down in between.
    for (let s = 4170; s < 4740; s += 10) expect(seen.get(s), `at ${s} s`).toMatchObject({ verdict: 'up', incident: 'us-00001' });
    expect(seen.get(4740)).toMatchObject({ verdict: 'up', incident: null });
    expect(seen.get(4800)).toMatchObject({ verdict: 'up', incident: null, incidentSeverity: null, recovering: null, summary: 'us is up' });
  });

  it('sends the same reminders, worded as recovering while the region is up', () => {
    const reminders = run.published.filter((n) => n.event === 'reminder');
    expect(reminders.map((n) => n.t)).toEqual([1003, 1303, 1603, 1903, 2203, 2503, 2803, 3103, 3403, 3703, 4003, 4303, 4603]);
    expect(reminders.every((n) => n.severity === 'down' && n.subject.length <= 99)).toBe(true);
    const [first] = reminders;
    expect(first?.subject).toBe('[REMINDER] [DOWN] us is recovering: no target failing since 14:16:40 UTC, incident open 6 min');
    expect(first?.summary).toBe(
      'us is recovering: no target failing since 14:16:40 UTC. Incident us-00001 stays open (down) since 2026-04-14 14:10:00 UTC ' +
        'and resolves after 10 min up (it flapped); so far 3 min down.',
    );
    // Inside a down phase the reminder says what fails, as before.
    expect(reminders.find((n) => n.t === 1603)?.subject).toBe('[REMINDER] [DOWN] us is still down after 16 min: api, write-path failing from 3/3 probe regions');
    expect(run.published.some((n) => /no target failing now/.test(`${n.subject} ${n.summary}`))).toBe(false);
  });
});

describe('folded timeline: a de-escalation whose run below the severity reaches back into a summary segment', () => {
  // Down, a flap (so 10 minutes below down to de-escalate), then degraded, up and read-only: the 600 s below down
  // from 240 s start inside the oldest segments, which maxTimelineSegments 4 folds into one summary holding down too.
  const config = testConfig({ notifications: { reminderMinutes: 5 } });
  const script = faults({ us: [[90, 210, 'down'], [230, 240, 'down'], [320, 540, 'degraded'], [630, 840, 'read-only']] });
  const whole = new PureRun(config, script).run(0, 1250);
  const folded = new PureRun(config, script, { maxTimelineSegments: 4 }).run(0, 1250);
  const pages = (run: PureRun) => run.published.filter((n) => n.region === 'us').map((n) => `${n.t} ${n.event}:${n.severity}`);

  it('de-escalates at the same slot as the unfolded timeline, and reminds of the lower severity', () => {
    expect(pages(whole)).toEqual(['103 opened:down', '403 reminder:down', '703 reminder:down', '833 deescalated:read-only', '1003 reminder:read-only']);
    expect(pages(folded)).toEqual(pages(whole));
    expect(folded.all('us')[0]?.timeline[0]?.folded?.seconds).toMatchObject({ down: 130, degraded: 220 });
    expect(folded.all('us')[0]?.timeline[0]?.folded?.tail).toEqual({ 'read-only': 300, down: 300 });
  });
});
