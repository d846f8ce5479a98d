// `regionwatch cost` through the CLI dispatcher: the human table, the --json object, --targets and bad usage.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lambda/cli/main';
import type { CommandIo } from '../../lambda/cli/command';

const ROOT = join(import.meta.dirname, '..', '..');

function capture(cwd = ROOT): CommandIo & { outLines: string[]; errLines: string[] } {
  const outLines: string[] = [];
  const errLines: string[] = [];
  return { outLines, errLines, cwd, out: (l) => outLines.push(l), err: (l) => errLines.push(l) };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'regionwatch-cost-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('regionwatch cost', () => {
  it('prints the bill as a table with totals, the largest line and the alternatives', async () => {
    const io = capture();
    expect(await main(['cost'], io)).toBe(0);
    const text = io.outLines.join('\n');
    expect(text).toMatch(/^regionwatch cost for acme: 12 targets in 3 platform regions, from 3 probe regions, every 10 s/);
    expect(text).toContain('prices: AWS list prices for us-east-1 as published in 2025');
    expect(text).toMatch(/^service\s+item\s+quantity a month\s+monthly$/m);
    // 3 probe regions × 262,800 rounds × 0.25 GB × (12 starts over 500 ms of jitter, the last at 12/13 of it, + 0.6 s).
    expect(text).toMatch(/^Lambda\s+prober duration \(256 MB × 1\.1 s per round per probe region\)\s+209,229 GB-s\s+\$2\.79$/m);
    expect(text).toMatch(/^total at list prices:\s+\$\d+\.\d\d a month$/m);
    expect(text).toMatch(/^with the always-free allowances:\s+\$\d+\.\d\d a month/m);
    // Rounds are billed, not the waits between them: the largest line is a fixed monthly price, not the prober.
    expect(text).toMatch(/^largest line: (CloudWatch alarms|KMS customer managed keys|Secrets Manager channel secrets)/m);
    // Confirm on failure (the default) is priced: its requests on the rounds queues, and the staggered rounds' extra stream batches.
    expect(text).toMatch(/^SQS\s+confirmation requests on the rounds queues .*\$0\.00\d\d$/m);
    expect(text).toMatch(/^assumptions \(see docs\/cost\.md\): .*detection confirm \(300 confirmation request batches a month\); aggregator 3 invocations per round per region/m);
    expect(text).toMatch(/Route 53 health checks: \$\d+\.\d\d a month/);
    expect(text).toMatch(/Synthetics, one canary per target per probe region: \$\d+\.\d\d a month/);
    expect(io.errLines).toEqual([]);
  });

  it('--json prints one object with the lines, totals and baselines', async () => {
    const io = capture();
    expect(await main(['cost', '--json'], io)).toBe(0);
    const e = JSON.parse(io.outLines.join('\n')) as Record<string, unknown> & { lines: Array<Record<string, unknown>>; total: number; totalAfterFree: number };
    expect(Object.keys(e)).toEqual(['pricesAsOf', 'inputs', 'assumptions', 'lines', 'total', 'totalAfterFree', 'byService', 'dominant', 'route53', 'synthetics']);
    expect(Object.keys(e.lines[0] ?? {})).toEqual(['service', 'item', 'quantity', 'unit', 'price', 'monthly', 'afterFree']);
    const sum = e.lines.reduce((n, l) => n + Number(l.monthly), 0);
    expect(e.total).toBeCloseTo(sum, 3);
    expect(e.totalAfterFree).toBeLessThan(e.total);
    expect(e).toMatchObject({ inputs: { targets: 12, probeRegions: 3 }, route53: { label: 'Route 53 health checks' }, synthetics: { perTarget: {}, perProbeRegion: {} } });
  });

  it('--targets, --prober-memory and --prober-scheduling answer "what if"', async () => {
    const base = capture();
    await main(['cost', '--json', '--targets', '50'], base);
    const fifty = JSON.parse(base.outLines.join('\n')) as { inputs: { targets: number }; total: number };
    expect(fifty.inputs.targets).toBe(50);
    const old = capture();
    await main(['cost', '--json', '--targets', '50', '--prober-memory', '512', '--prober-scheduling', 'wait-in-minute'], old);
    const waiting = JSON.parse(old.outLines.join('\n')) as { total: number; assumptions: { proberMemoryMb: number } };
    expect(waiting.assumptions.proberMemoryMb).toBe(512);
    expect(waiting.total).toBeGreaterThan(fifty.total + 30);
  });

  it('rejects bad usage with exit 2 and names the flag', async () => {
    for (const args of [['--targets', 'many'], ['--interval', '7'], ['--prober-memory', '64'], ['--prober-scheduling', 'cron']]) {
      const io = capture();
      expect(await main(['cost', ...args], io)).toBe(2);
      expect(io.errLines.join('\n')).toContain(args[0]);
    }
  });

  it('reports a bad config with exit 2, like validate', async () => {
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ platform: 'x', probeRegions: [], homeRegion: 'us-east-1', regions: {} }));
    const io = capture(dir);
    expect(await main(['cost', '--config', 'bad.json'], io)).toBe(2);
    expect(io.errLines.join('\n')).toContain('probeRegions');
    const json = capture(dir);
    expect(await main(['cost', '--config', 'bad.json', '--json'], json)).toBe(2);
    expect(JSON.parse(json.outLines.join('\n'))).toMatchObject({ ok: false });
  });
});
