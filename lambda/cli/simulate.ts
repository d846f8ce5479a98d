// `regionwatch simulate --scenario FILE`: the real evaluation, incident and outbox code on a virtual clock against a
// scripted fault scenario, with no network; prints what happened and how fast it was seen (docs/simulate.md).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { COMMON_OPTIONS, EXIT, UsageError, type Command } from './command';
import { loadConfigFile } from '../config/load';
import { loadScenarioFile, MAX_SEED, ScenarioError } from '../simulate/scenario';
import { formatSimulation, simulate } from '../simulate/simulate';

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'run the real incident code on a virtual clock against a fault scenario; what happened and how fast it was seen',
  usage: 'regionwatch simulate --scenario FILE [--json] [--seed N] [--config FILE]',
  options: {
    scenario: { type: 'string' },
    seed: { type: 'string' },
    // The default (regionwatch.config.json) is applied in run() rather than by the parser, so that a missing default
    // file can fall back to the built-in example while a missing file the user named is an error.
    config: { type: 'string' },
  },
  async run({ values }, io) {
    if (typeof values.scenario !== 'string' || values.scenario === '') throw new UsageError('--scenario FILE is required');
    let seed: number | undefined;
    if (typeof values.seed === 'string') {
      seed = Number(values.seed);
      if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) throw new UsageError(`--seed must be a whole number from 0 to ${MAX_SEED}, got "${values.seed}"`);
    }
    const configFile = typeof values.config === 'string' ? values.config : COMMON_OPTIONS.config.default;
    let baseConfig: Record<string, unknown> | undefined;
    if (typeof values.config === 'string' || existsSync(resolve(io.cwd, configFile))) {
      // Validated first so its problems are reported against the file; the scenario's overrides are validated after.
      baseConfig = loadConfigFile(resolve(io.cwd, configFile)) as unknown as Record<string, unknown>;
    } else {
      io.err(`regionwatch simulate: no ${configFile} in ${io.cwd}; using the built-in example config (pass --config FILE to use yours)`);
    }
    let scenario;
    try {
      scenario = loadScenarioFile(resolve(io.cwd, values.scenario), { source: values.scenario, ...(baseConfig ? { baseConfig } : {}), ...(seed !== undefined ? { seed } : {}) });
    } catch (error: unknown) {
      if (error instanceof ScenarioError) {
        io.err(error.message);
        return EXIT.usage;
      }
      // A ConfigError (the base config) goes to the command line, which lists its problems and exits 2.
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
