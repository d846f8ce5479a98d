// Deterministic names shared by every region's stack, so one stack can point at another's resources without lookups.
import { ArnFormat, Stack } from 'aws-cdk-lib';
import { channelFunctionName, functionNames, namePrefix } from '../lambda/config/names';

/** `RegionWatch-eu-west-1`: one stack per probe region, so `cdk deploy RegionWatch-eu-west-1` reads naturally. */
export function stackName(probeRegion: string): string {
  return `RegionWatch-${probeRegion}`;
}

/**
 * Physical names derived from the platform name. The global tables need a fixed name so that every
 * region's stack can address its local replica; the prober needs one so the next region can match
 * its heartbeat events by ARN.
 */
export function resourceNames(platform: string) {
  const prefix = namePrefix(platform);
  const functions = functionNames(platform);
  return {
    resultsTable: `${prefix}-results`,
    incidentsTable: `${prefix}-incidents`,
    /** A regional table per probe region, the same name in each (lib/claims-table.ts). */
    claimsTable: `${prefix}-prober-claims`,
    proberFunction: functions.prober,
    aggregatorFunction: functions.aggregator,
    slackNotifierFunction: functions.slackNotifier,
    statusRendererFunction: functions.statusRenderer,
    pagerDutyFunction: (channel: string) => channelFunctionName(platform, 'pagerduty', channel),
    webhookFunction: (channel: string) => channelFunctionName(platform, 'webhook', channel),
    /** The deployment's one dashboard, in the home region. */
    dashboard: prefix,
    /**
     * Every checker alarm's name starts with this (`acme-regionwatch-NotificationsStuck`): the alarm relay matches
     * this deployment's alarm state changes by it, in the alarm's region and, relayed, in the next one.
     */
    alarmPrefix: `${prefix}-`,
  } as const;
}

/**
 * The prober's rounds queue in `probeRegion`: a fixed name, because its dead-letter queue's RedriveAllowPolicy names
 * it while it names the dead-letter queue. It starts with the stack name, like every generated queue name, so the
 * dashboard's per-region queue search finds it.
 */
export function roundsQueueName(probeRegion: string): string {
  return `${stackName(probeRegion)}-prober-rounds`;
}

/** The ARN of a DynamoDB table (or a replica) in `region` of the stack's own account. */
export function tableArn(scope: Stack, region: string, tableName: string): string {
  return scope.formatArn({ service: 'dynamodb', region, resource: 'table', resourceName: tableName });
}

/** The ARN of a Lambda function in `region` of the stack's own account. */
export function functionArn(scope: Stack, region: string, functionName: string): string {
  return scope.formatArn({
    service: 'lambda',
    region,
    resource: 'function',
    resourceName: functionName,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** The ARN of the default EventBridge bus in `region` of the stack's own account. */
export function defaultEventBusArn(scope: Stack, region: string): string {
  return scope.formatArn({ service: 'events', region, resource: 'event-bus', resourceName: 'default' });
}

/** The probe region whose prober `region` watches: the previous one in config order, wrapping around. */
export function watchedProbeRegion(probeRegions: readonly string[], region: string): string {
  const i = probeRegions.indexOf(region);
  if (i < 0) throw new Error(`${region} is not a probe region (${probeRegions.join(', ')})`);
  return probeRegions[(i - 1 + probeRegions.length) % probeRegions.length] ?? region;
}

/** The probe region that watches `region`'s prober: the next one in config order, wrapping around. */
export function watcherProbeRegion(probeRegions: readonly string[], region: string): string {
  const i = probeRegions.indexOf(region);
  if (i < 0) throw new Error(`${region} is not a probe region (${probeRegions.join(', ')})`);
  return probeRegions[(i + 1) % probeRegions.length] ?? region;
}

/** The ARN of an SQS queue in `region` of the stack's own account. */
export function queueArn(scope: Stack, region: string, queueName: string): string {
  return scope.formatArn({ service: 'sqs', region, resource: queueName, arnFormat: ArnFormat.NO_RESOURCE_NAME });
}

/** The URL of an SQS queue in `region` of the stack's own account (SQS's regional endpoint, no lookup). */
export function queueUrl(scope: Stack, region: string, queueName: string): string {
  return `https://sqs.${region}.${scope.urlSuffix}/${scope.account}/${queueName}`;
}
