// `regionwatch simulate --scenario FILE`: the real evaluation, incident and outbox code on a virtual clock against a
// scripted fault scenario, with no network; prints what happened and how fast it was seen (docs/simulate.md).
import { resolve } from 'node:path';
import { EXIT, UsageError, type Command } from './command';
import { ConfigError, loadConfigFile } from '../config/load';
import { loadScenarioFile, ScenarioError } from '../simulate/scenario';
import { formatSimulation, simulate } from '../simulate/simulate';

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'run the real incident code on a virtual clock against a fault scenario; what happened and how fast it was seen',
  usage: 'regionwatch simulate --scenario FILE [--json] [--seed N] [--config FILE]',
  options: {
    scenario: { type: 'string' },
    seed: { type: 'string' },
    // No default here: without --config the scenario runs on the built-in example config, so results do not depend
    // on the directory it is run from.
    config: { type: 'string' },
  },
  async run({ values }, io) {
    if (typeof values.scenario !== 'string' || values.scenario === '') throw new UsageError('--scenario FILE is required');
    let seed: number | undefined;
    if (typeof values.seed === 'string') {
      seed = Number(values.seed);
      if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32) throw new UsageError(`--seed must be a whole number from 0 to 4294967296, got "${values.seed}"`);
    }
    let baseConfig: Record<string, unknown> | undefined;
    if (typeof values.config === 'string') {
      // Validated first so its problems are reported against the file; the scenario's overrides are validated after.
      baseConfig = loadConfigFile(resolve(io.cwd, values.config)) as unknown as Record<string, unknown>;
    }
    let scenario;
    try {
      scenario = loadScenarioFile(resolve(io.cwd, values.scenario), { source: values.scenario, ...(baseConfig ? { baseConfig } : {}), ...(seed !== undefined ? { seed } : {}) });
    } catch (error: unknown) {
      if (error instanceof ScenarioError) {
        io.err(error.message);
        return EXIT.usage;
      }
      if (error instanceof ConfigError) throw error;
      throw error;
    }
    const sim = await simulate(scenario);
    if (values.json) {
      io.out(JSON.stringify(sim.report, null, 2));
      for (const e of sim.expectations.filter((x) => !x.ok)) io.err(`expectation not met: ${e.what}: expected ${e.expected}, got ${e.got}`);
    } else for (const line of formatSimulation(sim, values.scenario)) io.out(line);
    return sim.ok ? EXIT.ok : EXIT.finding;
  },
};
