import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../lambda/cli/main';
import type { Report } from '../../lambda/core/report';
import type { RetroFacts } from '../../lambda/core/retro';
import { demoScript } from '../../lambda/local/demo-script';
import { readNotifications, tempDir } from './harness';

describe('regionwatch demo, end to end at high speed', () => {
  const data = tempDir('regionwatch-demo-test-');
  afterAll(() => data.remove());

  it('reports the story in the scenario minutes and pages once per incident, without a storm', { timeout: 150_000 }, async () => {
    const out: string[] = [];
    const err: string[] = [];
    const started = performance.now();
    const code = await main(['demo', '--speed', '2000', '--json', '--data-dir', data.path], {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      cwd: data.path,
    });
    const seconds = (performance.now() - started) / 1000;
    expect(code, err.join('\n')).toBe(0);
    console.log(`demo at ×2000 took ${seconds.toFixed(1)} s`);

    const report = JSON.parse(out.join('\n')) as Report;
    const us = report.regions.us;
    expect(us?.downMinutes).toBeGreaterThanOrEqual(57);
    expect(us?.downMinutes).toBeLessThanOrEqual(61);
    expect(us?.degradedMinutes).toBeGreaterThanOrEqual(60);
    expect(us?.degradedMinutes).toBeLessThanOrEqual(64);
    expect(us?.readOnlyMinutes).toBeGreaterThanOrEqual(60);
    expect(us?.readOnlyMinutes).toBeLessThanOrEqual(64);
    for (const region of ['eu', 'apac']) {
      expect(report.regions[region]).toMatchObject({ downMinutes: 0, degradedMinutes: 0, incidents: [] });
    }
    // One incident a day, each seen within two rounds of the failure and paged at once.
    expect(us?.incidents).toHaveLength(2);
    for (const incident of us?.incidents ?? []) {
      expect(incident.resolvedAt).not.toBeNull();
      expect(incident.detectSeconds).toBeLessThanOrEqual(30);
      expect(incident.notifySeconds).not.toBeNull();
      expect(incident.notifySeconds ?? Infinity).toBeLessThanOrEqual(30);
    }

    const sent = readNotifications(data.path);
    expect(report.notifications).toBe(sent.filter((n) => n.event !== 'checker').length);
    expect(new Set(sent.map((n) => n.dedupKey)).size).toBe(sent.length);
    expect(sent.every((n) => n.region === 'us')).toBe(true);
    for (const incident of us?.incidents ?? []) {
      const mine = sent.filter((n) => n.incidentId === incident.incidentId);
      expect(mine[0]?.event).toBe('opened');
      expect(mine[mine.length - 1]?.event).toBe('resolved');
    }
    // Day 2's hour of fluctuations (seven drops) pages at most a few times, not once a drop.
    const { fluctuations } = demoScript();
    const pages = sent.filter((n) => ['opened', 'escalated', 'reminder'].includes(n.event) && Date.parse(n.at) >= fluctuations.from && Date.parse(n.at) < fluctuations.to);
    expect(pages.length).toBeLessThanOrEqual(3);

    // The retro of the same data: the story's figures, per day and in all, the same minutes the report has.
    const md: string[] = [];
    expect(await main(['retro', '--data-dir', data.path], { out: (l) => md.push(l), err: (l) => md.push(l), cwd: data.path })).toBe(0);
    const draft = md.join('\n');
    const totals = draft.slice(draft.indexOf('## In all'));
    expect(totals).toContain(`Total downtime on the US server: ${Math.round(us?.downMinutes ?? 0)} minutes`);
    expect(totals).toContain(`Total time of degraded performance: ${Math.round(us?.degradedMinutes ?? 0)} minutes`);
    expect(totals).toContain('No service interruption to EU and APAC');
    expect(draft).toContain('## Tuesday, April 14, 2026');
    expect(draft).toContain('## Wednesday, April 15, 2026');
    const json: string[] = [];
    expect(await main(['retro', '--json', '--data-dir', data.path], { out: (l) => json.push(l), err: (l) => json.push(l), cwd: data.path })).toBe(0);
    const facts = JSON.parse(json.join('\n')) as RetroFacts;
    expect(facts.totals.us).toMatchObject({ downMinutes: us?.downMinutes, degradedMinutes: us?.degradedMinutes });
    expect(facts.days.map((d) => [d.date, Math.round(d.regions.us?.downMinutes ?? 0)])).toEqual([
      ['2026-04-14', Math.round(us?.incidents[0]?.downMinutes ?? 0)],
      ['2026-04-15', Math.round(us?.incidents[1]?.downMinutes ?? 0)],
    ]);
    expect(facts.unaffected).toEqual(['eu', 'apac']);
  });
});
