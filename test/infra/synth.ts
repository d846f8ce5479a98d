// Shared by the infrastructure tests: synthesize a scenario once (bundling skipped), read templates from the
// assembly, and render CloudFormation values as readable strings for exact assertions.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { beforeAll } from 'vitest';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { loadConfigFile, parseConfig } from '../../lambda/config/load';
import type { RegionwatchConfig, RegionwatchConfigInput } from '../../lambda/config/schema';
import { addPolicyChecks, addRegionWatchStacks } from '../../lib/app';
import { CONTROL_TOWER_PLUGIN_NAME } from '../../lib/control-tower';
import { PROJECT_ROOT } from '../../lib/function';
import { stackName } from '../../lib/names';
import type { RegionWatchStack } from '../../lib/region-stack';

/** The tag every resource of the example config carries. */
export const TAGS = [{ Key: 'regionwatch:platform', Value: 'acme' }];

export const EXAMPLE_CONFIG_FILE = join(PROJECT_ROOT, 'regionwatch.config.json');

export function exampleConfig(): RegionwatchConfig {
  return loadConfigFile(EXAMPLE_CONFIG_FILE);
}

/** The example config with other probe regions (the first is home) and optional changes. */
export function configWith(probeRegions: string[], changes: Partial<RegionwatchConfigInput> = {}): RegionwatchConfig {
  const raw = JSON.parse(readFileSync(EXAMPLE_CONFIG_FILE, 'utf8')) as RegionwatchConfigInput;
  return parseConfig({ ...raw, probeRegions, homeRegion: probeRegions[0], ...changes }, 'test config');
}

export interface Scenario {
  readonly config: RegionwatchConfig;
  readonly app: App;
  readonly stacks: Map<string, RegionWatchStack>;
  readonly assembly: CloudAssembly;
  stack(region: string): RegionWatchStack;
  template(region: string): Template;
  /** The raw template JSON of a region's stack. */
  json(region: string): { Resources: Record<string, CfnResourceJson> };
}

export interface CfnResourceJson {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

/**
 * Synthesizes every stack of `config` with cdk-nag and the Control Tower controls on, exactly as bin/app.ts does,
 * except that bundling is skipped (`aws:cdk:bundling-stacks: []`): test/infra/cli.test.ts bundles for real.
 * Synthesis throws if cdk-nag, Control Tower or the CloudFormation rules find anything unacknowledged.
 */
export function synthScenario(config: RegionwatchConfig): Scenario {
  const outdir = mkdtempSync(join(tmpdir(), 'regionwatch-synth-'));
  const app = new App({
    outdir,
    context: {
      'aws:cdk:bundling-stacks': [],
      ...(JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context,
    },
  });
  addPolicyChecks(app);
  const stacks = addRegionWatchStacks(app, config);
  const assembly = app.synth();
  const templates = new Map<string, Template>();
  const stack = (region: string) => {
    const found = stacks.get(region);
    if (!found) throw new Error(`no stack for ${region}`);
    return found;
  };
  const json = (region: string) => assembly.getStackByName(stackName(region)).template as { Resources: Record<string, CfnResourceJson> };
  return {
    config,
    app,
    stacks,
    assembly,
    stack,
    json,
    template(region) {
      let template = templates.get(region);
      if (!template) {
        template = Template.fromJSON(json(region));
        templates.set(region, template);
      }
      return template;
    },
  };
}

/** What the policy validation report holds: every unacknowledged finding of every plugin. */
export function validationViolations(assembly: CloudAssembly): unknown[] {
  const file = join(assembly.directory, 'validation-report.json');
  if (!existsSync(file)) return [];
  const report = JSON.parse(readFileSync(file, 'utf8')) as { pluginReports?: { violations?: unknown[] }[] };
  return (report.pluginReports ?? []).flatMap((r) => r.violations ?? []);
}

/** One resource a Control Tower control flagged, as the validation report names it. */
export interface ControlTowerFinding {
  /** `CT.LAMBDA.PR.3` */
  readonly control: string;
  /** The cfn-guard rule name (`lambda_inside_vpc_check`). */
  readonly rule: string;
  /** `RegionWatch-eu-west-1` */
  readonly stack: string;
  readonly logicalId: string;
  /** Why it is acknowledged (acknowledged findings only). */
  readonly reason?: string;
}

interface ReportedViolation {
  ruleName: string;
  description: string;
  reason?: string;
  violatingConstructs: { cloudFormationResource?: { templatePath: string; logicalId: string } }[];
}

/** The Control Tower plugin's findings in the validation report: what failed synth, and what code acknowledged. */
export function controlTowerFindings(assembly: { readonly directory: string }): { violations: ControlTowerFinding[]; acknowledged: ControlTowerFinding[] } {
  const file = join(assembly.directory, 'validation-report.json');
  const report = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as { pluginReports?: { pluginName: string; violations?: ReportedViolation[]; suppressedViolations?: ReportedViolation[] }[] })
    : {};
  const plugin = (report.pluginReports ?? []).find((r) => r.pluginName === CONTROL_TOWER_PLUGIN_NAME);
  const findings = (violations: ReportedViolation[] | undefined) =>
    (violations ?? []).flatMap((v) =>
      v.violatingConstructs.map((c) => ({
        control: /^\[([A-Z0-9.-]+)\]/.exec(v.description)?.[1] ?? v.description,
        rule: v.ruleName,
        stack: (c.cloudFormationResource?.templatePath ?? '').replace(/\.template\.json$/, ''),
        logicalId: c.cloudFormationResource?.logicalId ?? '',
        ...(v.reason !== undefined ? { reason: v.reason } : {}),
      })),
    );
  return { violations: findings(plugin?.violations), acknowledged: findings(plugin?.suppressedViolations) };
}

/**
 * Renders a CloudFormation value as a readable string: pseudo parameters as `${AWS::AccountId}`,
 * the partition as `aws`, a Ref or GetAtt as `${LogicalId}` / `${LogicalId.Attr}` with the
 * 8-character hash CDK appends stripped, and Fn::Join concatenated.
 */
export function render(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(render);
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const ref = obj.Ref;
    if (typeof ref === 'string') return ref === 'AWS::Partition' ? 'aws' : `\${${stripHash(ref)}}`;
    const getAtt = obj['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `\${${stripHash(String(getAtt[0]))}.${String(getAtt[1])}}`;
    const join = obj['Fn::Join'];
    if (Array.isArray(join)) {
      const [separator, parts] = join as [string, unknown[]];
      return parts.map((p) => String(render(p))).join(separator);
    }
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, render(v)]));
}

