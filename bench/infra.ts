// Infrastructure benchmarks: synth wall time of the example (real bundling, cdk-nag and Control Tower on), what the
// Control Tower checks take of it beside running all of the package's rules, and per handler the minified bundle size
// and the module load time in a fresh node process, beside an empty module's load time.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import type { IPolicyValidationPlugin } from 'aws-cdk-lib';
import { build } from 'esbuild';
import { ControlTowerChecks, controlTowerRuleFiles, templateResourceTypes } from '../lib/control-tower';
import { UNREACHED_CREDENTIAL_PROVIDERS } from '../lib/function';
import type { Bench, BenchRow } from './types';

const ROOT = join(import.meta.dirname, '..');
/** The home region's stack: it has every function, the status page renderer included. */
const REGION = 'us-east-1';
const LOAD_RUNS = 7;
const SIZE_GOAL_BYTES = 500 * 1024;
const LOAD_GOAL_MS = 150;
const GUARD_RUNS = 3;

/** Runs bin/app.ts exactly as `cdk synth` does (cdk.json's context, an output directory), without the CLI's own start-up. */
function synth(outdir: string): number {
  const context = (JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
  const started = performance.now();
  const result = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), ['bin/app.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context), AWS_EC2_METADATA_DISABLED: 'true' },
    encoding: 'utf8',
    timeout: 300_000,
  });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`synth failed (${String(result.status)}): ${result.stderr}`);
  return ms;
}

interface Bundle {
  handler: string;
  file: string;
  dir: string;
  env: Record<string, string>;
}

function bundles(outdir: string): Bundle[] {
  const template = JSON.parse(readFileSync(join(outdir, `RegionWatch-${REGION}.template.json`), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: { FunctionName?: unknown; Code?: { S3Key?: unknown }; Environment?: { Variables?: Record<string, unknown> } } }>;
  };
  const out: Bundle[] = [];
  for (const resource of Object.values(template.Resources)) {
    const name = resource.Properties.FunctionName;
    if (resource.Type !== 'AWS::Lambda::Function' || typeof name !== 'string') continue;
    const dir = join(outdir, `asset.${String(resource.Properties.Code?.S3Key).replace(/\.zip$/, '')}`);
    const env = Object.fromEntries(
      Object.entries(resource.Properties.Environment?.Variables ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : 'arn:aws:sns:eu-west-1:111111111111:bench']),
    );
    out.push({ handler: name.replace(/^.*-regionwatch-/, ''), file: join(dir, 'index.mjs'), dir, env });
  }
  return out.sort((a, b) => a.handler.localeCompare(b.handler));
}

/**
 * What the largest packages add to a handler's bundle, measured from an esbuild metafile of the same entry with the
 * CDK bundling's settings (lib/function.ts), so the note says what the bundle holds today. Null without an entry.
 */
async function bundleMakeup(handler: string): Promise<string | null> {
  // One entry serves every PagerDuty service or webhook (`pagerduty-oncall` is lambda/handlers/pagerduty-notifier.ts).
  const file = handler.startsWith('pagerduty-') ? 'pagerduty-notifier' : handler.startsWith('webhook-') ? 'webhook-notifier' : handler;
  const entry = join(ROOT, 'lambda/handlers', `${file}.ts`);
  if (!existsSync(entry)) return null;
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    mainFields: ['module', 'main'],
    external: UNREACHED_CREDENTIAL_PROVIDERS.flatMap((name) => [name, `${name}/*`]),
    outfile: join(tmpdir(), 'regionwatch-bench-makeup.mjs'),
    logLevel: 'silent',
  });
  const bytes = new Map<string, number>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
      const group = match?.[1]?.startsWith('@aws-sdk/') || match?.[1]?.startsWith('@smithy/') ? 'AWS SDK' : (match?.[1] ?? 'regionwatch');
      bytes.set(group, (bytes.get(group) ?? 0) + bytesInOutput);
    }
  }
  const top = [...bytes].sort((a, b) => b[1] - a[1]).slice(0, 3);
  return `of it: ${top.map(([name, n]) => `${name} ${Math.round(n / 1024)} KB`).join(', ')}, by an esbuild metafile of the same entry`;
}

