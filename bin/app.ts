// The CDK app: validates the config named by the `config` context, then one stack per probe region, cdk-nag and AWS
// Control Tower's proactive controls on every synth.
import { App } from 'aws-cdk-lib';
import { ConfigError, loadConfigFile } from '../lambda/config/load';
import type { RegionwatchConfig } from '../lambda/config/schema';
import { addPolicyChecks, addRegionWatchStacks } from '../lib/app';

const app = new App();
const configPath: unknown = app.node.tryGetContext('config');
const file = typeof configPath === 'string' && configPath !== '' ? configPath : 'regionwatch.config.json';

let config: RegionwatchConfig;
try {
  config = loadConfigFile(file);
} catch (error: unknown) {
  if (!(error instanceof ConfigError)) throw error;
  // Before any stack exists: nothing is synthesized, so nothing can be deployed.
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}

addPolicyChecks(app);
addRegionWatchStacks(app, config);
app.synth();
