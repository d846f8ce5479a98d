// Loads the validated config a Lambda was deployed with: synth writes it beside the handler's bundle.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, validateConfig } from '../config/load';
import type { RegionwatchConfig } from '../config/schema';
import { ENV } from './env';

import { BUNDLED_CONFIG_FILE } from './bundled-config';

export { BUNDLED_CONFIG_FILE };

/**
 * Reads and validates the bundled config once; a cold start with a bad config fails loudly. Not `loadConfigFile`:
 * synth writes this file from a config it validated, so the line-and-column locator of JSON syntax errors (for a person
 * editing a file) would be 2 KB of every handler's bundle that never runs; JSON.parse's own message is enough here.
 */
export function loadRuntimeConfig(env: NodeJS.ProcessEnv = process.env): RegionwatchConfig {
  const path = env[ENV.configPath] ?? join(env.LAMBDA_TASK_ROOT ?? process.cwd(), BUNDLED_CONFIG_FILE);
  let input: unknown;
  try {
    input = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error: unknown) {
    throw new ConfigError(path, [{ path: '(file)', message: `cannot read the bundled config: ${error instanceof Error ? error.message : String(error)}` }]);
  }
  const outcome = validateConfig(input);
  if (!outcome.ok) throw new ConfigError(path, outcome.problems);
  return outcome.config;
}