/** Median wall time of `GUARD_RUNS` runs of a validation plugin (each spawns cfn-guard) over the synthesized templates. */
function validationMs(plugin: IPolicyValidationPlugin, templatePaths: string[]): number {
  const samples: number[] = [];
  for (let i = 0; i < GUARD_RUNS; i++) {
    const started = performance.now();
    plugin.validate({ templatePaths, stackTemplates: [], appConstruct: undefined as never });
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? Number.NaN;
}

/** Median time to `import()` a module in a fresh node process, measured inside that process. */
function loadTime(file: string, env: Record<string, string>, cwd: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t));`;
  const samples: number[] = [];
  for (let i = 0; i < LOAD_RUNS; i++) {
    const result = spawnSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], {
      cwd,
      env: { PATH: process.env.PATH, AWS_REGION: REGION, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (result.status !== 0) throw new Error(`loading ${file} failed: ${result.stderr}`);
    samples.push(Number(result.stdout));
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? Number.NaN;
}

export const bench: Bench = async () => {
  const outdir = mkdtempSync(join(tmpdir(), 'regionwatch-bench-synth-'));
  try {
    const synthMs = synth(outdir);
    const rows: BenchRow[] = [
      {
        area: 'infra',
        figure: 'synth wall time (example config: 3 stacks, 6 bundles, cdk-nag, Control Tower)',
        value: Math.round(synthMs),
        unit: 'ms',
        goal: 'reported',
        ok: true,
        note: 'bin/app.ts in a child process, as cdk synth runs it',
      },
    ];
    const templatePaths = readdirSync(outdir).filter((f) => f.endsWith('.template.json')).map((f) => join(outdir, f));
    const types = templateResourceTypes(templatePaths);
    const applicable = controlTowerRuleFiles().filter((rule) => [...rule.resourceTypes].some((t) => types.has(t))).length;
    rows.push({
      area: 'infra',
      figure: `Control Tower checks of the example's ${templatePaths.length} templates (part of synth; median of ${GUARD_RUNS})`,
      value: Math.round(validationMs(new ControlTowerChecks(), templatePaths)),
      unit: 'ms',
      goal: 'reported',
      ok: true,
      baseline: { label: `all ${controlTowerRuleFiles().length} rules of the package`, value: Math.round(validationMs(new CfnGuardValidator(), templatePaths)) },
      note: `the ${applicable} rules that name a resource type the templates use`,
    });
    const emptyDir = mkdtempSync(join(tmpdir(), 'regionwatch-bench-empty-'));
    const empty = join(emptyDir, 'index.mjs');
    writeFileSync(empty, 'export const handler = async () => ({});\n');
    const emptyMs = loadTime(empty, {}, emptyDir);
    for (const b of bundles(outdir)) {
      const bytes = statSync(b.file).size;
      const makeup = await bundleMakeup(b.handler);
      rows.push({
        area: 'infra',
        figure: `${b.handler} bundle size (minified ESM, AWS SDK included)`,
        value: Math.round(bytes / 1024),
        unit: 'KB',
        goal: '<= 500 KB',
        ok: bytes <= SIZE_GOAL_BYTES,
        ...(makeup ? { note: makeup } : {}),
      });
      const ms = loadTime(b.file, { ...b.env, LAMBDA_TASK_ROOT: b.dir }, b.dir);
      rows.push({
        area: 'infra',
        figure: `${b.handler} module load in a fresh node (median of ${LOAD_RUNS}, config validated at load)`,
        value: Number(ms.toFixed(1)),
        unit: 'ms',
        goal: `<= ${LOAD_GOAL_MS} ms`,
        ok: ms <= LOAD_GOAL_MS,
        baseline: { label: 'empty ESM module', value: Number(emptyMs.toFixed(1)) },
      });
    }
    rmSync(emptyDir, { recursive: true, force: true });
    return rows;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
};
