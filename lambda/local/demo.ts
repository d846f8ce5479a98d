// The demo: the bundled demo platform replays the story on a fast clock while local mode watches it, then the report.
import { parseConfig } from '../config/load';
import type { Notification } from '../core/notification';
import type { Report } from '../core/report';
import { ScaledClock } from './clock';
import { demoConfig, startDemoPlatform } from './demo-platform';
import { demoScript, scriptSeconds, type DemoScript } from './demo-script';
import { startLocalMode, type LocalMode } from './local-mode';
import type { RegionStatus } from '../status-page/model';

/** Scenario seconds per real second by default: the whole story (about 190 scenario minutes) in about a minute and a half. */
export const DEFAULT_DEMO_SPEED = 120;

export interface DemoProgress {
  /** Window label, such as `day 1`. */
  label: string;
  /** Clock time of the slot just run, epoch ms. */
  slotMs: number;
  /** Share of the scenario done, 0..1. */
  fraction: number;
  regions: RegionStatus[];
  openIncidents: number;
  notifications: number;
}

export interface DemoOptions {
  speed: number;
  /** Absolute data directory. */
  dataDir: string;
  cwd: string;
  port: number;
  signal?: AbortSignal;
  /** Called once the status page is up. */
  onStart?(info: { statusUrl: string; dataDir: string; script: DemoScript }): void;
  onProgress?(progress: DemoProgress): void;
  notificationLine(line: string): void;
  /** Real milliseconds between status page refreshes. */
  refreshMs?: number;
  /** Test hook: the local mode once it runs (to look at its status page mid-run). */
  onSlot?(mode: LocalMode, slotMs: number): void | Promise<void>;
}

export interface DemoOutcome {
  /** False when the demo was interrupted (Ctrl-C) before the end of the script. */
  completed: boolean;
  report: Report;
  notifications: Notification[];
  /** Pages (opened, escalated, reminder) sent while day 2 fluctuated, and its span. */
  fluctuations: { from: string; to: string; pages: number };
  wallSeconds: number;
  scenarioMinutes: number;
  statusUrl: string;
}

const PAGE_EVENTS = new Set(['opened', 'escalated', 'reminder']);

export async function runDemo(options: DemoOptions): Promise<DemoOutcome> {
  const script = demoScript();
  const first = script.windows[0];
  const last = script.windows[script.windows.length - 1];
  if (!first || !last) throw new Error('the demo script has no windows');
  const started = performance.now();
  const clock = new ScaledClock(first.from, options.speed);
  // Held until the first slot runs, so starting up takes no scenario time.
  clock.holdAt(first.from);
  const platform = await startDemoPlatform({ script, clock });
  let mode: LocalMode | undefined;
  try {
    const config = parseConfig(demoConfig(platform), 'demo config');
    const total = scriptSeconds(script) * 1000;
    let done = 0;
    let label = first.label;
    let currentSlot = first.from;
    mode = await startLocalMode({
      config,
      dataDir: options.dataDir,
      cwd: options.cwd,
      port: options.port,
      clock,
      speed: options.speed,
      notificationLine: options.notificationLine,
      refreshMs: options.refreshMs ?? 1000,
      period: { from: new Date(first.from).toISOString(), to: new Date(last.to).toISOString() },
      banner: () => `Demo: ${label} of ${script.windows.length}, replaying the script at ×${options.speed} (${Math.round((done / total) * 100)}% done)`,
    });
    const running = mode;
    options.onStart?.({ statusUrl: running.statusUrl, dataDir: running.dataDir.path, script });
    let regions: RegionStatus[] = [];
    let openIncidents = 0;
    let completed = true;
    for (const window of script.windows) {
      if (options.signal?.aborted) {
        completed = false;
        break;
      }
      label = window.label;
      clock.jumpTo(window.from);
      let slots = 0;
      await running.run({
        fromMs: window.from,
        untilMs: window.to,
        catchUp: 'replay',
        ...(options.signal ? { signal: options.signal } : {}),
        onSlot: async (report) => {
          currentSlot = report.slotMs;
          done = scriptSeconds({ ...script, windows: script.windows.filter((w) => w.to <= window.from) }) * 1000 + (report.slotMs - window.from);
          // One scenario minute between looks at the incident table: enough for a live line.
          if (slots++ % 6 === 0) {
            regions = await running.engines.reader.currentStatus();
            openIncidents = (await running.engines.reader.openIncidentRecords()).length;
          }
          await options.onSlot?.(running, report.slotMs);
          options.onProgress?.({ label: window.label, slotMs: report.slotMs, fraction: Math.min(1, done / total), regions, openIncidents, notifications: running.sent.length });
        },
      });
      if (options.signal?.aborted && currentSlot < window.to - config.defaults.intervalSeconds * 1000) completed = false;
    }
    const report = await running.engines.reader.report(first.from, completed ? last.to : currentSlot);
    const { fluctuations } = script;
    const pages = running.sent.filter((n) => {
      const at = Date.parse(n.at);
      return n.region === 'us' && PAGE_EVENTS.has(n.event) && at >= fluctuations.from && at < fluctuations.to;
    }).length;
    return {
      completed,
      report,
      notifications: [...running.sent],
      fluctuations: { from: new Date(fluctuations.from).toISOString(), to: new Date(fluctuations.to).toISOString(), pages },
      wallSeconds: (performance.now() - started) / 1000,
      scenarioMinutes: Math.round(scriptSeconds(script) / 60),
      statusUrl: running.statusUrl,
    };
  } finally {
    await mode?.close();
    await platform.close();
  }
}
