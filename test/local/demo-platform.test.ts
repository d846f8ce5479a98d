import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambda/config/load';
import { ScaledClock } from '../../lambda/local/clock';
import { demoConfig, startDemoPlatform, type DemoPlatform } from '../../lambda/local/demo-platform';
import { demoScript, scriptedMinutes } from '../../lambda/local/demo-script';

const MINUTE = 60_000;

describe('the demo script', () => {
  it('tells the story: US 59 minutes down and 62 read-only, EU and APAC untouched', () => {
    expect(scriptedMinutes(demoScript())).toEqual({
      us: { downMinutes: 59, readOnlyMinutes: 62 },
      eu: { downMinutes: 0, readOnlyMinutes: 0 },
      apac: { downMinutes: 0, readOnlyMinutes: 0 },
    });
  });

  it('keeps every event inside a window the demo runs through', () => {
    const script = demoScript();
    for (const e of script.events) {
      expect(script.windows.some((w) => w.from <= e.from && e.to <= w.to)).toBe(true);
    }
  });
});

describe('the demo platform', () => {
  let platform: DemoPlatform | undefined;
  afterEach(async () => {
    await platform?.close();
    platform = undefined;
  });

  it('answers as the script says at each point of the virtual clock, and counts requests per probe region', async () => {
    const script = demoScript();
    const day1 = script.windows[0]?.from ?? 0;
    const clock = new ScaledClock(day1, 1);
    clock.holdAt(day1);
    platform = await startDemoPlatform({ script, clock });
    const us = platform.regions.find((r) => r.region === 'us')?.url ?? '';
    const eu = platform.regions.find((r) => r.region === 'eu')?.url ?? '';
    const check = async (base: string) => {
      const headers = { 'x-regionwatch-probe-region': 'eu-west-1' };
      const read = await fetch(`${base}/health`, { headers });
      const write = await fetch(`${base}/canary`, { method: 'POST', body: '{}', headers });
      await read.text();
      await write.text();
      return [read.status, write.status];
    };
    expect(await check(us)).toEqual([200, 201]);
    clock.jumpTo(day1 + 6 * MINUTE); // 14:01, US down
    expect(await check(us)).toEqual([503, 503]);
    expect(await check(eu)).toEqual([200, 201]);
    clock.jumpTo(day1 + 30 * MINUTE); // 14:25, read-only after the failover
    expect(await check(us)).toEqual([200, 503]);
    clock.jumpTo(day1 + 90 * MINUTE); // 15:25, recovered
    expect(await check(us)).toEqual([200, 201]);
    expect(platform.requestCounts().get('us /health eu-west-1')).toBe(4);
  });

  it('produces a valid config that allows loopback targets', async () => {
    const script = demoScript();
    platform = await startDemoPlatform({ script, clock: new ScaledClock(0, 1) });
    const config = parseConfig(demoConfig(platform), 'demo config');
    expect(config.probing.allowPrivateAddresses).toBe(true);
    expect(Object.keys(config.regions)).toEqual(['us', 'eu', 'apac']);
    expect(config.regions.us?.targets.map((t) => t.name)).toEqual(['api', 'write-path']);
  });
});
