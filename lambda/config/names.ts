// Physical names derived from the platform name, without aws-cdk-lib: the CDK app (lib/names.ts) names resources
// with them, and the command line (`notify test --aws`, the read commands) finds the deployed ones by them.
/** Lambda's limit on a function name. */
export const FUNCTION_NAME_MAX = 64;

export function namePrefix(platform: string): string {
  return `${platform}-regionwatch`;
}

/** A notifier function's name: `acme-regionwatch-pagerduty-oncall`, `acme-regionwatch-webhook-opsgenie`. */
export function channelFunctionName(platform: string, kind: 'pagerduty' | 'webhook', channel: string): string {
  return `${namePrefix(platform)}-${kind}-${channel}`;
}

export function functionNames(platform: string) {
  const prefix = namePrefix(platform);
  return {
    prober: `${prefix}-prober`,
    aggregator: `${prefix}-aggregator`,
    slackNotifier: `${prefix}-slack-notifier`,
    statusRenderer: `${prefix}-status-renderer`,
  } as const;
}
