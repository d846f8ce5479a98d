// Our own refusals: a result the prober's SSRF guard refused (`blocked-address`) says what regionwatch would not do,
// not what the platform did. Evaluation keeps them out of every verdict (no probe region counts one, as up or as down)
// and the checker alerts about them instead (checker.ts): a refusal of ours is a config problem, never a platform page.
import type { ProbeResult } from './results';

/** A result that is regionwatch's own refusal to probe, not a platform verdict. */
export function isOwnRefusal(result: Pick<ProbeResult, 'errorClass'>): boolean {
  return result.errorClass === 'blocked-address';
}

/** A target regionwatch refused to probe at one slot, from the probe regions whose newest result of it is a refusal. */
export interface TargetRefusal {
  target: string;
  probeRegions: string[];
  /** The guard's words: the address kind and the fix, never the address (the detail of the first probe region's refusal). */
  detail: string;
}

/**
 * The refusals of one window, kept beside its results rather than among them, in the window's cells (evaluate.ts
 * numbers a cell by probe region, target and slot; a row is one probe region's cells of one target). For a config
 * none of whose targets is refused it stays empty, and asking it costs nothing.
 */
export class WindowRefusals {
  private readonly cells = new Map<number, ProbeResult>();

  /** `hasResult(cell)`: the window holds a platform result in that cell. */
  constructor(private readonly hasResult: (cell: number) => boolean) {}

  note(cell: number, refusal: ProbeResult): void {
    this.cells.set(cell, refusal);
  }

  get empty(): boolean {
    return this.cells.size === 0;
  }

  /**
   * The refusal that is a row's newest observation at slot index k within `lookback` slots before it; undefined when
   * a platform result is newer (the target is probed again) or there is none.
   */
  newestAt(row: number, k: number, lookback: number): ProbeResult | undefined {
    if (this.cells.size === 0) return undefined;
    for (let j = k; j >= Math.max(0, k - lookback); j--) {
      const refusal = this.cells.get(row + j);
      if (refusal) return refusal;
      if (this.hasResult(row + j)) return undefined;
    }
    return undefined;
  }
}
