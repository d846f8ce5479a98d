// The hosted status page's files, rendered from records the real lifecycle decided, served by a real static server
// (nginx, as S3 behind CloudFront would serve them) and read in headless chromium; the feed and the badges too.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultStatus } from '../../lambda/core/results';
import { renderStatusFiles, type StatusFile } from '../../lambda/status-page/files';
import { REFRESH_SCRIPT, REFRESH_SCRIPT_HASH, STATUS_PAGE_CSP } from '../../lambda/status-page/html';
import { buildSnapshot, type SnapshotInput, type StatusSnapshot } from '../../lambda/status-page/model';
import { faults, PureRun, T0, testConfig } from '../core/harness';
import { startNginxPlatform, type NginxPlatform } from '../helpers/nginx-platform';
import { CHROMIUM_PATH, launchChromium } from '../local/browser';
import { createHash } from 'node:crypto';

const config = testConfig({
  maintenance: [
    { region: 'eu', start: new Date((T0 + 3 * 3600) * 1000).toISOString(), end: new Date((T0 + 4 * 3600) * 1000).toISOString(), reason: 'database upgrade' },
  ],
});

/**
 * 14:00 → 14:50 on the harness clock: US down 14:01:40–14:05 (resolved), then down 14:21:40–14:41:40, read-only since;
 * from 14:45 the ap-southeast-1 prober sees everything down (its own network).
 */
function decided(): { run: PureRun; input: SnapshotInput } {
  const partitioned = (slot: number, probeRegion: string): ResultStatus | undefined => (probeRegion === 'ap-southeast-1' && slot - T0 >= 2700 ? 'down' : undefined);
  const run = new PureRun(config, faults({ us: [[100, 300, 'down'], [1300, 2500, 'down'], [2500, 3000, 'read-only']] }, partitioned)).run(0, 3000);
  const nowMs = (T0 + 3003) * 1000;
  const incidents = run.all('us');
  return {
    run,
    input: {
      config,
      nowMs,
      statuses: [...run.status.values()],
      checker: run.checker,
      checkedAtMs: nowMs - 20_000,
      openIncidents: incidents.filter((i) => i.status === 'open'),
      historyIncidents: incidents,
      history: { fromMs: nowMs - 3600_000, toMs: nowMs, bars: 60, observed: [{ fromMs: T0 * 1000, toMs: nowMs }] },
    },
  };
}

function write(root: string, files: readonly StatusFile[]): void {
  for (const f of files) {
    const path = join(root, f.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.body);
  }
}

