// The post-incident draft from the story scenario run through the real evaluation and incident code (the simulator,
// two seconds): the story's figures, the regions not affected, detection and notification; a day split at midnight.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildRetro, refusalsOf, renderRetroMarkdown, type RetroFacts } from '../../lambda/core/retro';
import { loadScenarioFile, type Scenario } from '../../lambda/simulate/scenario';
import { simulate } from '../../lambda/simulate/simulate';
import { faults, PureRun, REFUSED_DETAIL, T0, testConfig } from './harness';

const STORY = join(import.meta.dirname, '..', '..', 'scenarios', 'story.json');

describe('the retro of the story (scenarios/story.json)', () => {
  let facts: RetroFacts;
  let markdown = '';
  let scenario: Scenario;

  beforeAll(async () => {
    scenario = loadScenarioFile(STORY);
    const sim = await simulate(scenario);
    const end = scenario.startAtMs + scenario.durationSeconds * 1000;
    facts = buildRetro({
      platform: 'acme',
      from: new Date(scenario.startAtMs).toISOString(),
      to: new Date(end).toISOString(),
      regions: Object.keys(scenario.config.regions),
      incidents: sim.trace.incidents,
      maintenance: [],
      nowMs: end,
    });
    markdown = renderRetroMarkdown(facts);
  }, 30_000);

  it('gives the story figures: 59 minutes down and 62 degraded on US, EU and APAC not affected', () => {
    expect(facts.totals.us).toMatchObject({ downMinutes: 59, degradedMinutes: 62, readOnlyMinutes: 62, incidents: ['us-00001', 'us-00002'] });
    expect(facts.unaffected).toEqual(['eu', 'apac']);
    expect(markdown).toContain('Total downtime on the US server: 59 minutes  \nTotal time of degraded performance: 62 minutes (62 minutes of it read-only)  \nNo service interruption to EU and APAC\n');
  });

  it('tells what happened, from the segments and their evidence, with detection and notification', () => {
    const [first, second] = facts.days[0]?.incidents ?? [];
    expect(first?.events.map((e) => e.kind)).toEqual(['started', 'detected', 'changed', 'recovered', 'resolved']);
    expect(first?.events[0]?.text).toBe('14:05 UTC: api, write-path, db-proxy and cert were failing from 3 of 3 probe regions (timeout): the US region was down.');
    // Confirm on failure (the default detection) pages within 12 s of the first failing check.
    const detected = /^14:05 UTC: regionwatch detected it (\d+) s after the first failing check \(incident us-00001\); on-call was notified (\d+) s after it\.$/.exec(first?.events[1]?.text ?? '');
    expect(detected, first?.events[1]?.text).not.toBeNull();
    expect(Number(detected?.[1])).toBeLessThanOrEqual(12);
    expect(Number(detected?.[2])).toBeLessThanOrEqual(12);
    expect(first?.events[2]?.text).toBe('14:25 UTC: the US region became read-only: write-path was refused from 3 probe regions (status) while reads worked.');
    // The hour of fluctuations is one line, not seven.
    expect(second?.events.find((e) => e.kind === 'fluctuated')?.text).toBe('16:20–17:14 UTC: the US region fluctuated: it went down 7 more times for 19 minutes in all, up in between.');
    expect(second?.events.at(-1)?.text).toMatch(/^17:2\d:\d\d UTC: incident us-00002 resolved after 10 minutes up, and on-call was told\.$/);
    expect(markdown).toContain('### US: incident us-00001 (14:05 – 15:27 UTC)');
  });

  it('drafts only the incidents asked for, still naming the regions with none', () => {
    const only = buildRetro({ platform: 'acme', from: facts.from, to: facts.to, regions: ['us', 'eu', 'apac'], incidents: [], maintenance: [], nowMs: Date.parse(facts.to), only: ['us-00002'] });
    expect(only.days).toEqual([]);
    expect(renderRetroMarkdown(only)).toContain('No incidents between');
  });
});

