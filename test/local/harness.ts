// Local mode against the demo platform on a held fast clock, for the restart and status page tests.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../lambda/config/load';
import type { RegionwatchConfig } from '../../lambda/config/schema';
import type { NotificationBody } from '../../lambda/core/notification';
import { ScaledClock } from '../../lambda/local/clock';
import { demoConfig, startDemoPlatform, type DemoPlatform } from '../../lambda/local/demo-platform';
import { demoScript, type DemoScript } from '../../lambda/local/demo-script';
import { startLocalMode, type LocalMode } from '../../lambda/local/local-mode';

export const MINUTE = 60_000;

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Day 1 of the demo script at `minutes` after its 14:00 outage began (negative: before). */
export function day1(script: DemoScript, minutes: number): number {
  const outage = script.events[0]?.from ?? 0;
  return outage + minutes * MINUTE;
}

export interface Harness {
  script: DemoScript;
  platform: DemoPlatform;
  config: RegionwatchConfig;
  clock: ScaledClock;
  /** Starts local mode over the data dir with the clock at `startMs` (held there until the first slot). */
  start(dataDir: string, startMs: number, options?: { refreshMs?: number }): Promise<LocalMode>;
  lines: string[];
  close(): Promise<void>;
}

/** One demo platform; local mode can be started (and restarted) over it on a fresh clock each time. */
export async function harness(speed = 1000): Promise<Harness> {
  const script = demoScript();
  const lines: string[] = [];
  // The platform reads the clock of the current run through this holder.
  const holder = { clock: new ScaledClock(script.windows[0]?.from ?? 0, speed) };
  const platform = await startDemoPlatform({ script, clock: { now: () => holder.clock.now(), sleep: (ms, signal) => holder.clock.sleep(ms, signal), sleepUntil: (at, signal) => holder.clock.sleepUntil(at, signal) } });
  const config = parseConfig(demoConfig(platform), 'demo config');
  return {
    script,
    platform,
    config,
    get clock() {
      return holder.clock;
    },
    lines,
    start: async (dataDir, startMs, options = {}) => {
      holder.clock = new ScaledClock(startMs, speed);
      holder.clock.holdAt(startMs);
      return startLocalMode({
        config,
        dataDir,
        cwd: tmpdir(),
        port: 0,
        clock: holder.clock,
        speed,
        notificationLine: (line) => lines.push(line),
        ...(options.refreshMs !== undefined ? { refreshMs: options.refreshMs } : {}),
      });
    },
    close: () => platform.close(),
  };
}

/** Every notification local mode appended to `<dataDir>/notifications.jsonl`. */
export function readNotifications(dataDir: string): NotificationBody[] {
  let text = '';
  try {
    text = readFileSync(join(dataDir, 'notifications.jsonl'), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as NotificationBody);
}
