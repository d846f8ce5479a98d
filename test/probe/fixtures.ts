// Config and dependency builders shared by the probe tests.
import { Resolver } from 'node:dns/promises';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { configSchema, type RegionwatchConfig, type RegionwatchConfigInput } from '../../lambda/config/schema';
import type { HostLookup, ProbeLogger } from '../../lambda/probe/context';
import type { RoundDeps } from '../../lambda/probe/round';

type TargetInput = NonNullable<RegionwatchConfigInput['regions'][string]['targets']>[number];

/** A valid config whose probing section suits loopback tests: private addresses allowed, no jitter, wide caps. */
export function testConfig(
  regions: Record<string, TargetInput[]>,
  overrides: { probing?: Partial<RegionwatchConfig['probing']>; defaults?: Partial<RegionwatchConfig['defaults']> } = {},
): RegionwatchConfig {
  return configSchema.parse({
    platform: 'acme',
    probeRegions: ['us-east-1', 'eu-west-1', 'ap-southeast-1'],
    homeRegion: 'us-east-1',
    defaults: { intervalSeconds: 10, timeoutMs: 1500, degradedLatencyMs: 1000, ...overrides.defaults },
    regions: Object.fromEntries(Object.entries(regions).map(([name, targets]) => [name, { targets }])),
    probing: { allowPrivateAddresses: true, jitterMs: 0, concurrency: 200, perHostConcurrency: 100, ...overrides.probing },
  });
}

/** Real time: what the Lambda uses. */
export const realClock: Pick<RoundDeps, 'now' | 'sleep'> = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    try {
      await delay(ms, undefined, signal ? { signal } : {});
    } catch {
      // aborted: the caller checks its signal
    }
  },
};

/** A logger that keeps every line, to assert on the security log. */
export function memoryLogger(): ProbeLogger & { lines: { level: string; message: string; attributes?: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; attributes?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, attributes?: Record<string, unknown>) => void lines.push({ level, message, ...(attributes ? { attributes } : {}) });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/** Host lookups answered by a loopback DNS server (so tests never touch the machine's resolver). */
export function loopbackLookup(resolver: string): HostLookup {
  return async (hostname) => {
    const client = new Resolver({ timeout: 500, tries: 1 });
    client.setServers([resolver]);
    const addresses = await client.resolve4(hostname);
    return addresses.map((address) => ({ address, family: 4 as const }));
  };
}

/** Host lookups from a fixed table; unknown names fail like NXDOMAIN. */
export function tableLookup(table: Record<string, string[]>): HostLookup {
  return async (hostname) => {
    const found = table[hostname];
    if (!found) throw Object.assign(new Error(`queryA ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: address.includes(':') ? (6 as const) : (4 as const) }));
  };
}

/** A clock that starts at `startAt` (epoch ms) and runs `speed` times faster, sleeping consistently with itself. */
export function warpClock(startAt: number, speed: number): Pick<RoundDeps, 'now' | 'sleep'> {
  const realStart = performance.now();
  return {
    now: () => startAt + (performance.now() - realStart) * speed,
    sleep: async (ms, signal) => {
      try {
        await delay(Math.max(0, ms / speed), undefined, signal ? { signal } : {});
      } catch {
        // aborted
      }
    },
  };
}

/**
 * Waits until the real clock is at least `marginMs` before the end of its `intervalSeconds` slot: a test whose steps
 * must fall in one slot (a claim per slot) does not straddle a slot boundary.
 */
export async function awayFromSlotEdge(intervalSeconds: number, marginMs = 3000): Promise<void> {
  const intoSlot = Date.now() % (intervalSeconds * 1000);
  const left = intervalSeconds * 1000 - intoSlot;
  if (left < marginMs) await delay(left + 50);
}
