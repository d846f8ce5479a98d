// The newcomer's first hour (issue 14): a config pointed at their own loopback server. Refusals are config problems
// first: validate names the fix; with it local runs clean; a name that resolves to a refused address at run time is
// told in one line and a checker alert, never a platform page (FAULTS 15).
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lambda/cli/main';
import { parseConfig } from '../../lambda/config/load';
import { ScaledClock } from '../../lambda/local/clock';
import { startLocalMode } from '../../lambda/local/local-mode';
import { startFaultyServer, type FaultyServer } from '../helpers/servers';
import { tempDir } from '../local/harness';
import { tableLookup } from '../probe/fixtures';

function capture(cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), cwd } };
}

/** A notification line on the terminal (`14:02:13 [DOWN] …`, `… [CHECKER] …`). */
const NOTIFICATION_LINE = /^\d\d:\d\d:\d\d \[/;

const FIX = 'set probing.allowPrivateAddresses to true to probe it';

describe('a newcomer points regionwatch at a server on this machine', () => {
  const dir = tempDir('regionwatch-newcomer-');
  let server: FaultyServer;
  const config = (url: string, probing?: Record<string, unknown>) => ({
    platform: 'acme',
    probeRegions: ['us-east-1', 'eu-west-1', 'ap-southeast-1'],
    homeRegion: 'us-east-1',
    regions: { us: { targets: [{ name: 'api', type: 'http', url }] } },
    ...(probing ? { probing } : {}),
  });
  const write = (name: string, value: unknown) => {
    const file = join(dir.path, name);
    writeFileSync(file, JSON.stringify(value, null, 2));
    return file;
  };

  beforeAll(async () => {
    server = await startFaultyServer();
  });
  afterAll(async () => {
    await server.close();
    dir.remove();
  });

  it('without the key: validate fails naming the target, the address kind and the fix; local refuses to start the same way', async () => {
    const file = write('no-key.json', config(`${server.origin}/ok`));
    const problem = `  regions.us.targets[0].url: 127.0.0.1 is a loopback address, which probers refuse unless private addresses are allowed: ${FIX} (right for regionwatch local or a private platform; it opens only the hosts this config names)`;
    const validate = capture(dir.path);
    expect(await main(['validate', '--config', file], validate.io)).toBe(2);
    expect(validate.err).toEqual([`${file}: 1 problem\n${problem}`]);
    const local = capture(dir.path);
    const requests = server.requests.length;
    expect(await main(['local', '--config', file, '--data-dir', join(dir.path, 'no-key'), '--port', '0', '--for', '1'], local.io)).toBe(2);
    expect(local.err).toEqual([`${file}: 1 problem\n${problem}`]);
    expect(local.out).toEqual([]);
    expect(server.requests.length).toBe(requests);
  });

  it('with the key, as the fix says: validate passes and local runs clean (probed from every probe region, no page)', async () => {
    const file = write('key.json', config(`${server.origin}/ok`, { allowPrivateAddresses: true }));
    expect(await main(['validate', '--config', file], capture(dir.path).io)).toBe(0);
    const requests = server.requests.length;
    const local = capture(dir.path);
    expect(await main(['local', '--config', file, '--data-dir', join(dir.path, 'key'), '--port', '0', '--for', '1'], local.io), local.err.join('\n')).toBe(0);
    expect(local.out.filter((l) => NOTIFICATION_LINE.test(l))).toEqual([]);
    expect(local.err).toEqual([]);
    const probed = server.requests.slice(requests).filter((r) => r.path === '/ok');
    expect(new Set(probed.map((r) => r.headers['x-regionwatch-probe-region']))).toEqual(new Set(['us-east-1', 'eu-west-1', 'ap-southeast-1']));
  });

  it('a redirect to a host the config does not name, resolved by the system resolver: one line naming the fix, no page', async () => {
    // The key opens the hosts the config names (127.0.0.1), not `localhost` that the target redirects to.
    const file = write('redirect.json', config(`${server.origin}/redirect/to?url=${encodeURIComponent(`http://localhost:${server.port}/ok`)}`, { allowPrivateAddresses: true }));
    const local = capture(dir.path);
    expect(await main(['local', '--config', file, '--data-dir', join(dir.path, 'redirect'), '--port', '0', '--for', '1'], local.io), local.err.join('\n')).toBe(0);
    expect(local.err).toEqual([
      'regionwatch local: api of us is not probed: its redirect 1 to localhost resolves to a loopback address, which probers refuse; probing.allowPrivateAddresses opens private addresses only for the hosts the config names. A checker alert follows, not a platform page.',
    ]);
    expect(local.out.filter((l) => NOTIFICATION_LINE.test(l) && !l.includes('[CHECKER]'))).toEqual([]);
  });

  it('a name that resolves to a refused address at run time: one line at start, one checker alert with the reason, never a page', async () => {
    // The newcomer's own name for the server; this machine's resolver would answer it with loopback.
    const url = `http://api.internal.acme.example:${server.port}/ok`;
    const parsed = parseConfig(config(url, { jitterMs: 0 }), 'newcomer config');
    const lines: string[] = [];
    const notificationLines: string[] = [];
    const startMs = Date.parse('2026-04-14T10:00:00Z');
    const clock = new ScaledClock(startMs, 40);
    clock.holdAt(startMs);
    const requests = server.requests.length;
    const mode = await startLocalMode({
      config: parsed,
      dataDir: join(dir.path, 'by-name'),
      cwd: tmpdir(),
      port: 0,
      clock,
      speed: 40,
      notificationLine: (line) => notificationLines.push(line),
      refusalLine: (line) => lines.push(line),
      lookup: tableLookup({ 'api.internal.acme.example': ['127.0.0.1'] }),
    });
    try {
      // At start, before any round: the name is looked up once and judged by the prober's guard.
      expect(await mode.run({ fromMs: startMs, untilMs: startMs, catchUp: 'replay' })).toBe(0);
      expect(lines).toHaveLength(1);
      // Eight slots (80 s of the pipeline's time): every probe region refuses it in every round, and nothing more is said.
      await mode.run({ fromMs: startMs, untilMs: startMs + 80_000, catchUp: 'replay' });
      expect(lines).toEqual([
        `api of us is not probed: api.internal.acme.example resolves to a loopback address, which probers refuse; ${FIX}. A checker alert follows, not a platform page.`,
      ]);
      expect(mode.sent.filter((n) => n.event !== 'checker')).toEqual([]);
      expect(mode.sent.map((n) => n.subject)).toEqual(['[CHECKER] api of us is not probed: regionwatch refused to connect to a loopback address']);
      expect(mode.sent[0]?.summary).toContain(FIX);
      expect(notificationLines).toHaveLength(1);
      expect(server.requests.length).toBe(requests);
      const snapshot = await mode.snapshot();
      expect(snapshot.regions[0]).toMatchObject({
        region: 'us',
        verdict: 'unknown',
        summary: `us has no verdict: api is not probed: regionwatch refused to connect to a loopback address (${FIX})`,
      });
      expect(await mode.engines.reader.openIncidentRecords()).toEqual([]);
      // Who sees what: no probe region reports the target down, none is stale; each view names the refusal instead.
      const views = Object.values(snapshot.regions[0]?.probeViews ?? {});
      expect(views).toHaveLength(parsed.probeRegions.length);
      for (const view of views) expect(view).toMatchObject({ status: 'unknown', failing: [], detail: expect.stringMatching(/^not probed: api · blocked-address · refused to connect to a loopback address/) as unknown });
      const page = await (await fetch(mode.statusUrl)).text();
      expect(page.match(/data-region="us" data-status="unknown"[^>]*><span class="dot"><\/span>Not probed</g)).toHaveLength(parsed.probeRegions.length);
      expect(page).toContain('<div class="pill v-unknown">Not probed</div>');
    } finally {
      await mode.close();
    }
    // The read commands afterwards say the same: status lists the refused target, the retro says it was not probed
    // (not down, and not "no service interruption").
    const data = join(dir.path, 'by-name');
    const status = capture(tmpdir());
    expect(await main(['status', '--json', '--data-dir', data], status.io), status.err.join('\n')).toBe(0);
    const [us] = (JSON.parse(status.out.join('\n')) as { regions: { verdict: string; refusedTargets?: { target: string; detail: string }[] }[] }).regions;
    expect(us).toMatchObject({ verdict: 'unknown', refusedTargets: [{ target: 'api', probeRegions: parsed.probeRegions, detail: `refused to connect to a loopback address: ${FIX}` }] });
    const retro = capture(tmpdir());
    expect(await main(['retro', '--data-dir', data], retro.io), retro.err.join('\n')).toBe(0);
    const draft = retro.out.join('\n');
    expect(draft).toContain('Not probed on the US server since Apr 14 10:00 UTC: api (regionwatch refused to connect to a loopback address); regionwatch has no figures for it');
    expect(draft).not.toMatch(/No service interruption|downtime/);
    const facts = capture(tmpdir());
    expect(await main(['retro', '--json', '--data-dir', data], facts.io)).toBe(0);
    expect(JSON.parse(facts.out.join('\n'))).toMatchObject({ unaffected: [], notProbed: [{ region: 'us', target: 'api' }] });
  });
});
