// The Lambda wiring: environment read once at load (failing loudly), poison records reported as batch item failures.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../lambda/handlers/env';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
  vi.resetModules();
});

describe('aggregator handler', () => {
  it('fails its cold start naming a missing variable', async () => {
    for (const name of Object.values(ENV)) delete process.env[name];
    await expect(import('../../lambda/handlers/aggregator')).rejects.toThrow(/RESULTS_TABLE_NAME is not set/);
  });

  it('reports poison records as batch item failures without touching AWS', async () => {
    Object.assign(process.env, {
      [ENV.resultsTable]: 'results',
      [ENV.incidentsTable]: 'incidents',
      [ENV.topicArn]: 'arn:aws:sns:us-east-1:123456789012:notifications',
      [ENV.probeRegion]: 'us-east-1',
      [ENV.configPath]: 'regionwatch.config.json',
      AWS_REGION: 'us-east-1',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'CRITICAL',
    });
    const { handler } = await import('../../lambda/handlers/aggregator');
    const result = await handler({
      Records: [
        { eventName: 'INSERT', dynamodb: { SequenceNumber: '1', NewImage: { kind: { S: 'round' }, probeRegion: { S: 'eu-west-1' } } } },
        { eventName: 'REMOVE', dynamodb: { SequenceNumber: '2' } },
      ],
    });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: '1' }] });
  });
});
