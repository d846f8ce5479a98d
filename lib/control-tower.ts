// AWS Control Tower's proactive controls at synth: the cfn-guard rules of @cdklabs/cdk-validator-cfnguard as a CDK
// policy-validation plugin, and the one way this project acknowledges a control it does not meet.
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, parse } from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { Validations, type IPolicyValidationContext, type IPolicyValidationPlugin, type PolicyValidationPluginReport } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * The controls this project refers to by name, by their cfn-guard rule names (what the validation report calls them
 * and what an acknowledgement names), each with its Control Tower id.
 */
export const CONTROL_TOWER_RULES = {
  /** CT.LAMBDA.PR.3: a Lambda function runs in a customer-managed VPC. */
  lambdaInVpc: 'lambda_inside_vpc_check',
  /** CT.CLOUDWATCH.PR.2: a log group keeps its logs for at least a year. */
  logRetention: 'cloudwatch_log_group_retention_period_check',
  /** CT.CLOUDWATCH.PR.3: a log group is encrypted with a customer managed KMS key. */
  logEncryption: 'cloudwatch_log_group_encrypted_check',
  /** CT.KMS.PR.3: a key policy denies kms:CreateGrant unless the grant is for an AWS resource. */
  keyGrants: 'kms_create_grant_aws_service_check',
  /** CT.SQS.PR.1: a queue has a dead-letter queue, or is one (RedriveAllowPolicy allowAll or byQueue). */
  queueDeadLetters: 'sqs_dlq_check',
  /** CT.S3.PR.2: an S3 bucket has server access logging. */
  bucketAccessLogs: 's3_bucket_logging_enabled_check',
  /** CT.S3.PR.9: an S3 bucket has S3 Object Lock. */
  bucketObjectLock: 's3_bucket_object_lock_enabled_check',
  /** CT.S3.PR.10: an S3 bucket's default encryption is SSE-KMS. */
  bucketKmsEncryption: 's3_bucket_default_encryption_kms_check',
  /** CT.CLOUDFRONT.PR.4: a distribution has an origin group of two origins (failover). */
  distributionOriginFailover: 'cloudfront_origin_failover_enabled_check',
  /** CT.CLOUDFRONT.PR.5: a distribution has access logging. */
  distributionAccessLogs: 'cloudfront_access_logs_enabled_check',
  /** CT.CLOUDFRONT.PR.6: a distribution uses a custom SSL/TLS certificate. */
  distributionCustomCertificate: 'cloudfront_custom_ssl_certificate_check',
  /** CT.CLOUDFRONT.PR.7: a distribution serves HTTPS with SNI (an ACM certificate, `sni-only`). */
  distributionSni: 'cloudfront_sni_enabled_check',
  /** CT.CLOUDFRONT.PR.9: a distribution's viewer policy is TLSv1.2 or newer. */
  distributionViewerTls: 'cloudfront_security_policy_check',
} as const;

export type ControlTowerRule = (typeof CONTROL_TOWER_RULES)[keyof typeof CONTROL_TOWER_RULES];

/** The package's plugin name, which namespaces its rules in the validation report and in acknowledgements. */
export const CONTROL_TOWER_PLUGIN_NAME = 'cdk-validator-cfnguard';

const PACKAGE_ROOT = dirname(createRequire(import.meta.url).resolve('@cdklabs/cdk-validator-cfnguard/package.json'));
/** Where the package keeps AWS Control Tower's rules, one `.guard` file per control, in a folder per service. */
const RULES_DIR = join(PACKAGE_ROOT, 'rules', 'control-tower', 'cfn-guard');

export interface ControlTowerRuleFile {
  /** The file's name without `.guard` (`ct-lambda-pr-3`): what the plugin's `disabledRules` takes. */
  readonly name: string;
  readonly path: string;
  /** Every CloudFormation resource type the rule's text names. */
  readonly resourceTypes: ReadonlySet<string>;
}

/** Every Control Tower rule the package ships, with the resource types it names. */
export function controlTowerRuleFiles(): ControlTowerRuleFile[] {
  return readdirSync(RULES_DIR, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.guard'))
    .sort()
    .map((file) => {
      const path = join(RULES_DIR, file);
      const resourceTypes = new Set(readFileSync(path, 'utf8').match(/AWS::[A-Za-z0-9]+::[A-Za-z0-9]+/g) ?? []);
      return { name: parse(file).name, path, resourceTypes };
    });
}

/** The resource types the templates use. */
export function templateResourceTypes(templatePaths: readonly string[]): Set<string> {
  const types = new Set<string>();
  for (const path of templatePaths) {
    const template = JSON.parse(readFileSync(path, 'utf8')) as { Resources?: Record<string, { Type?: unknown }> };
    for (const resource of Object.values(template.Resources ?? {})) if (typeof resource.Type === 'string') types.add(resource.Type);
  }
  return types;
}

/**
 * Runs every Control Tower rule that can apply to the synthesized templates, with the package's own cfn-guard binary.
 *
 * Why not all 237 rules on every template: cfn-guard parses and runs each rule on each template, about 1.5 s a template
 * on two cores, most of it spent on rules about resources regionwatch never creates (S3, RDS, EKS ...). Every rule
 * selects its resources by type (`Resources.*[ Type == "AWS::..." ]`), so a rule whose text names none of the
 * templates' types has nothing to check: skipping it changes no finding (test/infra/control-tower.test.ts checks that
 * each rule names every type its metadata says it evaluates). A template that gains a new type gains its rules.
 *
 * The report keeps the package's plugin name (CONTROL_TOWER_PLUGIN_NAME), so acknowledgements read
 * `cdk-validator-cfnguard::<rule>`.
 */
export class ControlTowerChecks implements IPolicyValidationPlugin {
  readonly name: string;
  readonly version?: string;
  readonly ruleIds?: string[];
  private readonly rules = controlTowerRuleFiles();

  constructor() {
    const all = new CfnGuardValidator();
    this.name = all.name;
    this.version = all.version;
    this.ruleIds = all.ruleIds;
  }

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const types = templateResourceTypes(context.templatePaths);
    const disabledRules = this.rules.filter((rule) => ![...rule.resourceTypes].some((t) => types.has(t))).map((rule) => rule.name);
    // No rule can apply (cfn-guard itself refuses to run without rules).
    if (disabledRules.length === this.rules.length) return { success: true, violations: [] };
    return new CfnGuardValidator({ disabledRules }).validate(context);
  }
}

/**
 * Acknowledges one Control Tower control on `scope` (and what it contains), with the reason, the way cdk-nag findings
 * are acknowledged: the validation report lists it as acknowledged instead of failing synth. Keep `scope` as narrow as
 * the finding. A Control Tower hook in the account still enforces the control at deploy time.
 */
export function acknowledgeControl(scope: IConstruct, rule: ControlTowerRule, reason: string): void {
  Validations.of(scope).acknowledge({ id: `${CONTROL_TOWER_PLUGIN_NAME}::${rule}`, reason });
}
