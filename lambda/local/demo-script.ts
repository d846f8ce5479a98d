// The demo's story as data: the two days behind this project, replayed by the demo platform on a virtual clock.

export type DemoFault = 'down' | 'read-only';

export interface DemoEvent {
  region: string;
  fault: DemoFault;
  /** Epoch milliseconds, [from, to). */
  from: number;
  to: number;
  /** What happened, for the demo's narration. */
  note: string;
}

/** A stretch of scenario time the demo runs through; the quiet time between windows is skipped. */
export interface DemoWindow {
  label: string;
  from: number;
  to: number;
}

export interface DemoScript {
  platformRegions: string[];
  windows: DemoWindow[];
  events: DemoEvent[];
  /** Day 2's hour of fluctuations, epoch ms: pages sent inside it tell whether the checker stormed. */
  fluctuations: { from: number; to: number };
}

const MINUTE = 60_000;

/** Minutes after the hour, as epoch milliseconds. */
const at = (iso: string, plusMinutes = 0) => Date.parse(iso) + plusMinutes * MINUTE;

/**
 * Day 2's fluctuations after the second outage: [start minute, length in minutes] from the end of
 * the outage. Seven short drops adding up to 19 minutes, with a few minutes of recovery between.
 */
export const DAY2_FLUCTUATIONS: readonly (readonly [number, number])[] = [
  [3, 3],
  [10, 4],
  [19, 2],
  [27, 4],
  [37, 2],
  [45, 2],
  [52, 2],
];

/**
 * The story: day 1, US down 20 minutes, then read-only 62 minutes after a failover (reads fine,
 * writes refused); day 2, US down 20 minutes, then an hour of fluctuations adding 19 minutes down.
 * EU and APAC healthy throughout.
 */
export function demoScript(): DemoScript {
  const day1Outage = at('2026-04-14T14:00:00Z');
  const day2Outage = at('2026-04-15T10:00:00Z');
  const fluctuationsFrom = day2Outage + 20 * MINUTE;
  const events: DemoEvent[] = [
    { region: 'us', fault: 'down', from: day1Outage, to: day1Outage + 20 * MINUTE, note: 'US down: the primary database is unreachable' },
    {
      region: 'us',
      fault: 'read-only',
      from: day1Outage + 20 * MINUTE,
      to: day1Outage + 82 * MINUTE,
      note: 'US read-only after failover: reads served, writes refused',
    },
    { region: 'us', fault: 'down', from: day2Outage, to: fluctuationsFrom, note: 'US down again' },
    ...DAY2_FLUCTUATIONS.map(([start, length]) => ({
      region: 'us',
      fault: 'down' as const,
      from: fluctuationsFrom + start * MINUTE,
      to: fluctuationsFrom + (start + length) * MINUTE,
      note: 'US fluctuating',
    })),
  ];
  return {
    platformRegions: ['us', 'eu', 'apac'],
    windows: [
      { label: 'day 1', from: day1Outage - 5 * MINUTE, to: day1Outage + 90 * MINUTE },
      { label: 'day 2', from: day2Outage - 5 * MINUTE, to: fluctuationsFrom + 72 * MINUTE },
    ],
    events,
    fluctuations: { from: fluctuationsFrom, to: fluctuationsFrom + 60 * MINUTE },
  };
}

/** The fault a platform region has at `epochMs`, or undefined when it is healthy. */
export function faultAt(script: DemoScript, region: string, epochMs: number): DemoEvent | undefined {
  return script.events.find((e) => e.region === region && e.from <= epochMs && epochMs < e.to);
}

/** What the script says each region should report: minutes down and read-only. */
export function scriptedMinutes(script: DemoScript): Record<string, { downMinutes: number; readOnlyMinutes: number }> {
  const out: Record<string, { downMinutes: number; readOnlyMinutes: number }> = {};
  for (const region of script.platformRegions) out[region] = { downMinutes: 0, readOnlyMinutes: 0 };
  for (const e of script.events) {
    const figures = out[e.region];
    if (!figures) continue;
    const minutes = (e.to - e.from) / MINUTE;
    if (e.fault === 'down') figures.downMinutes += minutes;
    else figures.readOnlyMinutes += minutes;
  }
  return out;
}

/** Scenario seconds the demo runs through (quiet time between windows excluded). */
export function scriptSeconds(script: DemoScript): number {
  return script.windows.reduce((sum, w) => sum + (w.to - w.from) / 1000, 0);
}
