// `npm run bench`: every figure beside its goal and a baseline measured in the same run; writes BENCHMARKS.md.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { Bench, BenchRow } from './types';

// The bench modules are imported below, after this: the SDK's Node-version notice would only clutter the table.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Each module measures one part; they run one after another so they do not share the two cores. */
const MODULES = ['./probe', './shards', './aggregator', './simulate', './status-page', './infra', './cost'] as const;

function format(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2);
}

function render(rows: BenchRow[]): string {
  const lines = [
    '| area | figure | value | goal | baseline (same run) | ratio | ok |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const baseline = r.baseline ? `${r.baseline.label}: ${format(r.baseline.value)} ${r.unit}` : '';
    const ratio = r.baseline && r.baseline.value !== 0 ? `${(r.value / r.baseline.value).toFixed(2)}×` : '';
    lines.push(`| ${r.area} | ${r.figure}${r.note ? ` (${r.note})` : ''} | ${format(r.value)} ${r.unit} | ${r.goal} | ${baseline} | ${ratio} | ${r.ok ? 'yes' : 'NO'} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const rows: BenchRow[] = [];
  for (const path of MODULES) {
    if (only.length > 0 && !only.some((o) => path.includes(o))) continue;
    const started = Date.now();
    process.stderr.write(`bench ${path.slice(2)} ...`);
    const module = (await import(path)) as { bench: Bench };
    const produced = await module.bench();
    rows.push(...produced);
    process.stderr.write(` ${produced.length} figures in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
  const table = render(rows);
  process.stdout.write(`${table}\n`);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const machine = `${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`;
  if (only.length === 0) {
    writeFileSync(
      new URL('../BENCHMARKS.md', import.meta.url),
      `# Benchmarks\n\nLatest \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}, ${machine}.\n` +
        `Each figure stands beside its goal and, where one applies, a baseline measured in the same run.\n\n${table}\n`,
    );
  }
  const failed = rows.filter((r) => !r.ok);
  if (failed.length > 0) process.stderr.write(`${failed.length} figure(s) miss their goal: ${failed.map((r) => r.figure).join('; ')}\n`);
}

await main();