describe('a retro across midnight', () => {
  // US down from 23:50 to 00:20 (a day starting at T0 = 14:00 shifted to just before midnight).
  const midnight = Date.parse('2026-04-15T00:00:00Z') / 1000;
  const offset = midnight - 600 - T0;
  const run = new PureRun(testConfig(), faults({ us: [[offset, offset + 1800, 'down']] })).run(offset - 60, offset + 2400);

  it('splits the incident by day: each day its own minutes and a line that it was still down', () => {
    const facts = buildRetro({
      platform: 'acme',
      from: '2026-04-14T12:00:00Z',
      to: '2026-04-15T12:00:00Z',
      regions: ['us', 'eu', 'apac'],
      incidents: run.all('us'),
      maintenance: [],
      nowMs: Date.parse('2026-04-15T12:00:00Z'),
    });
    expect(facts.days.map((d) => [d.date, d.regions.us?.downMinutes])).toEqual([
      ['2026-04-14', 10],
      ['2026-04-15', 20],
    ]);
    expect(facts.days[1]?.incidents[0]?.events[0]).toMatchObject({ kind: 'continued', text: expect.stringMatching(/^00:00 UTC: still down \(incident us-00001, since 23:50 the day before\)/) });
    const md = renderRetroMarkdown(facts);
    expect(md).toContain('## In all, Apr 14 – Apr 15, 2026');
    expect(md).toContain('Total downtime on the US server: 30 minutes');
  });
});

describe('a retro with targets regionwatch refuses to probe', () => {
  // us: api down 14:05–14:25 beside internal, which resolves to loopback (refused from the start); apac's only target is
  // refused; eu is probed and fine.
  const config = testConfig({
    regions: {
      us: { targets: [{ name: 'api', type: 'http', url: 'https://api.us.example/health' }, { name: 'internal', type: 'http', url: 'http://internal.us.example/health' }] },
      eu: { targets: [{ name: 'api', type: 'http', url: 'https://api.eu.example/health' }] },
      apac: { targets: [{ name: 'internal', type: 'http', url: 'http://internal.apac.example/health' }] },
    },
  });
  const run = new PureRun(config, (slot, _p, region, target) => (target === 'internal' ? 'refused' : region === 'us' && slot - T0 >= 300 && slot - T0 < 1500 ? 'down' : 'up')).run(0, 3000);
  const facts = buildRetro({
    platform: 'acme',
    from: new Date(T0 * 1000).toISOString(),
    to: new Date((T0 + 3000) * 1000).toISOString(),
    regions: ['us', 'eu', 'apac'],
    incidents: run.all('us'),
    maintenance: [],
    nowMs: (T0 + 3000) * 1000,
    refused: refusalsOf(run.checker, [...run.status.values()]),
  });

  it('counts the probed target\'s outage, says the refused ones were not probed, and calls only the probed region unaffected', () => {
    expect(run.all('apac')).toEqual([]);
    expect(facts.totals.us).toMatchObject({ downMinutes: 20, incidents: ['us-00001'] });
    expect(facts.unaffected).toEqual(['eu']);
    expect(facts.notProbed.map((r) => [r.region, r.target, r.detail])).toEqual([
      ['apac', 'internal', REFUSED_DETAIL],
      ['us', 'internal', REFUSED_DETAIL],
    ]);
    expect(facts.days[0]?.unaffected).toEqual(['eu']);
    const md = renderRetroMarkdown(facts);
    expect(md).toMatch(/Total downtime on the US server: 20 minutes {2}\nTotal time of degraded performance: 0 minutes {2}\nNo service interruption to EU {2}\nNot probed on the APAC server since Apr 14 14:00 UTC: internal \(regionwatch refused to connect to a loopback address\); regionwatch has no figures for it {2}\nNot probed on the US server since Apr 14 14:00 UTC: internal/);
    expect(md).not.toContain('APAC server: 0 minutes');
  });

  it('leaves out a refusal that began after the period', () => {
    const later = buildRetro({ platform: 'acme', from: facts.from, to: facts.to, regions: ['us', 'eu', 'apac'], incidents: [], maintenance: [], nowMs: Date.parse(facts.to), refused: [{ region: 'apac', target: 'internal', since: '2030-01-01T00:00:00Z', detail: REFUSED_DETAIL }] });
    expect(later.notProbed).toEqual([]);
    expect(later.unaffected).toEqual(['us', 'eu', 'apac']);
  });
});
