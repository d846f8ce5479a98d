import { existsSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalMode } from '../../lambda/local/local-mode';
import { esc, renderStatusPage } from '../../lambda/status-page/html';
import type { statusDocument } from '../../lambda/status-page/files';
import type { StatusSnapshot } from '../../lambda/status-page/model';
import { CHROMIUM_PATH, launchChromium } from './browser';
import { day1, harness, tempDir, type Harness } from './harness';

describe('the status page in headless chromium', () => {
  let h: Harness;
  let mode: LocalMode;
  // One browser for the block; it also resolves rebound.example to 127.0.0.1, as a rebinding attacker's name would.
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  const data = tempDir('regionwatch-page-');
  const shots = tempDir('regionwatch-screenshots-');

  beforeAll(async () => {
    browser = await launchChromium(['--host-resolver-rules=MAP rebound.example 127.0.0.1']);
    h = await harness();
    mode = await h.start(data.path, day1(h.script, -2), { refreshMs: 500 });
    // 13:58 to 14:24: US down, then read-only; from 14:21 the ap-southeast-1 prober is cut off from everything.
    await mode.run({ fromMs: day1(h.script, -2), untilMs: day1(h.script, 21), catchUp: 'replay' });
    h.platform.partition('ap-southeast-1', true);
    await mode.run({ fromMs: day1(h.script, 21), untilMs: day1(h.script, 24), catchUp: 'replay' });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await mode?.close();
    await h?.close();
    data.remove();
    // The screenshot directory is left for a person to look at; it is printed below.
  });

  it('shows each region verdict, the open incident with its timeline, and who sees what', async () => {
    expect(existsSync(CHROMIUM_PATH)).toBe(true);
    const page = await browser.context.newPage();
    try {
      await page.goto(mode.statusUrl);
      await expect(page.locator('.region[data-region="us"]').getAttribute('data-verdict')).resolves.toBe('read-only');
      await expect(page.locator('.region[data-region="eu"]').getAttribute('data-verdict')).resolves.toBe('up');
      await expect(page.locator('.region[data-region="apac"]').getAttribute('data-verdict')).resolves.toBe('up');
      expect(await page.locator('.region[data-region="us"]').innerText()).toContain('Read-only');

      const incident = page.locator('#incidents article.incident[data-status="open"]');
      await expect(incident.count()).resolves.toBe(1);
      const text = await incident.innerText();
      expect(text).toContain('US');
      expect(text).toMatch(/20 min\s+down/);
      expect(text).toContain('notified: opened 14:00');
      await expect(incident.locator('.timeline-bar .seg').count()).resolves.toBe(2);

      // The partitioned prober's row is red everywhere while the others see EU and APAC up.
      const cell = (probe: string, region: string) => page.locator(`td.cell[data-probe-region="${probe}"][data-region="${region}"]`).getAttribute('data-status');
      await expect(cell('ap-southeast-1', 'eu')).resolves.toBe('down');
      await expect(cell('ap-southeast-1', 'apac')).resolves.toBe('down');
      await expect(cell('us-east-1', 'eu')).resolves.toBe('up');
      await expect(cell('eu-west-1', 'apac')).resolves.toBe('up');
      await expect(cell('us-east-1', 'us')).resolves.toBe('read-only');

      await expect(page.locator(`tr[data-probe-region="ap-southeast-1"]`).getAttribute("data-impaired")).resolves.toBe("true");
      await expect(page.locator(".history-row").count()).resolves.toBe(3);
      // It refreshes itself.
      await page.waitForSelector('#status[data-refreshed]', { timeout: 5000 });

      const shot = join(shots.path, 'status-page.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(10_000);
      console.log(`status page screenshot: ${shot}`);
    } finally {
      await page.close();
    }
  });

  it('runs its own script under a hash-based policy and blocks a script injected into the page', async () => {
    const policy = (await fetch(mode.statusUrl)).headers.get('content-security-policy') ?? '';
    const scriptSrc = /script-src ([^;]+)/.exec(policy)?.[1] ?? '';
    expect(scriptSrc).toMatch(/^'sha256-[A-Za-z0-9+/]+={0,2}'$/);
    const page = await browser.context.newPage();
    try {
      await page.goto(mode.statusUrl);
      // The page's own script runs: it refreshes the page.
      await page.waitForSelector('#status[data-refreshed]', { timeout: 5000 });
      // Run in the page (as text: the tests have no DOM types): a script element and an inline handler, as an
      // injection would add them, and the policy violations the page reports.
      const outcome = (await page.evaluate(`new Promise((resolve) => {
        const blocked = [];
        document.addEventListener('securitypolicyviolation', (event) => blocked.push(event.effectiveDirective));
        const script = document.createElement('script');
        script.textContent = 'window.injectedScriptRan = true;';
        document.body.appendChild(script);
        const image = document.createElement('img');
        image.setAttribute('onerror', 'window.injectedHandlerRan = true');
        image.src = 'data:,not-an-image';
        document.body.appendChild(image);
        setTimeout(() => resolve({ script: window.injectedScriptRan === true, handler: window.injectedHandlerRan === true, blocked }), 300);
      })`)) as { script: boolean; handler: boolean; blocked: string[] };
      expect(outcome.script).toBe(false);
      expect(outcome.handler).toBe(false);
      expect(outcome.blocked).toEqual(expect.arrayContaining(['script-src-elem', 'script-src-attr']));
    } finally {
      await page.close();
    }
  });

  it('answers only to its own loopback names, so a rebound name gets 421 (DNS rebinding)', async () => {
    const port = Number(new URL(mode.statusUrl).port);
    const withHost = (host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = httpRequest({ host: '127.0.0.1', port, path: '/api/status', headers: { host }, agent: false }, (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        });
        request.on('error', reject);
        request.end();
      });
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) expect((await withHost(host)).status, host).toBe(200);
    for (const host of [`evil.example:${port}`, '127.0.0.1', `127.0.0.1:${port + 1}`, `localhost.evil.example:${port}`]) {
      const answer = await withHost(host);
      expect(answer.status, host).toBe(421);
      expect(answer.body, host).not.toContain('regions');
    }
    // A real browser on a name that resolves to 127.0.0.1, as a rebinding attacker's name would.
    const page = await browser.context.newPage();
    try {
      const response = await page.goto(`http://rebound.example:${port}/`);
      expect(response?.status()).toBe(421);
      expect((await page.locator('body').innerText()).trim()).toBe(`this status page answers only to http://127.0.0.1:${port} (or localhost:${port})`);
    } finally {
      await page.close();
    }
  });

  it('serves the same data as JSON to dashboards, under the hosted names and the older /api ones', async () => {
    const status = (await (await fetch(`${mode.statusUrl}/status.json`)).json()) as ReturnType<typeof statusDocument>;
    expect(status.regions.map((r) => [r.region, r.verdict, r.incident?.incidentId ?? null])).toEqual([
      ['us', 'read-only', 'us-00001'],
      ['eu', 'up', null],
      ['apac', 'up', null],
    ]);
    expect(status.regions.find((r) => r.region === 'eu')?.probeViews['ap-southeast-1']).toMatchObject({ status: 'down', impaired: true });
    expect(await (await fetch(`${mode.statusUrl}/api/status`)).json()).toEqual(status);
    const incidents = (await (await fetch(`${mode.statusUrl}/incidents.json`)).json()) as { open: { region: string; severity: string }[] };
    expect(incidents.open.map((i) => [i.region, i.severity])).toEqual([['us', 'down']]);
    expect(await (await fetch(`${mode.statusUrl}/api/incidents`)).json()).toEqual(incidents);
    const feed = await fetch(`${mode.statusUrl}/feed.atom`);
    expect(feed.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
    expect(await feed.text()).toContain(`<link rel="alternate" type="text/html" href="${mode.statusUrl}/index.html#incident-us-00001"/>`);
    const badge = await fetch(`${mode.statusUrl}/badge/us.svg`);
    expect(badge.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8');
    expect(await badge.text()).toContain('us: read-only');
    const notFound = await fetch(`${mode.statusUrl}/nope`);
    expect(notFound.status).toBe(404);
    await notFound.text();
  });

  it('does not page about the partitioned prober', () => {
    expect(h.lines.filter((l) => / (eu|apac) opened/.test(l))).toEqual([]);
  });
});

describe('the status page renderer', () => {
  it('escapes everything that comes from data', () => {
    expect(esc(`<script>alert("x")</script>&'\``)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&#96;');
    const evil = '<img src=x onerror=alert(1)>';
    const snapshot: StatusSnapshot = {
      platform: evil,
      title: evil,
      now: '2026-04-14T14:00:00Z',
      checkedAt: null,
      stale: true,
      watchedSince: null,
      banner: evil,
      regions: [
        {
          region: evil,
          verdict: 'down',
          summary: evil,
          openIncidentId: evil,
          probeViews: { [evil]: { status: 'down', failing: [evil], detail: `"${evil}` } },
        },
      ],
      probeRegions: [{ probeRegion: evil, state: 'impaired', since: evil, counted: false }],
      openIncidents: [
        {
          incidentId: evil,
          region: evil,
          status: 'open',
          severity: 'down',
          openedAt: evil,
          resolvedAt: null,
          downMinutes: 1,
          degradedMinutes: 0,
          readOnlyMinutes: 0,
          timeline: [{ verdict: 'down', from: '2026-04-14T14:00:00Z', to: null, summary: evil }],
          notifications: [{ at: evil, event: evil, subject: evil }],
        },
      ],
      recentIncidents: [],
      maintenance: { current: [{ region: evil, start: evil, end: evil, reason: evil }], upcoming: [] },
      history: { from: '2026-04-14T13:00:00Z', to: '2026-04-14T14:00:00Z', bucketMinutes: 60, regions: [{ region: evil, bars: [], uptime: null }] },
    };
    const html = renderStatusPage(snapshot);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});
