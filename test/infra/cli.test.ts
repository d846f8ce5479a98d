// The real command line, offline: `cdk synth` of the example bundles every Lambda with the local esbuild and
// passes cdk-nag with no credentials; each bundle loads in a plain node process; a bad config deploys nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile } from '../../lambda/config/load';
import { BUNDLED_CONFIG_FILE } from '../../lambda/handlers/runtime-config';
import { stackName } from '../../lib/names';
import { CONTROL_TOWER_PLUGIN_NAME } from '../../lib/control-tower';
import { cdk } from '../helpers/cdk';
import { EXAMPLE_CONFIG_FILE, controlTowerFindings, exampleConfig } from './synth';

interface FunctionBundle {
  functionName: string;
  dir: string;
  environment: Record<string, string>;
}

/** Each Lambda of a synthesized stack with the asset directory holding its bundle. */
function functionBundles(outdir: string, region: string): FunctionBundle[] {
  const template = JSON.parse(readFileSync(join(outdir, `${stackName(region)}.template.json`), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: { FunctionName?: string; Code?: { S3Key?: unknown }; Environment?: { Variables?: Record<string, unknown> } } }>;
  };
  const bundles: FunctionBundle[] = [];
  for (const resource of Object.values(template.Resources)) {
    const name = resource.Properties.FunctionName;
    if (resource.Type !== 'AWS::Lambda::Function' || typeof name !== 'string') continue;
    const key = String(resource.Properties.Code?.S3Key ?? '');
    const environment = Object.fromEntries(
      Object.entries(resource.Properties.Environment?.Variables ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : 'arn:aws:sns:eu-west-1:111111111111:resolved-at-deploy']),
    );
    bundles.push({ functionName: name, dir: join(outdir, `asset.${key.replace(/\.zip$/, '')}`), environment });
  }
  return bundles.sort((a, b) => a.functionName.localeCompare(b.functionName));
}