function stripHash(logicalId: string): string {
  return logicalId.replace(/[0-9A-F]{8}$/, '');
}

/** Resolves a token of `stack` (such as a construct's ARN) and renders it. */
export function rendered(stack: Stack, value: unknown): unknown {
  return render(stack.resolve(value));
}

/** Every IAM statement attached to the role of the function with this logical-id prefix, rendered, in template order. */
export function roleStatements(json: { Resources: Record<string, CfnResourceJson> }, roleLogicalIdPrefix: string): unknown[] {
  const roles = Object.entries(json.Resources).filter(([id, r]) => r.Type === 'AWS::IAM::Role' && stripHash(id) === roleLogicalIdPrefix);
  if (roles.length !== 1) throw new Error(`expected one role ${roleLogicalIdPrefix}, found ${roles.map(([id]) => id).join(', ') || 'none'}`);
  const [[roleId, role]] = roles as [[string, CfnResourceJson]];
  const inline = ((role.Properties?.Policies ?? []) as { PolicyDocument: { Statement: unknown[] } }[]).flatMap((p) => p.PolicyDocument.Statement);
  const attached = Object.values(json.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles ?? []).includes(`"${roleId}"`))
    .flatMap((r) => (r.Properties?.PolicyDocument as { Statement: unknown[] }).Statement);
  return render([...inline, ...attached]) as unknown[];
}

/** Resources of one type, keyed by logical id with the hash stripped. */
export function resourcesOfType(json: { Resources: Record<string, CfnResourceJson> }, type: string): Record<string, CfnResourceJson> {
  return Object.fromEntries(Object.entries(json.Resources).filter(([, r]) => r.Type === type).map(([id, r]) => [stripHash(id), r]));
}

/** Synthesizes `config` once before the file's tests; read `.current` inside tests. */
export function useScenario(config: () => RegionwatchConfig): { current: Scenario } {
  const holder = {} as { current: Scenario };
  beforeAll(() => {
    holder.current = synthScenario(config());
  }, 60_000);
  return holder;
}
