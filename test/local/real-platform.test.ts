// The story on real parts: local mode's probers, aggregator and notifications against Debian's nginx as the platform
// (its names served by dnsmasq). US goes down (503s, then its edge stops altogether), comes back read-only, then up;
// EU and APAC, on another nginx, stay fine. nginx's access log is the record of every request that reached a region:
// with confirm on failure (the default) the slot in which US starts failing also carries each probe region's one
// confirmation per target, and no other slot does.
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambda/config/load';
import type { IncidentRecord } from '../../lambda/core/incident-record';
import type { Notification } from '../../lambda/core/notification';
import { ScaledClock } from '../../lambda/local/clock';
import { startLocalMode } from '../../lambda/local/local-mode';
import { USER_AGENT } from '../../lambda/version';
import { startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq';
import { startNginxPlatform, type AccessLogEntry, type NginxPlatform } from '../helpers/nginx-platform';
import { tempDir } from './harness';

const START = Date.parse('2026-04-14T14:00:00Z');
const INTERVAL_SECONDS = 10;
const minute = (m: number) => START + m * 60_000;
const PROBE_REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-1'];

/** US's state by minute of the story: `stopped` is its nginx not running at all (connections refused). */
type UsPhase = 'up' | 'down' | 'stopped' | 'read-only';
function usPhaseAt(ms: number): UsPhase {
  if (ms < minute(1)) return 'up';
  if (ms < minute(3)) return 'down';
  if (ms < minute(5)) return 'stopped';
  if (ms < minute(9)) return 'read-only';
  return 'up';
}

/** The slot in which US starts failing: each probe region's round sees it, and every probe region confirms each target once. */
const FIRST_FAILING_SLOT = minute(1);

/** `GET api.us.acme.test /us/health us-east-1`: one request as the platform saw it. */
const requestKey = (e: AccessLogEntry) => `${e.method} ${e.host} ${e.uri} ${e.probeRegion}`;

describe('local mode against nginx as the platform: US down, then read-only, then up', () => {
  let usEdge: NginxPlatform;
  let otherEdge: NginxPlatform;
  let dns: Dnsmasq;
  let sent: Notification[];
  let incidents: IncidentRecord[];
  const perSlot: { slotMs: number; phase: UsPhase; us: string[]; others: string[] }[] = [];
  const data = tempDir('regionwatch-real-platform-');

  beforeAll(async () => {
    [usEdge, otherEdge, dns] = await Promise.all([
      startNginxPlatform({ regions: ['us'] }),
      startNginxPlatform({ regions: ['eu', 'apac'] }),
      startDnsmasq({ zone: 'acme.test', hosts: { 'api.us.acme.test': ['127.0.0.1'], 'api.eu.acme.test': ['127.0.0.1'], 'api.apac.acme.test': ['127.0.0.1'] } }),
    ]);
    const targets = (region: string, edge: NginxPlatform) => [
      { name: 'api', type: 'http', url: `http://api.${region}.acme.test:${edge.port}/${region}/health`, expect: { status: [200], bodyContains: 'ok' } },
      { name: 'write-path', type: 'http', method: 'POST', role: 'write-probe', url: `http://api.${region}.acme.test:${edge.port}/${region}/canary`, body: '{"canary":true}' },
    ];
    const config = parseConfig(
      {
        platform: 'acme',
        probeRegions: PROBE_REGIONS,
        homeRegion: 'us-east-1',
        defaults: { intervalSeconds: INTERVAL_SECONDS, timeoutMs: 2000, failureThreshold: 2, recoveryThreshold: 3, quorum: 2 },
        regions: { us: { targets: targets('us', usEdge) }, eu: { targets: targets('eu', otherEdge) }, apac: { targets: targets('apac', otherEdge) } },
        probing: { allowPrivateAddresses: true, jitterMs: 0 },
      },
      'real platform story config',
    );
    const clock = new ScaledClock(minute(0), 1000);
    clock.holdAt(minute(0));
    const mode = await startLocalMode({ config, dataDir: data.path, cwd: tmpdir(), port: 0, clock, speed: 1000, notificationLine: () => undefined, lookup: dns.lookup });
    try {
      let usSeen = 0;
      let othersSeen = 0;
      const apply = async (phase: UsPhase) => {
        if (phase === 'stopped') await usEdge.stop();
        else {
          await usEdge.start();
          usEdge.setState('us', phase);
        }
      };
      let phase = usPhaseAt(minute(0));
      await apply(phase);
      await mode.run({
        fromMs: minute(0),
        untilMs: minute(12),
        catchUp: 'replay',
        // Between slots the clock is held: read what reached nginx in this slot, then set up the next one.
        onSlot: async ({ slotMs }) => {
          // nginx logs a request once it has answered; the prober may have its answer a moment before that.
          const expected = { us: phase === 'stopped' ? 0 : slotMs === FIRST_FAILING_SLOT ? 12 : 6, others: 12 };
          for (let wait = 0; wait < 100; wait++) {
            if (usEdge.accessLog().length - usSeen >= expected.us && otherEdge.accessLog().length - othersSeen >= expected.others) break;
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
          const us = usEdge.accessLog().slice(usSeen);
          const others = otherEdge.accessLog().slice(othersSeen);
          usSeen += us.length;
          othersSeen += others.length;
          perSlot.push({ slotMs, phase, us: us.map(requestKey), others: others.map(requestKey) });
          const next = usPhaseAt(slotMs + INTERVAL_SECONDS * 1000);
          if (next !== phase) await apply(next);
          phase = next;
        },
      });
      sent = [...mode.sent];
      incidents = await mode.engines.reader.incidentRecordsBetween(minute(0), minute(12));
    } finally {
      await mode.close();
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all([usEdge?.close(), otherEdge?.close(), dns?.close()]);
    data.remove();
  });

  it('pages once when US goes down (503s, then refused: the same incident), once when it is read-only, once when it is resolved', () => {
    expect(sent.map((n) => [n.event, n.region, n.severity])).toEqual([
      ['opened', 'us', 'down'],
      ['deescalated', 'us', 'read-only'],
      ['resolved', 'us', 'up'],
    ]);
    const at = sent.map((n) => (Date.parse(n.at) - START) / 1000);
    // The outage is confirmed within its first slot (staggered rounds and confirmations: within 12 s of its start);
    // the read-only change within the failure threshold (2 slots), resolved after the recovery threshold (3 slots).
    expect(at[0]).toBeGreaterThanOrEqual(60);
    expect(at[0]).toBeLessThanOrEqual(60 + 12);
    expect(at[1]).toBeGreaterThanOrEqual(300);
    expect(at[1]).toBeLessThanOrEqual(300 + 3 * INTERVAL_SECONDS);
    expect(at[2]).toBeGreaterThanOrEqual(540);
    expect(at[2]).toBeLessThanOrEqual(540 + 4 * INTERVAL_SECONDS);
    expect(new Set(sent.map((n) => n.dedupKey)).size).toBe(3);
  });

  it('keeps one incident with the minutes nginx was down and read-only', () => {
    expect(incidents).toHaveLength(1);
    const [incident] = incidents;
    expect(incident).toMatchObject({ region: 'us', status: 'resolved', severity: 'down' });
    expect(incident?.downSeconds).toBe(4 * 60);
    expect(incident?.readOnlySeconds).toBe(4 * 60);
    expect(incident?.degradedSeconds).toBe(4 * 60);
  });

  it('sent exactly one request per target per probe region per slot, and one confirmation more only in the slot US started failing, as nginx logged them, and none to a stopped edge', () => {
    expect(perSlot).toHaveLength(72);
    const expectedKeys = (region: string) =>
      PROBE_REGIONS.flatMap((p) => [`GET api.${region}.acme.test /${region}/health ${p}`, `POST api.${region}.acme.test /${region}/canary ${p}`]).sort();
    for (const slot of perSlot) {
      expect({ slot: new Date(slot.slotMs).toISOString(), requests: [...slot.others].sort() }).toEqual({
        slot: new Date(slot.slotMs).toISOString(),
        requests: [...expectedKeys('eu'), ...expectedKeys('apac')].sort(),
      });
      expect({ slot: new Date(slot.slotMs).toISOString(), requests: [...slot.us].sort() }).toEqual({
        slot: new Date(slot.slotMs).toISOString(),
        requests: slot.phase === 'stopped' ? [] : slot.slotMs === FIRST_FAILING_SLOT ? [...expectedKeys('us'), ...expectedKeys('us')].sort() : expectedKeys('us'),
      });
    }
  });

  it('named itself on every request: its User-Agent and the probe region header', () => {
    const all = [...usEdge.accessLog(), ...otherEdge.accessLog()];
    // 72 slots of EU and APAC, 60 of US (12 stopped), and 6 confirmations (2 targets × 3 probe regions).
    expect(all.length).toBe(72 * 12 + 60 * 6 + 6);
    expect(new Set(all.map((e) => e.userAgent))).toEqual(new Set([USER_AGENT]));
    expect(new Set(all.map((e) => e.probeRegion))).toEqual(new Set(PROBE_REGIONS));
  });
});
