// The CDK app: validates the config named by the `config` context, then one stack per probe region, cdk-nag on every synth.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, loadConfigFile } from '../lambda/config/load';
import type { RegionwatchConfig } from '../lambda/config/schema';
import { addRegionWatchStacks } from '../lib/app';

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

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
addRegionWatchStacks(app, config);
app.synth();