describe('the rendered status page files in headless chromium', () => {
  let nginx: NginxPlatform;
  let site = '';
  let snapshot: StatusSnapshot;
  let files: StatusFile[];

  beforeAll(async () => {
    nginx = await startNginxPlatform({ regions: [] });
    site = `${nginx.origin}/site`;
    snapshot = buildSnapshot(decided().input);
    files = renderStatusFiles(snapshot, { variant: 'hosted', refreshMs: 500, baseUrl: `${site}/` });
    write(nginx.siteRoot, files);
  }, 30_000);

  afterAll(async () => {
    await nginx?.close();
  });

  it('renders the DESIGN files: index.html, status.json, incidents.json, feed.atom and a badge per platform region', () => {
    expect(files.map((f) => f.path)).toEqual(['index.html', 'status.json', 'incidents.json', 'feed.atom', 'badge/us.svg', 'badge/eu.svg', 'badge/apac.svg']);
    expect(files.every((f) => f.cacheControl.includes('stale-if-error'))).toBe(true);
  });

  it('shows the verdict now, the open incident with its timeline, history bars, maintenance and who sees what', async () => {
    expect(existsSync(CHROMIUM_PATH)).toBe(true);
    const browser = await launchChromium();
    const errors: string[] = [];
    try {
      const page = await browser.context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(`${site}/`);
      const verdict = (region: string) => page.locator(`.region[data-region="${region}"]`).getAttribute('data-verdict');
      await expect(verdict('us')).resolves.toBe('read-only');
      await expect(verdict('eu')).resolves.toBe('up');
      await expect(page.locator('.region[data-region="us"] .incident-line').innerText()).resolves.toBe('incident us-00002 open (read-only)');

      const open = page.locator('#incidents article.incident[data-status="open"]');
      await expect(open.count()).resolves.toBe(1);
      await expect(open.getAttribute('id')).resolves.toBe('incident-us-00002');
      await expect(open.locator('.segments li').count()).resolves.toBe(2);
      expect(await open.innerText()).toMatch(/20 min\s+down/);
      // The resolved one below it.
      await expect(page.locator('#incidents article.incident[data-status="resolved"]').getAttribute('data-incident-id')).resolves.toBe('us-00001');

      await expect(page.locator('.history-row').count()).resolves.toBe(3);
      await expect(page.locator('.history-row[data-region="us"] .bar.v-down').count()).resolves.toBeGreaterThan(20);
      await expect(page.locator('#maintenance li[data-maintenance="upcoming"]').innerText()).resolves.toContain('EU Apr 14 17:00 – Apr 14 18:00 UTC database upgrade');

      const cell = (probe: string, region: string) => page.locator(`td.cell[data-probe-region="${probe}"][data-region="${region}"]`);
      await expect(cell('ap-southeast-1', 'eu').getAttribute('data-status')).resolves.toBe('down');
      await expect(cell('ap-southeast-1', 'eu').getAttribute('data-impaired')).resolves.toBe('true');
      await expect(cell('us-east-1', 'eu').getAttribute('data-status')).resolves.toBe('up');
      await expect(cell('us-east-1', 'us').getAttribute('data-status')).resolves.toBe('read-only');
      await expect(page.locator('tr[data-probe-region="ap-southeast-1"]').getAttribute('data-impaired')).resolves.toBe('true');

      // The feed parses as Atom and the badges load as images, from the same origin as the page.
      // (In-page code as text: the project's TypeScript has no DOM types.)
      const feed = await page.evaluate(`(async () => {
        const xml = new DOMParser().parseFromString(await (await fetch('feed.atom')).text(), 'application/xml');
        return { error: xml.querySelector('parsererror') !== null, root: xml.documentElement.namespaceURI, entries: [...xml.querySelectorAll('entry > id')].map((e) => e.textContent) };
      })()`);
      expect(feed).toEqual({ error: false, root: 'http://www.w3.org/2005/Atom', entries: ['urn:regionwatch:acme:incident:us-00002', 'urn:regionwatch:acme:incident:us-00001'] });
      const badges = (await page.evaluate(`Promise.all(['us', 'eu'].map((r) => new Promise((resolve) => {
        const img = new Image();
        img.onload = () => resolve(img.naturalWidth);
        img.onerror = () => resolve(-1);
        img.src = 'badge/' + r + '.svg';
      })))`)) as number[];
      expect(badges.every((w) => w > 40)).toBe(true);

      // It refreshes itself from the same file: its script runs under the page's CSP (by hash, no 'unsafe-inline').
      write(nginx.siteRoot, renderStatusFiles({ ...snapshot, banner: 'refreshed from the file' }, { variant: 'hosted', refreshMs: 500 }));
      await page.waitForSelector('#status[data-refreshed] .banner', { timeout: 5000 });
      await expect(page.locator('.banner').innerText()).resolves.toBe('refreshed from the file');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('says "not probed" for targets regionwatch refuses, never down: a region with only refused targets, and one with a refused target beside a probed one', async () => {
    // us's one target and eu's second resolve to loopback (the guard refuses them); eu's api and apac are probed and up.
    const refusing = testConfig({
      regions: {
        us: { targets: [{ name: 'internal', type: 'http', url: 'http://internal.us.example/health' }] },
        eu: { targets: [{ name: 'api', type: 'http', url: 'https://api.eu.example/health' }, { name: 'internal', type: 'http', url: 'http://internal.eu.example/health' }] },
        apac: { targets: [{ name: 'api', type: 'http', url: 'https://api.apac.example/health' }] },
      },
    });
    const run = new PureRun(refusing, (_s, _p, _region, target) => (target === 'internal' ? 'refused' : 'up')).run(0, 600);
    expect(run.published.filter((n) => n.event !== 'checker')).toEqual([]);
    const nowMs = (T0 + 603) * 1000;
    const refused = buildSnapshot({
      config: refusing,
      nowMs,
      statuses: [...run.status.values()],
      checker: run.checker,
      checkedAtMs: nowMs - 20_000,
      openIncidents: [],
      historyIncidents: [],
      history: { fromMs: nowMs - 3600_000, toMs: nowMs, bars: 60, observed: [{ fromMs: T0 * 1000, toMs: nowMs }] },
    });
    const rendered = renderStatusFiles(refused, { variant: 'hosted' });
    mkdirSync(join(nginx.siteRoot, 'refused'), { recursive: true });
    write(join(nginx.siteRoot, 'refused'), rendered);

    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${site}/refused/`);
      const card = (region: string) => page.locator(`.region[data-region="${region}"]`);
      await expect(page.locator('#overall').innerText()).resolves.toMatch(/^US not probed/);
      await expect(card('us').getAttribute('data-verdict')).resolves.toBe('unknown');
      await expect(card('us').locator('.pill').innerText()).resolves.toBe('Not probed');
      await expect(card('us').locator('.not-probed').innerText()).resolves.toBe('Not probed: internal, refused by regionwatch itself, not down');
      await expect(card('us').locator('.summary').innerText()).resolves.toBe('us has no verdict: internal is not probed: regionwatch refused to connect to a loopback address (set probing.allowPrivateAddresses to true to probe it)');
      // eu is up on what was probed, and still names the target it does not probe.
      await expect(card('eu').getAttribute('data-verdict')).resolves.toBe('up');
      await expect(card('eu').locator('.not-probed').getAttribute('data-not-probed')).resolves.toBe('internal');
      await expect(card('apac').locator('.not-probed').count()).resolves.toBe(0);
      // Who sees what: every probe region says "Not probed" for us, none says down.
      const usCells = page.locator('td.cell[data-region="us"]');
      await expect(usCells.count()).resolves.toBe(3);
      for (const text of await usCells.allInnerTexts()) expect(text).toBe('Not probed');
      await expect(page.locator('td.cell[data-status="down"]').count()).resolves.toBe(0);
      // Nothing on the page is coloured down but the legend's swatch.
      await expect(page.locator('.v-down').count()).resolves.toBe(await page.locator('.legend .v-down').count());
    } finally {
      await browser.close();
    }
    const status = (await (await fetch(`${site}/refused/status.json`)).json()) as { regions: { region: string; verdict: string; refusedTargets: { target: string; detail: string }[] }[] };
    expect(status.regions.map((r) => [r.region, r.verdict, r.refusedTargets.map((t) => t.target)])).toEqual([
      ['us', 'unknown', ['internal']],
      ['eu', 'up', ['internal']],
      ['apac', 'up', []],
    ]);
    expect(status.regions[0]?.refusedTargets[0]?.detail).toBe('refused to connect to a loopback address: set probing.allowPrivateAddresses to true to probe it');
    expect(rendered.find((f) => f.path === 'badge/us.svg')?.body).toContain('<title>us: not probed</title>');
  });

  it('serves status.json with the verdict now and the open incident beside it', async () => {
    const status = (await (await fetch(`${site}/status.json`)).json()) as { regions: { region: string; verdict: string; incident: unknown }[]; stale: boolean };
    expect(status.stale).toBe(false);
    expect(status.regions.map((r) => [r.region, r.verdict, r.incident])).toEqual([
      ['us', 'read-only', { incidentId: 'us-00002', status: 'open', severity: 'read-only', recovering: null }],
      ['eu', 'up', null],
      ['apac', 'up', null],
    ]);
  });
});

describe('the status page renderer', () => {
  it('pins the refresh script in the CSP by its hash, and allows no inline script otherwise', () => {
    expect(REFRESH_SCRIPT_HASH).toBe(`'sha256-${createHash('sha256').update(REFRESH_SCRIPT).digest('base64')}'`);
    expect(STATUS_PAGE_CSP).toContain(`script-src ${REFRESH_SCRIPT_HASH};`);
    expect(STATUS_PAGE_CSP).not.toContain("'unsafe-inline'; connect");
    expect(STATUS_PAGE_CSP).not.toMatch(/script-src[^;]*unsafe-inline/);
  });

  it('says the page may be out of date once the checker has not reported for three minutes', () => {
    const { input } = decided();
    const stale = buildSnapshot({ ...input, checkedAtMs: input.nowMs - 4 * 60_000 });
    expect(stale.stale).toBe(true);
    const html = renderStatusFiles(stale).find((f) => f.path === 'index.html')?.body ?? '';
    expect(html).toContain('<div class="banner stale" id="stale">regionwatch last reported at Apr 14 14:46 UTC: what follows may be out of date.</div>');
    expect(buildSnapshot({ ...input, checkedAtMs: null }).stale).toBe(true);
  });

  it('escapes data in the feed and the badges as in the page', () => {
    const evil = '<x a="1">&\'';
    const { input } = decided();
    const snapshot = buildSnapshot({ ...input, config: { ...input.config, platform: evil } });
    const feed = renderStatusFiles(snapshot).find((f) => f.path === 'feed.atom')?.body ?? '';
    expect(feed).not.toContain('<x a');
    expect(feed).toContain('&lt;x a=&quot;1&quot;&gt;&amp;&apos;');
  });

  it('shows a region up inside its open incident as up, with the incident and what resolves it beside it', () => {
    const { input } = decided();
    const us = input.statuses.find((s) => s.region === 'us');
    if (!us) throw new Error('no us status');
    const recovering = { ...us, verdict: 'up' as const, recovering: { since: '2026-04-14T14:49:00.000Z', resolvesAfterSeconds: 600, flapping: true } };
    const snapshot = buildSnapshot({ ...input, statuses: [recovering, ...input.statuses.filter((s) => s.region !== 'us')] });
    const files = renderStatusFiles(snapshot);
    const html = files.find((f) => f.path === 'index.html')?.body ?? '';
    expect(html).toContain('data-region="us" data-verdict="up" data-incident="us-00002"');
    expect(html).toContain('incident us-00002 open (read-only)</a>; up again since 14:49, resolves after 10 min up (it flapped)');
    expect(files.find((f) => f.path === 'badge/us.svg')?.body).toContain('<title>us: recovering</title>');
  });
});
