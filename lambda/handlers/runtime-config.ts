// Loads the validated config a Lambda was deployed with: synth writes it beside the handler's bundle.
import { join } from 'node:path';
import { loadConfigFile } from '../config/load';
import type { RegionwatchConfig } from '../config/schema';
import { ENV } from './env';

import { BUNDLED_CONFIG_FILE } from './bundled-config';

export { BUNDLED_CONFIG_FILE };

/** Reads and validates the bundled config once; a cold start with a bad config fails loudly. */
export function loadRuntimeConfig(env: NodeJS.ProcessEnv = process.env): RegionwatchConfig {
  const path = env[ENV.configPath] ?? join(env.LAMBDA_TASK_ROOT ?? process.cwd(), BUNDLED_CONFIG_FILE);
  return loadConfigFile(path);
}