describe('cdk synth of the example config, offline', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'regionwatch-cdk-out-'));
  let synth: ReturnType<typeof cdk>;

  beforeAll(() => {
    synth = cdk(['synth', '--quiet', '--output', outdir]);
  }, 180_000);

  it('succeeds with no credentials, cdk-nag and the Control Tower controls on, and nothing unacknowledged', () => {
    expect(synth.stderr).not.toMatch(/AwsSolutions-|\[CT\./);
    expect(synth.status, synth.stderr).toBe(0);
    for (const region of exampleConfig().probeRegions) expect(existsSync(join(outdir, `${stackName(region)}.template.json`))).toBe(true);
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as { pluginReports: { pluginName: string; violations: unknown[] }[] };
    // Only the Control Tower plugin reports, and only what is acknowledged: without `vpc`, CT.LAMBDA.PR.3 on each function;
    // the status page's bucket without access logs or Object Lock, its distribution with one origin and no access logs.
    expect(report.pluginReports.map((r) => [r.pluginName, r.violations])).toEqual([[CONTROL_TOWER_PLUGIN_NAME, []]]);
    const { violations, acknowledged } = controlTowerFindings({ directory: outdir });
    expect(violations).toEqual([]);
    expect(new Set(acknowledged.map((f) => f.control))).toEqual(new Set(['CT.LAMBDA.PR.3', 'CT.S3.PR.2', 'CT.S3.PR.9', 'CT.CLOUDFRONT.PR.4', 'CT.CLOUDFRONT.PR.5']));
  });

  it('bundles every Lambda with the local esbuild (no Docker) into one minified ESM file plus the validated config', () => {
    expect(synth.stderr).not.toMatch(/docker/i);
    const bundles = functionBundles(outdir, 'eu-west-1');
    expect(bundles.map((b) => b.functionName)).toEqual([
      'acme-regionwatch-aggregator',
      'acme-regionwatch-pagerduty-oncall',
      'acme-regionwatch-prober',
      'acme-regionwatch-slack-notifier',
      'acme-regionwatch-webhook-opsgenie',
    ]);
    expect(functionBundles(outdir, 'us-east-1').map((b) => b.functionName)).toContain('acme-regionwatch-status-renderer');
    for (const bundle of bundles) {
      expect(readdirSync(bundle.dir).sort()).toEqual(['index.mjs', BUNDLED_CONFIG_FILE]);
      expect(statSync(join(bundle.dir, 'index.mjs')).size).toBeGreaterThan(10_000);
      const bundled = JSON.parse(readFileSync(join(bundle.dir, BUNDLED_CONFIG_FILE), 'utf8')) as unknown;
      expect(bundled).toEqual(exampleConfig());
    }
  });

  it('keeps the config out of the environment: only names and ARNs there', () => {
    for (const bundle of functionBundles(outdir, 'eu-west-1')) {
      expect(JSON.stringify(bundle.environment).length).toBeLessThan(400);
      expect(JSON.stringify(bundle.environment)).not.toContain('targets');
    }
  });

  it.each([
    ['eu-west-1', 'acme-regionwatch-prober'],
    ['eu-west-1', 'acme-regionwatch-aggregator'],
    ['eu-west-1', 'acme-regionwatch-slack-notifier'],
    ['eu-west-1', 'acme-regionwatch-pagerduty-oncall'],
    ['eu-west-1', 'acme-regionwatch-webhook-opsgenie'],
    ['us-east-1', 'acme-regionwatch-status-renderer'],
  ])(
    'loads %s %s in a plain node process, reading the config from its task root',
    (region, functionName) => {
      const bundle = functionBundles(outdir, region).find((b) => b.functionName === functionName);
      if (!bundle) throw new Error(`no bundle for ${functionName}`);
      const loader = `const m = await import(${JSON.stringify(join(bundle.dir, 'index.mjs'))}); console.log(typeof m.handler);`;
      const result = spawnSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', loader], {
        cwd: tmpdir(),
        env: { PATH: process.env.PATH, ...bundle.environment, AWS_REGION: 'eu-west-1', LAMBDA_TASK_ROOT: bundle.dir },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(result.stderr).toBe('');
      expect(result.stdout.trim()).toBe('function');
    },
  );
});

// FAULTS row 11: a bad config fails synth with a message naming every problem; no template, so nothing to deploy.
describe('cdk synth of a bad config', () => {
  it('fails before any stack exists, printing exactly the validation message', () => {
    const dir = mkdtempSync(join(tmpdir(), 'regionwatch-bad-'));
    const bad = join(dir, 'bad.config.json');
    const config = JSON.parse(readFileSync(EXAMPLE_CONFIG_FILE, 'utf8')) as Record<string, unknown>;
    // A loopback target without probing.allowPrivateAddresses too: a refusal known at synth is a config problem (FAULTS 15).
    const regions = { ...(config.regions as Record<string, unknown>), us: { targets: [{ name: 'api', type: 'http', url: 'http://127.0.0.1:18080/health' }] } };
    writeFileSync(bad, JSON.stringify({ ...config, regions, homeRegion: 'eu-central-1', probeRegions: ['us-east-1', 'mars-1'], notifcations: {} }));
    let expected = '';
    try {
      loadConfigFile(bad);
    } catch (error: unknown) {
      if (error instanceof ConfigError) expected = error.message;
    }
    expect(expected).toContain('probeRegions[1]');
    expect(expected).toContain('homeRegion');
    expect(expected).toContain('notifcations');
    expect(expected).toContain('regions.us.targets[0].url: 127.0.0.1 is a loopback address, which probers refuse unless private addresses are allowed: set probing.allowPrivateAddresses to true to probe it');

    const outdir = join(dir, 'cdk.out');
    const result = cdk(['synth', '--quiet', '-c', `config=${bad}`, '--output', outdir]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(expected);
    const templates = existsSync(outdir) ? readdirSync(outdir).filter((f) => f.endsWith('.template.json')) : [];
    expect(templates).toEqual([]);
  }, 120_000);
});
