// The current verdict is the truth, against a real nginx platform: a region down again minutes after recovering
// reopens its incident (flap damping), and is shown up as soon as it is healthy again while the incident stays open.
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambda/config/load';
import { ScaledClock } from '../../lambda/local/clock';
import { formatStatus } from '../../lambda/local/format';
import { startLocalMode, type LocalMode } from '../../lambda/local/local-mode';
import type { statusDocument } from '../../lambda/status-page/files';
import { startNginx, type Nginx } from '../helpers/nginx';
import { tempDir } from './harness';

const START = Date.parse('2026-04-14T09:00:00Z');
const minute = (m: number) => START + m * 60_000;

describe('the current verdict is the truth against a real nginx platform', () => {
  let nginx: Nginx;
  let mode: LocalMode;
  const data = tempDir('regionwatch-flap-');
  const lines: string[] = [];

  beforeAll(async () => {
    nginx = await startNginx();
    const config = parseConfig(
      {
        platform: 'flappy',
        probeRegions: ['us-east-1', 'eu-west-1', 'ap-southeast-1'],
        homeRegion: 'us-east-1',
        defaults: { intervalSeconds: 10, timeoutMs: 2000, failureThreshold: 2, recoveryThreshold: 3, quorum: 2 },
        regions: {
          us: {
            targets: [
              { name: 'api', type: 'http', url: `${nginx.origin}/health`, expect: { status: [200], bodyContains: 'ok' } },
              { name: 'write-path', type: 'http', method: 'POST', role: 'write-probe', url: `${nginx.origin}/canary`, body: '{}' },
            ],
          },
        },
        probing: { allowPrivateAddresses: true, jitterMs: 0 },
      },
      'flap test config',
    );
    const clock = new ScaledClock(START, 1000);
    clock.holdAt(START);
    mode = await startLocalMode({ config, dataDir: data.path, cwd: tmpdir(), port: 0, clock, speed: 1000, notificationLine: (l) => lines.push(l) });
    // Up, down for a minute, up for two (resolved), down again for a minute (reopened: 2 minutes after recovering).
    const phases: [number, number, 'up' | 'down'][] = [
      [0, 1, 'up'],
      [1, 2, 'down'],
      [2, 4, 'up'],
      [4, 5, 'down'],
    ];
    for (const [from, to, state] of phases) {
      nginx.set(state);
      await mode.run({ fromMs: minute(from), untilMs: minute(to), catchUp: 'replay' });
    }
    nginx.set('up');
  }, 60_000);

  afterAll(async () => {
    await mode?.close();
    await nginx?.close();
    data.remove();
  });

  const status = async () => (await (await fetch(`${mode.statusUrl}/status.json`)).json()) as ReturnType<typeof statusDocument>;

  it('reopened the incident: one incident, paged opened, resolved, opened again', () => {
    expect(lines.map((l) => l.replace(/^\S+ /, '').replace(/:.*\(/, ' (')).filter((l) => /opened|resolved/.test(l))).toEqual([
      '[DOWN] us opened (us-00001)',
      '[UP] us resolved (us-00001)',
      '[DOWN] us opened (us-00001)',
    ]);
  });

  it('shows the region down until the recovery threshold, then up while the incident stays open', async () => {
    await mode.run({ fromMs: minute(5), untilMs: minute(5) + 20_000, catchUp: 'replay' });
    // Two up slots of the three the recovery threshold asks: the last confirmed verdict holds.
    expect((await status()).regions[0]).toMatchObject({ verdict: 'down', incident: { incidentId: 'us-00001', severity: 'down' } });

    await mode.run({ fromMs: minute(5) + 20_000, untilMs: minute(7), catchUp: 'replay' });
    const now = await status();
    expect(now.regions[0]).toMatchObject({
      region: 'us',
      verdict: 'up',
      since: '2026-04-14T09:05:00.000Z',
      incident: { incidentId: 'us-00001', status: 'open', severity: 'down', recovering: { since: '2026-04-14T09:05:00.000Z', resolvesAfterSeconds: 600, flapping: true } },
    });
    expect(now.regions[0]?.summary).toBe('us recovering: no target failing since 09:05:00 UTC; incident us-00001 resolves after 10m up (flapping)');
    const page = await (await fetch(mode.statusUrl)).text();
    expect(page).toContain('data-region="us" data-verdict="up" data-incident="us-00001"');

    // `regionwatch status` prints the same from the same reader (in another process it reads through this one).
    const lines = formatStatus(await mode.engines.reader.currentStatus(), now.generatedAt);
    expect(lines[1]).toBe('  US    up         us recovering: no target failing since 09:05:00 UTC; incident us-00001 resolves after 10m up (flapping)  [us-00001 open, down, recovering: resolves after 10m up]');
  });
});
