// The current verdict is the truth, against a real nginx platform: a region down again minutes after recovering
// reopens its incident (flap damping), and is shown up as soon as it is healthy again while the incident stays open.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambda/config/load';
import { ScaledClock } from '../../lambda/local/clock';
import { formatStatus } from '../../lambda/local/format';
import { startLocalMode, type LocalMode } from '../../lambda/local/local-mode';
import type { statusDocument } from '../../lambda/status-page/files';
import { LocalSecretsFile } from '../../lambda/notify/channel-secret';
import { startNginxPlatform, type NginxPlatform } from '../helpers/nginx-platform';
import { startFakeReceiver, type FakeReceiver } from '../notify/fake-receiver';
import { tempDir } from './harness';

const START = Date.parse('2026-04-14T09:00:00Z');
const minute = (m: number) => START + m * 60_000;

describe('the current verdict is the truth against a real nginx platform', () => {
  let nginx: NginxPlatform;
  let mode: LocalMode;
  let pd: FakeReceiver;
  let hook: FakeReceiver;
  let secrets: LocalSecretsFile;
  const data = tempDir('regionwatch-flap-');
  const secretsDir = tempDir('regionwatch-flap-secrets-');
  const lines: string[] = [];

  beforeAll(async () => {
    nginx = await startNginxPlatform({ regions: ['us'] });
    const config = parseConfig(
      {
        platform: 'flappy',
        probeRegions: ['us-east-1', 'eu-west-1', 'ap-southeast-1'],
        homeRegion: 'us-east-1',
        defaults: { intervalSeconds: 10, timeoutMs: 2000, failureThreshold: 2, recoveryThreshold: 3, quorum: 2 },
        regions: {
          us: {
            targets: [
              { name: 'api', type: 'http', url: `${nginx.origin}/us/health`, expect: { status: [200], bodyContains: 'ok' } },
              { name: 'write-path', type: 'http', method: 'POST', role: 'write-probe', url: `${nginx.origin}/us/canary`, body: '{}' },
            ],
          },
        },
        probing: { allowPrivateAddresses: true, jitterMs: 0 },
        notifications: {
          pagerDuty: [{ name: 'oncall', routingKeySecretName: 'flappy/pagerduty' }],
          webhooks: [{ name: 'bridge', secretName: 'flappy/webhook', route: { events: ['opened', 'resolved'] } }],
        },
      },
      'flap test config',
    );
    pd = await startFakeReceiver('/v2/enqueue', { status: 202, body: '{"status":"success"}' });
    hook = await startFakeReceiver('/hook', { status: 204 });
    const secretsFile = join(secretsDir.path, 'regionwatch.secrets.json');
    writeFileSync(secretsFile, JSON.stringify({ 'flappy/pagerduty': { routingKey: 'R0UT1NGKEY0123456789abcdefABCDEF', eventsUrl: pd.url }, 'flappy/webhook': { url: hook.url, signingSecret: 'x'.repeat(40) } }));
    secrets = new LocalSecretsFile(secretsFile);
    const clock = new ScaledClock(START, 1000);
    clock.holdAt(START);
    mode = await startLocalMode({ config, dataDir: data.path, cwd: tmpdir(), port: 0, clock, speed: 1000, notificationLine: (l) => lines.push(l), secrets });
    // Up, down for a minute, up for two (resolved), down again for a minute (reopened: 2 minutes after recovering).
    const phases: [number, number, 'up' | 'down'][] = [
      [0, 1, 'up'],
      [1, 2, 'down'],
      [2, 4, 'up'],
      [4, 5, 'down'],
    ];
    for (const [from, to, state] of phases) {
      nginx.setState('us', state);
      await mode.run({ fromMs: minute(from), untilMs: minute(to), catchUp: 'replay' });
    }
    nginx.setState('us', 'up');
  }, 60_000);

  afterAll(async () => {
    await mode?.close();
    await nginx?.close();
    await pd?.close();
    await hook?.close();
    data.remove();
    secretsDir.remove();
  });

  const status = async () => (await (await fetch(`${mode.statusUrl}/status.json`)).json()) as ReturnType<typeof statusDocument>;

  it('reopened the incident: one incident, paged opened, resolved, opened again', () => {
    expect(lines.map((l) => l.replace(/^\S+ /, ''))).toEqual([
      '[DOWN] us is down: api, write-path failing from 3/3 probe regions · incident us-00001 opened',
      '[RESOLVED] us is up again after 1 min (1 min of it down) · incident us-00001 resolved',
      '[DOWN] us is down again, 2 min after recovering: incident us-00001 reopened',
    ]);
  });

  it('paged PagerDuty and the webhook through their routes with the same code as the Lambdas: one alert, re-triggered on the reopen', () => {
    expect(mode.channels.map((c) => [c.label, c.deliver !== null])).toEqual([
      ['PagerDuty oncall', true],
      ['webhook bridge', true],
    ]);
    const events = pd.requests.map((r) => JSON.parse(r.body) as { event_action: string; dedup_key: string });
    expect(events.map((e) => `${e.event_action} ${e.dedup_key}`)).toEqual([
      'trigger regionwatch/flappy/incident/us-00001',
      'resolve regionwatch/flappy/incident/us-00001',
      'trigger regionwatch/flappy/incident/us-00001',
    ]);
    expect(hook.requests.map((r) => (JSON.parse(r.body) as { notification: { event: string } }).notification.event)).toEqual(['opened', 'resolved', 'opened']);
    expect(hook.requests.every((r) => typeof r.headers['x-regionwatch-signature'] === 'string')).toBe(true);
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
    expect(now.regions[0]?.summary).toBe('us is recovering: no target failing since 09:05:00 UTC; incident us-00001 resolves after 10 min up (it flapped)');
    const page = await (await fetch(mode.statusUrl)).text();
    expect(page).toContain('data-region="us" data-verdict="up" data-incident="us-00001"');

    // `regionwatch status` prints the same from the same reader (in another process it reads through this one).
    const lines = formatStatus(await mode.engines.reader.currentStatus(), now.generatedAt);
    expect(lines[1]).toBe('  US    up         us is recovering: no target failing since 09:05:00 UTC; incident us-00001 resolves after 10 min up (it flapped)  [us-00001 open, down, recovering: resolves after 10 min up]');
  });
});
