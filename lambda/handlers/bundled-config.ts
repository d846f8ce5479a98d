// The bundled config read without validating it again: for a handler whose bundle cannot carry the schema (zod is
// about 100 KB). Synth wrote exactly the validated config, every default filled in (lib/function.ts), so the object
// is the one `cdk synth` checked; handlers with room for it re-validate instead (runtime-config.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RegionwatchConfig } from '../config/schema';
import { ENV } from './env';

export const BUNDLED_CONFIG_FILE = 'regionwatch.config.json';

export function readBundledConfig(env: NodeJS.ProcessEnv = process.env): RegionwatchConfig {
  const path = env[ENV.configPath] ?? join(env.LAMBDA_TASK_ROOT ?? process.cwd(), BUNDLED_CONFIG_FILE);
  const config = JSON.parse(readFileSync(path, 'utf8')) as RegionwatchConfig;
  // The few fields the renderer reads, so a wrong file fails the cold start loudly rather than rendering nonsense.
  if (typeof config.platform !== 'string' || typeof config.regions !== 'object' || !Array.isArray(config.probeRegions) || typeof config.statusPage !== 'object') {
    throw new Error(`${path} is not a validated regionwatch config (platform, regions, probeRegions, statusPage)`);
  }
  return config;
}
