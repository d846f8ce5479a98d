// Every regionwatch log group: encrypted with the region's key and kept for the configured retention.
import { RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { COMPLIANT_LOG_RETENTION_DAYS, type RegionwatchConfig } from '../lambda/config/schema';
import { CONTROL_TOWER_RULES, acknowledgeControl } from './control-tower';

export interface LogGroupDefaults {
  /** The region's key (lib/region-key.ts), whose policy lets CloudWatch Logs use it for this region's log groups. */
  readonly key: kms.IKey;
  /** The config's `logs.retentionDays`. */
  readonly retentionDays: RegionwatchConfig['logs']['retentionDays'];
}

/**
 * A log group removed with its stack (its logs are the checker's own, not the incident history), encrypted with the
 * region's key (CT.CLOUDWATCH.PR.3) and kept `retentionDays`. A retention under a year is the config's choice: it is
 * acknowledged against CT.CLOUDWATCH.PR.2 with the configured value as the reason, so the validation report shows it.
 */
export function regionwatchLogGroup(scope: Construct, id: string, defaults: LogGroupDefaults): logs.LogGroup {
  const group = new logs.LogGroup(scope, id, {
    encryptionKey: defaults.key,
    // Every value the config accepts is one of CloudWatch's periods, which is what RetentionDays enumerates.
    retention: defaults.retentionDays as logs.RetentionDays,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  if (defaults.retentionDays < COMPLIANT_LOG_RETENTION_DAYS) {
    acknowledgeControl(
      group,
      CONTROL_TOWER_RULES.logRetention,
      `logs.retentionDays is ${defaults.retentionDays} in the config, under the ${COMPLIANT_LOG_RETENTION_DAYS} days CT.CLOUDWATCH.PR.2 asks for: the deployer's choice. An account that enforces the control as a hook refuses the deploy.`,
    );
  }
  return group;
}
