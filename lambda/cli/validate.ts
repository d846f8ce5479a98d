// `regionwatch validate`: every problem in the config with its path, or a short summary of what it describes.
import { resolve } from 'node:path';
import { EXIT, type Command } from './command';
import { ConfigError, loadConfigFile } from '../config/load';
import { capacityWarnings, shardPlan } from '../config/capacity';
import { resolveTargets } from '../config/resolve';
import type { RegionwatchConfig } from '../config/schema';
import { count } from '../core/words';

export function summarizeConfig(config: RegionwatchConfig): string[] {
  const targets = resolveTargets(config);
  const regions = Object.keys(config.regions);
  const byType = new Map<string, number>();
  for (const t of targets) byType.set(t.role === 'write-probe' ? 'write-probe' : t.type, (byType.get(t.role === 'write-probe' ? 'write-probe' : t.type) ?? 0) + 1);
  const types = [...byType].map(([type, n]) => `${n} ${type}`).join(', ');
  const d = config.defaults;
  const plan = shardPlan(config);
  return [
    `platform ${config.platform}: ${count(regions.length, 'platform region')} (${regions.join(', ')}), ${count(targets.length, 'target')} (${types || 'none'})`,
    `probed from ${count(config.probeRegions.length, 'probe region')} (${config.probeRegions.join(', ')}), home ${config.homeRegion}`,
    `every ${d.intervalSeconds}s, timeout ${d.timeoutMs}ms, quorum ${d.quorum}, down after ${d.failureThreshold} failing slots, up after ${d.recoveryThreshold}`,
    `rounds: ${count(targets.length, 'check')} per probe region per slot over ${count(plan.shards, 'shard')} of up to ${plan.window.checksPerShard} (${config.probing.concurrency} at a time, ${config.probing.expectedLatencyMs} ms expected), prober reserved concurrency ${plan.reservedConcurrency}`,
    `notifications: ${count(config.notifications.emails.length, 'email')}, Slack ${config.notifications.slackWebhookSecretName ? `via secret ${config.notifications.slackWebhookSecretName}` : 'off'}, reminders every ${config.notifications.reminderMinutes} min; ${count(config.maintenance.length, 'maintenance window')}`,
  ];
}

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check the config; every problem with its path and the fix',
  usage: 'regionwatch validate [--config FILE] [--json]',
  options: {},
  async run({ values }, io) {
    const file = resolve(io.cwd, String(values.config));
    try {
      const config = loadConfigFile(file);
      // Warnings do not fail validation: the config deploys, and the prober reports what does not fit as timeout.
      const warnings = capacityWarnings(config);
      if (values.json) io.out(JSON.stringify({ ok: true, file, warnings, config }, null, 2));
      else {
        io.out(`${String(values.config)}: valid${warnings.length > 0 ? `, with ${count(warnings.length, 'warning')}` : ''}`);
        for (const line of summarizeConfig(config)) io.out(`  ${line}`);
        for (const w of warnings) io.err(`  warning: ${w.path}: ${w.message}`);
      }
      return EXIT.ok;
    } catch (error: unknown) {
      if (!(error instanceof ConfigError)) throw error;
      if (values.json) io.out(JSON.stringify({ ok: false, file, problems: error.problems }, null, 2));
      else io.err(error.message.replace(file, String(values.config)));
      return EXIT.usage;
    }
  },
};
