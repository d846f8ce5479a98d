// AWS Control Tower's controls at synth: a violation fails synth naming the control (in process and as a command), an
// acknowledgement covers only the construct it names, and running only the rules that name the templates' resource
// types finds exactly what running all of them finds.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, Duration, Stack, type IPolicyValidationPlugin } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { addPolicyChecks } from '../../lib/app';
import { CONTROL_TOWER_PLUGIN_NAME, CONTROL_TOWER_RULES, ControlTowerChecks, acknowledgeControl, controlTowerRuleFiles } from '../../lib/control-tower';
import { PROJECT_ROOT } from '../../lib/function';
import { controlTowerFindings } from './synth';

/** A stack that breaks five controls, each once, and one Lambda acknowledged against CT.LAMBDA.PR.3. */
function nonCompliantApp(outdir: string): App {
  const app = new App({ outdir });
  addPolicyChecks(app);
  const stack = new Stack(app, 'NonCompliant', { env: { region: 'eu-west-1' } });
  // CT.CLOUDWATCH.PR.2 and PR.3: a week, no customer managed key.
  new logs.LogGroup(stack, 'ShortLivedLogs', { retention: logs.RetentionDays.ONE_WEEK });
  // CT.SQS.PR.1: denyAll does not make a queue a dead-letter queue for the control, so it needs one itself.
  new sqs.Queue(stack, 'LastStop', { redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.DENY_ALL }, retentionPeriod: Duration.days(14) });
  // CT.KMS.PR.3: no statement denying grants that are not for AWS resources.
  new kms.Key(stack, 'PlainKey', { enableKeyRotation: true });
  // CT.LAMBDA.PR.3, twice: one acknowledged, one not.
  const code = lambda.Code.fromInline('export const handler = async () => {};');
  const acknowledged = new lambda.Function(stack, 'Acknowledged', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code });
  acknowledgeControl(acknowledged, CONTROL_TOWER_RULES.lambdaInVpc, 'a test of the acknowledgement');
  new lambda.Function(stack, 'Unacknowledged', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code });
  return app;
}

describe('Control Tower at synth', () => {
  it('fails synth on a violation, naming each control and the resource, and passes what is acknowledged', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'regionwatch-ct-'));
    let message = '';
    try {
      nonCompliantApp(outdir).synth();
    } catch (error: unknown) {
      message = error instanceof Error ? error.message : String(error);
    }
    for (const control of ['CT.CLOUDWATCH.PR.2', 'CT.CLOUDWATCH.PR.3', 'CT.SQS.PR.1', 'CT.KMS.PR.3', 'CT.LAMBDA.PR.3']) expect(message).toContain(`[${control}]`);
    expect(message).toContain('NonCompliant/ShortLivedLogs');
    expect(message).toContain('NonCompliant/LastStop');
    expect(message).toContain('NonCompliant/PlainKey');
    expect(message).toContain('NonCompliant/Unacknowledged');
    // The acknowledgement covers the one function it names, for its one control, and the report says so with the reason.
    const { violations, acknowledged } = controlTowerFindings({ directory: outdir });
    const lambdaFindings = (list: typeof violations) => list.filter((f) => f.control === 'CT.LAMBDA.PR.3').map((f) => f.logicalId.replace(/[0-9A-F]{8}$/, ''));
    expect(lambdaFindings(violations)).toEqual(['Unacknowledged']);
    expect(lambdaFindings(acknowledged)).toEqual(['Acknowledged']);
    expect(acknowledged).toEqual([expect.objectContaining({ rule: CONTROL_TOWER_RULES.lambdaInVpc, reason: 'a test of the acknowledgement' })]);
  });

  it('makes `cdk synth`-style runs (the app as a process) exit non-zero with the report', () => {
    const dir = mkdtempSync(join(tmpdir(), 'regionwatch-ct-app-'));
    const file = join(dir, 'app.ts');
    writeFileSync(
      file,
      [
        `import { App, Stack } from ${JSON.stringify(join(PROJECT_ROOT, 'node_modules/aws-cdk-lib/index.js'))};`,
        `import * as logs from ${JSON.stringify(join(PROJECT_ROOT, 'node_modules/aws-cdk-lib/aws-logs/index.js'))};`,
        `import { Validations } from ${JSON.stringify(join(PROJECT_ROOT, 'node_modules/aws-cdk-lib/index.js'))};`,
        `import { ControlTowerChecks } from ${JSON.stringify(join(PROJECT_ROOT, 'lib/control-tower.ts'))};`,
        `const app = new App({ outdir: ${JSON.stringify(join(dir, 'out'))} });`,
        'Validations.of(app).addPlugins(new ControlTowerChecks());',
        "new logs.LogGroup(new Stack(app, 'Logs', { env: { region: 'eu-west-1' } }), 'Unencrypted', { retention: logs.RetentionDays.ONE_YEAR });",
        'app.synth();',
      ].join('\n'),
    );
    // As the CDK CLI runs an app: no NODE_ENV=test, so the framework takes the command line's path, not the in-memory one.
    const run = spawnSync(join(PROJECT_ROOT, 'node_modules/.bin/tsx'), [file], { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH, HOME: dir }, encoding: 'utf8', timeout: 60_000 });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('[CT.CLOUDWATCH.PR.3]');
    expect(run.stderr).toContain('Logs/Unencrypted');
  }, 60_000);

  it('keeps the package plugin name that acknowledgements are namespaced with', () => {
    expect(new ControlTowerChecks().name).toBe(CONTROL_TOWER_PLUGIN_NAME);
    expect(new CfnGuardValidator().name).toBe(CONTROL_TOWER_PLUGIN_NAME);
  });

  it('runs every shipped rule that can apply: each rule names every resource type its metadata says it evaluates', async () => {
    const rules = controlTowerRuleFiles();
    expect(rules.length).toBeGreaterThanOrEqual(237);
    const { readFileSync } = await import('node:fs');
    for (const rule of rules) {
      const metadata = rule.path.replace(/cfn-guard([/\\][^/\\]+[/\\])([^/\\]+)\.guard$/, 'metadata$1$2.metadata.json');
      const { EvaluatedResourceTypes: evaluated } = JSON.parse(readFileSync(metadata, 'utf8')) as { EvaluatedResourceTypes: string[] };
      expect(evaluated.length, rule.name).toBeGreaterThan(0);
      for (const type of evaluated) expect(rule.resourceTypes.has(type), `${rule.name} evaluates ${type}`).toBe(true);
    }
  });

  it('finds with the applicable rules exactly what all the rules find', () => {
    // Synthesize without the checks, then run both plugins on the same template.
    const bare = new App({ outdir: mkdtempSync(join(tmpdir(), 'regionwatch-ct-bare-')) });
    const stack = new Stack(bare, 'NonCompliant', { env: { region: 'eu-west-1' } });
    new logs.LogGroup(stack, 'ShortLivedLogs', { retention: logs.RetentionDays.ONE_WEEK });
    new sqs.Queue(stack, 'LastStop', { redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.DENY_ALL } });
    new kms.Key(stack, 'PlainKey', { enableKeyRotation: true });
    const templatePath = join(bare.synth().directory, 'NonCompliant.template.json');
    const findings = (plugin: IPolicyValidationPlugin) =>
      plugin
        .validate({ templatePaths: [templatePath], stackTemplates: [], appConstruct: bare })
        .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.resourceLogicalId}`))
        .sort();
    const applicable = findings(new ControlTowerChecks());
    expect(applicable).toEqual(findings(new CfnGuardValidator()));
    expect(applicable.length).toBeGreaterThanOrEqual(4);
  });
});
