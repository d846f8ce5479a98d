// `regionwatch cost`: the config's estimated monthly AWS bill, line by line, beside Route 53 health checks and Synthetics canaries.
import { resolve } from 'node:path';
import { EXIT, UsageError, type Command } from './command';
import { ConfigError, loadConfigFile } from '../config/load';
import { ALLOWED_INTERVALS, type RegionwatchConfig } from '../config/schema';
import { estimateCost, withInterval, withTargetCount, type Baseline, type BillLine, type CostEstimate, type UsageAssumptions } from '../cost/model';
import { count } from '../core/words';

const usd = (n: number) => `$${n < 0.005 && n > 0 ? n.toFixed(4) : n.toFixed(2)}`;
const qty = (n: number) => (Number.isInteger(n) || n >= 1000 ? Math.round(n).toLocaleString('en-US') : n.toFixed(n < 1 ? 3 : 2));

function table(rows: string[][], align: Array<'l' | 'r'>): string[] {
  const widths = align.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (align[i] === 'r' ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

function lineRows(lines: readonly BillLine[]): string[][] {
  return lines.map((l) => [l.service, l.item, `${qty(l.quantity)} ${l.unit}`, usd(l.monthly)]);
}

function baselineLine(b: Baseline): string {
  return `  ${b.label}: ${usd(b.total)} a month`;
}

/** The human report: the bill, the totals, the largest line, and the alternatives. */
export function formatCostReport(e: CostEstimate): string[] {
  const i = e.inputs;
  const out: string[] = [
    `regionwatch cost for ${i.platform}: ${count(i.targets, 'target')} in ${count(i.platformRegions, 'platform region')}, from ${count(i.probeRegions, 'probe region')}, every ${i.intervalSeconds} s`,
    `rounds fan out over ${count(i.shards, 'shard')} per probe region (${qty(Math.ceil(i.checksPerShard))} checks each, ${qty(i.shardRoundSeconds)} s busy per round)`,
    `${qty(i.checksPerMonth)} checks a month; round items ${Math.round(i.roundItemBytes)} B Brotli-packed (${i.roundItemWriteUnits} WRU); results kept ${i.resultRetentionHours} h`,
    `prices: ${e.pricesAsOf}`,
    '',
  ];
  const rows = [['service', 'item', 'quantity a month', 'monthly'], ...lineRows(e.lines)];
  out.push(...table(rows, ['l', 'l', 'r', 'r']));
  out.push('');
  out.push(`total at list prices:                 ${usd(e.total)} a month`);
  out.push(`with the always-free allowances:      ${usd(e.totalAfterFree)} a month (if nothing else in the account uses them)`);
  out.push(`largest line: ${e.dominant.service} ${e.dominant.item}, ${usd(e.dominant.monthly)} (${Math.round(e.dominant.share * 100)}%)`);
  out.push('');
  out.push('the same targets bought elsewhere:');
  out.push(baselineLine(e.route53));
  for (const g of e.route53.gaps.slice(0, 4)) out.push(`    cannot: ${g}`);
  if (e.route53.gaps.length > 4) out.push(`    ... and ${e.route53.gaps.length - 4} more`);
  out.push(baselineLine(e.synthetics.perProbeRegion));
  out.push(baselineLine(e.synthetics.perTarget));
  out.push(`    ${e.synthetics.perTarget.gaps.join('; ')}`);
  out.push('');
  out.push('assumptions (see docs/cost.md): prober ' + `${e.assumptions.proberMemoryMb} MB, ${e.assumptions.proberScheduling}; detection ${e.inputs.detection}${e.inputs.confirming ? ` (${e.assumptions.confirmationBatchesPerMonth} confirmation request batches a month)` : ''}; aggregator ${e.inputs.aggregatorBatchesPerRound} invocations per round per region (${e.assumptions.aggregatorDurationMs} ms acting, ${e.assumptions.aggregatorStandbyDurationMs} ms standing by), a ${e.inputs.aggregatorWindowSlots}-slot read window; ${e.assumptions.notificationsPerMonth} notifications a month`);
  return out;
}

function positiveInt(value: string | boolean | string[] | undefined, flag: string): number | undefined {
  if (value === undefined || typeof value === 'boolean' || Array.isArray(value)) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 100_000) throw new UsageError(`${flag} must be a whole number between 0 and 100000, got "${value}"`);
  return n;
}

export const costCommand: Command = {
  name: 'cost',
  summary: "the config's estimated monthly AWS bill, line by line, beside Route 53 and Synthetics",
  usage: 'regionwatch cost [--config FILE] [--json] [--targets N] [--interval S] [--prober-memory MB] [--prober-scheduling wait-in-minute|invocation-per-round]',
  options: {
    targets: { type: 'string' },
    interval: { type: 'string' },
    'prober-memory': { type: 'string' },
    'prober-scheduling': { type: 'string' },
  },
  async run({ values }, io) {
    const targets = positiveInt(values.targets, '--targets');
    const interval = positiveInt(values.interval, '--interval');
    const memory = positiveInt(values['prober-memory'], '--prober-memory');
    const scheduling = values['prober-scheduling'];
    if (interval !== undefined && !(ALLOWED_INTERVALS as readonly number[]).includes(interval)) {
      throw new UsageError(`--interval must divide a minute: one of ${ALLOWED_INTERVALS.join(', ')}`);
    }
    if (memory !== undefined && (memory < 128 || memory > 10_240)) throw new UsageError('--prober-memory must be between 128 and 10240 (MB)');
    if (scheduling !== undefined && scheduling !== 'wait-in-minute' && scheduling !== 'invocation-per-round') {
      throw new UsageError('--prober-scheduling must be wait-in-minute or invocation-per-round');
    }

    const file = resolve(io.cwd, String(values.config));
    let config: RegionwatchConfig;
    try {
      config = loadConfigFile(file);
    } catch (error: unknown) {
      if (!(error instanceof ConfigError)) throw error;
      if (values.json) io.out(JSON.stringify({ ok: false, file, problems: error.problems }, null, 2));
      else io.err(error.message.replace(file, String(values.config)));
      return EXIT.usage;
    }
    if (targets !== undefined) config = withTargetCount(config, targets);
    if (interval !== undefined) config = withInterval(config, interval as RegionwatchConfig['defaults']['intervalSeconds']);
    const overrides: Partial<UsageAssumptions> = {};
    if (memory !== undefined) overrides.proberMemoryMb = memory;
    if (scheduling === 'wait-in-minute' || scheduling === 'invocation-per-round') overrides.proberScheduling = scheduling;

    const estimate = estimateCost(config, overrides);
    if (values.json) io.out(JSON.stringify(estimate, (_key, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1e6) / 1e6 : v), 2));
    else for (const line of formatCostReport(estimate)) io.out(line);
    return EXIT.ok;
  },
};
