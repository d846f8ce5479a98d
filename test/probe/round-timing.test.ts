// A config that validates leaves a queued round time to run: the config rule and the prober's late-drop rule agree.
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../lambda/config/load';
import { ROUND_DELIVERY_SLACK_MS } from '../../lambda/config/round-timing';
import { ALLOWED_INTERVALS } from '../../lambda/config/schema';
import { runQueuedRound } from '../../lambda/probe/queued-round';
import type { RoundDeps } from '../../lambda/probe/round';

const DELIVERY_SLACK_MS = ROUND_DELIVERY_SLACK_MS;

function configWith(defaults: { intervalSeconds: number; timeoutMs: number }, targetTimeoutMs?: number, targetIntervalSeconds?: number) {
  return {
    platform: 'acme',
    probeRegions: ['us-east-1', 'eu-west-1'],
    homeRegion: 'us-east-1',
    defaults: { ...defaults, quorum: 1 },
    regions: { us: { targets: [{ name: 'api', type: 'https', url: 'https://api.example.com/health', ...(targetTimeoutMs === undefined ? {} : { timeoutMs: targetTimeoutMs }), ...(targetIntervalSeconds === undefined ? {} : { intervalSeconds: targetIntervalSeconds }) }] } },
  };
}

/** The largest timeoutMs (in steps of 100 ms) the validator accepts for this interval. */
function largestValidTimeout(intervalSeconds: number, where: 'defaults' | 'target', targetIntervalSeconds?: number): number {
  let largest = 0;
  for (let timeoutMs = 100; timeoutMs <= (targetIntervalSeconds ?? intervalSeconds) * 1000 + 1000; timeoutMs += 100) {
    const raw = where === 'defaults' ? configWith({ intervalSeconds, timeoutMs }) : configWith({ intervalSeconds, timeoutMs: 100 }, timeoutMs, targetIntervalSeconds);
    if (validateConfig(raw).ok) largest = timeoutMs;
  }
  return largest;
}

describe('round timing: every valid config can run its queued rounds', () => {
  for (const intervalSeconds of ALLOWED_INTERVALS) {
    for (const where of ['defaults', 'target'] as const) {
      it(`interval ${intervalSeconds} s, the largest valid timeoutMs in ${where}: a round delivered ${DELIVERY_SLACK_MS} ms late still runs`, async () => {
        const timeoutMs = largestValidTimeout(intervalSeconds, where);
        expect(timeoutMs).toBeGreaterThan(0);
        const outcome = validateConfig(where === 'defaults' ? configWith({ intervalSeconds, timeoutMs }) : configWith({ intervalSeconds, timeoutMs: 100 }, timeoutMs));
        if (!outcome.ok) throw new Error(JSON.stringify(outcome.problems));
        const slot = 1_776_175_200; // a multiple of 60
        let checks = 0;
        const deps: RoundDeps = {
          now: () => slot * 1000 + DELIVERY_SLACK_MS,
          // The round's deadline timer (the one sleep with a signal) never fires before the round ends; jitter waits are instant.
          sleep: (_ms, signal) => (signal ? new Promise((resolve) => signal.addEventListener('abort', () => resolve())) : Promise.resolve()),
          check: async (t) => {
            checks++;
            return { region: t.region, target: t.name, role: 'read', status: 'up', latencyMs: 1 };
          },
        };
        const summary = await runQueuedRound(
          { config: outcome.config, probeRegion: 'us-east-1', message: { slot, minute: slot, probeRegion: 'us-east-1', clockOffsetMs: 0 }, store: { writeRound: async () => 1 } },
          deps,
        );
        expect(summary.outcome).toBe('ran');
        expect(checks).toBe(1);
      });
    }
  }
});

describe('round timing: a target with a longer interval than the rounds', () => {
  it('its largest valid timeout still fits the default slot, so the rounds it is due in run', async () => {
    // Rounds every 10 s; the target is due every 30 s, in every third round.
    const timeoutMs = largestValidTimeout(10, 'target', 30);
    expect(timeoutMs).toBe(8000);
    const outcome = validateConfig(configWith({ intervalSeconds: 10, timeoutMs: 100 }, timeoutMs, 30));
    if (!outcome.ok) throw new Error(JSON.stringify(outcome.problems));
    const slot = 1_776_175_200; // a multiple of 60, so the 30-second target is due
    let checks = 0;
    const summary = await runQueuedRound(
      { config: outcome.config, probeRegion: 'us-east-1', message: { slot, minute: slot, probeRegion: 'us-east-1', clockOffsetMs: 0 }, store: { writeRound: async () => 1 } },
      {
        now: () => slot * 1000 + DELIVERY_SLACK_MS,
        sleep: (_ms, signal) => (signal ? new Promise((resolve) => signal.addEventListener('abort', () => resolve())) : Promise.resolve()),
        check: async (t) => {
          checks++;
          return { region: t.region, target: t.name, role: 'read', status: 'up', latencyMs: 1 };
        },
      },
    );
    expect(summary.outcome).toBe('ran');
    expect(checks).toBe(1);
  });
});
