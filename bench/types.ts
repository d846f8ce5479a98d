// One row of `npm run bench`: a figure beside its goal and, where there is one, a baseline measured in the same run.

export interface BenchRow {
  /** Which part of regionwatch: probe, aggregator, infra, detection, cost. */
  area: string;
  figure: string;
  value: number;
  unit: string;
  /** Human-readable goal, such as "<= 2 s" or ">= 100000/s". */
  goal: string;
  /** Whether the value meets the goal. */
  ok: boolean;
  /** The same work done the plain way in the same run, for a ratio. */
  baseline?: { label: string; value: number };
  note?: string;
}

/** A benchmark module: runs its measurements (loopback only, bounded) and returns rows. */
export type Bench = () => Promise<BenchRow[]>;
