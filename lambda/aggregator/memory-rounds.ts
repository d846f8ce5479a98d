// Round records in memory, for the simulator and tests: the same readRounds contract as ResultsStore, no network.
import { isConfirmation, type RoundRecord } from '../core/results';
import type { RoundsReader } from './engine';

export class MemoryRounds implements RoundsReader {
  private readonly bySlot = new Map<number, Map<string, RoundRecord>>();
  /** Query-equivalent reads made, for call counts. */
  reads = 0;

  /** Stores a round or confirmation; writing the same key (slot, probe region, shard or confirmation batch, part) again replaces it, as the results table does. */
  write(round: RoundRecord): void {
    const slot = this.bySlot.get(round.slot) ?? new Map<string, RoundRecord>();
    slot.set(`${round.probeRegion}#${isConfirmation(round) ? `confirm:${round.batch ?? ''}` : `round:${round.shard ?? 0}`}#${round.part}`, structuredClone(round));
    this.bySlot.set(round.slot, slot);
  }

  /** Drops rounds older than `slot` (the results table's TTL). */
  expireBefore(slot: number): void {
    for (const s of [...this.bySlot.keys()]) if (s < slot) this.bySlot.delete(s);
  }

  async readRounds(fromSlot: number, toSlot: number): Promise<RoundRecord[]> {
    this.reads++;
    const out: RoundRecord[] = [];
    for (const [slot, rounds] of this.bySlot) if (slot >= fromSlot && slot <= toSlot) out.push(...rounds.values());
    return out.sort((a, b) => a.slot - b.slot || a.probeRegion.localeCompare(b.probeRegion) || (a.shard ?? 0) - (b.shard ?? 0) || a.part - b.part);
  }
}
