// Targets with their region's name and every default applied: what probers and the aggregator work from.
import type { RegionwatchConfig, TargetConfig, Tuning } from './schema';

export type ResolvedTarget = TargetConfig &
  Tuning & {
    /** Platform region the target belongs to. */
    region: string;
    /** `read` for every check but a write probe. */
    role: 'read' | 'write-probe';
  };

/** Every target of every platform region, defaults filled in, in config order. */
export function resolveTargets(config: RegionwatchConfig): ResolvedTarget[] {
  const targets: ResolvedTarget[] = [];
  for (const [region, { targets: regionTargets }] of Object.entries(config.regions)) {
    for (const target of regionTargets) {
      const role = target.type === 'http' || target.type === 'https' ? target.role : 'read';
      targets.push({
        ...target,
        intervalSeconds: target.intervalSeconds ?? config.defaults.intervalSeconds,
        timeoutMs: target.timeoutMs ?? config.defaults.timeoutMs,
        failureThreshold: target.failureThreshold ?? config.defaults.failureThreshold,
        recoveryThreshold: target.recoveryThreshold ?? config.defaults.recoveryThreshold,
        quorum: target.quorum ?? config.defaults.quorum,
        degradedLatencyMs: target.degradedLatencyMs ?? config.defaults.degradedLatencyMs,
        region,
        role,
      });
    }
  }
  return targets;
}

export function platformRegions(config: RegionwatchConfig): string[] {
  return Object.keys(config.regions);
}
