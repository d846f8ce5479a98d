// The whole deployment from one validated config: a stack per probe region, the home one first, and the checks every
// synth runs on it.
import { Annotations, Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { capacityWarnings } from '../lambda/config/capacity';
import type { RegionwatchConfig } from '../lambda/config/schema';
import { ControlTowerChecks } from './control-tower';
import { stackName } from './names';
import { RegionWatchStack } from './region-stack';

/**
 * Adds one `RegionWatch-<region>` stack per probe region. Every other stack depends on the home
 * stack, which creates the global tables and therefore the replicas the others use, so
 * `cdk deploy --all` deploys home first. Adding a probe region to the config adds a stack here
 * and a replica in the home stack; nothing else.
 */
export function addRegionWatchStacks(app: App, config: RegionwatchConfig): Map<string, RegionWatchStack> {
  const stacks = new Map<string, RegionWatchStack>();
  const ordered = [config.homeRegion, ...config.probeRegions.filter((r) => r !== config.homeRegion)];
  for (const probeRegion of ordered) {
    const stack = new RegionWatchStack(app, stackName(probeRegion), {
      config,
      probeRegion,
      stackName: stackName(probeRegion),
      description: `regionwatch for ${config.platform}: probe region ${probeRegion}${probeRegion === config.homeRegion ? ' (home: owns the global tables)' : ''}`,
    });
    const home = stacks.get(config.homeRegion);
    if (home) stack.addStackDependency(home, 'the home stack creates the global tables whose local replicas this stack uses');
    // A config that cannot fit its interval still deploys (the prober reports what it could not start as timeout):
    // a warning on every stack, which cdk synth and cdk deploy print, with the numbers and the fix.
    for (const warning of capacityWarnings(config)) Annotations.of(stack).addWarningV2(`regionwatch:capacity:${warning.path}`, `${warning.path}: ${warning.message}`);
    stacks.set(probeRegion, stack);
  }
  return stacks;
}

/**
 * cdk-nag's AwsSolutions rules and AWS Control Tower's proactive controls (lib/control-tower.ts) on every template:
 * synth fails on any finding of either that is not acknowledged in code, so what fails a Control Tower hook at deploy
 * fails here first. (Validations.of(app).addPlugins is the current form of the App's deprecated policyValidationBeta1.)
 */
export function addPolicyChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ControlTowerChecks());
}
