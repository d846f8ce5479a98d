// When each probe region probes inside a slot (pure): staggered rounds, shared by the prober's scheduling, local mode,
// the simulator and the evaluation, so all of them place a round at the same instant.
//
// With N probe regions and `probing.detection` `confirm` or `staggered`, the i-th probe region of `probeRegions` runs
// its round of slot s at s + i × interval / N: the platform is sampled N times per interval from different places,
// while each probe region still sends one request per target per interval. With `rounds` (the first design) every
// probe region starts at the slot's start.
import type { RegionwatchConfig } from '../config/schema';

export type DetectionMode = RegionwatchConfig['probing']['detection'];

/** Whether rounds are staggered across the slot (every mode but the first design's `rounds`). */
export function isStaggered(mode: DetectionMode): boolean {
  return mode !== 'rounds';
}

/** Whether a failing check asks the other probe regions to confirm it (needs someone to ask). */
export function confirmsFailures(config: Pick<RegionwatchConfig, 'probing' | 'probeRegions'>): boolean {
  return config.probing.detection === 'confirm' && config.probeRegions.length > 1;
}

/**
 * Milliseconds after its slot's start at which `probeRegion`'s rounds start: its place in `probeRegions` times the
 * interval over the number of probe regions (0 for the first, and for every one with `rounds`). A probe region the
 * config does not name starts at 0.
 */
export function staggerOffsetMs(config: Pick<RegionwatchConfig, 'probing' | 'probeRegions' | 'defaults'>, probeRegion: string): number {
  if (!isStaggered(config.probing.detection)) return 0;
  const index = config.probeRegions.indexOf(probeRegion);
  if (index <= 0) return 0;
  return Math.round((index * config.defaults.intervalSeconds * 1000) / config.probeRegions.length);
}

/** Every probe region's offset, in config order. */
export function staggerOffsets(config: Pick<RegionwatchConfig, 'probing' | 'probeRegions' | 'defaults'>): Record<string, number> {
  return Object.fromEntries(config.probeRegions.map((p) => [p, staggerOffsetMs(config, p)]));
}

/** Epoch ms at which `probeRegion`'s round of `slot` (epoch seconds) starts. */
export function roundStartMs(slot: number, offsetMs: number): number {
  return slot * 1000 + offsetMs;
}

/** FNV-1a: a stable spread of start offsets per target and slot, the same in every run and every probe region. */
export function jitterOffsetMs(key: string, windowMs: number): number {
  if (windowMs <= 0) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % (Math.floor(windowMs) + 1);
}

/** No request starts later than this before the round deadline, jitter or not. */
export const START_MARGIN_MS = 100;

/**
 * The window a round spreads its request starts over: `probing.jitterMs`, cut so that a check started at its end
 * still ends (its `timeoutMs`) before the round deadline, and so that it starts inside its slot: a staggered round
 * begins late in the slot, and its checks must still be the slot's.
 */
export function jitterWindowMs(input: { jitterMs: number; startedAt: number; deadlineAt: number; timeoutMs: number; slotEndMs: number }): number {
  const window = Math.min(input.jitterMs, input.deadlineAt - input.startedAt - input.timeoutMs - START_MARGIN_MS);
  // A round run outside its slot's time (a test, a replay) has no slot end to keep to.
  return input.slotEndMs > input.startedAt ? Math.min(window, input.slotEndMs - input.startedAt - 1) : window;
}
