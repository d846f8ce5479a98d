// The prober Lambda end to end on loopback: env read at load, a scheduled event served into dynalite, EMF metrics with two dimensions only.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createResultsTable } from '../../lambda/store/create-tables';
import { ResultsStore } from '../../lambda/store/results-store';
import { PROBE_METRIC_NAMES } from '../../lambda/probe/metrics';
import { USER_AGENT, VERSION } from '../../lambda/version';
import { PROBE_METRICS } from '../../lib/observability';
import { startFaultyServer, type FaultyServer } from '../helpers/servers';
import { useEmbeddedStore } from '../helpers/store';

const store = useEmbeddedStore();
let server: FaultyServer;
let dir: string;
const saved = { ...process.env };

beforeAll(async () => {
  server = await startFaultyServer();
  dir = mkdtempSync(join(tmpdir(), 'regionwatch-prober-'));
  writeFileSync(
    join(dir, 'regionwatch.config.json'),
    JSON.stringify({
      platform: 'acme',
      probeRegions: ['us-east-1', 'eu-west-1'],
      homeRegion: 'us-east-1',
      defaults: { timeoutMs: 1000 },
      regions: {
        us: { targets: [{ name: 'api', type: 'http', url: `${server.origin}/ok` }, { name: 'db', type: 'http', url: `${server.origin}/status/503` }] },
        eu: { targets: [{ name: 'api', type: 'http', url: `${server.origin}/json` }] },
      },
      probing: { allowPrivateAddresses: true, jitterMs: 0 },
    }),
  );
  await createResultsTable(store.current.client, 'prober-results');
  Object.assign(process.env, {
    RESULTS_TABLE_NAME: 'prober-results',
    PROBE_REGION: 'eu-west-1',
    REGIONWATCH_CONFIG_PATH: join(dir, 'regionwatch.config.json'),
    AWS_ENDPOINT_URL_DYNAMODB: store.current.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
});
afterAll(async () => {
  process.env = saved;
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function context(remainingMs: number): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'regionwatch-prober',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:regionwatch-prober',
    memoryLimitInMB: '512',
    awsRequestId: 'req-1',
    logGroupName: '/aws/lambda/regionwatch-prober',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

describe('prober handler', () => {
  it('serves the scheduled minute into the results table and emits low-cardinality metrics', async () => {
    const { handler } = await import('../../lambda/handlers/prober');
    const minute = Math.floor(Date.now() / 60_000) * 60;
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    let summary;
    try {
      // 7 s left minus the 5 s shutdown margin: room for the first slot of the minute only.
      summary = await handler({ time: new Date(minute * 1000).toISOString() }, context(7_000));
    } finally {
      write.mockRestore();
    }
    expect(summary).toMatchObject({ outcome: 'ran', minute, written: [minute] });

    const results = new ResultsStore({ client: store.current.documentClient, tableName: 'prober-results', retentionHours: 48 });
    const [round] = await results.readRounds(minute, minute);
    expect(round?.probeRegion).toBe('eu-west-1');
    expect(round?.results.map((r) => `${r.region}/${r.target}:${r.status}`)).toEqual(['us/api:up', 'us/db:down', 'eu/api:up']);
    const probe = server.requests.find((r) => r.path === '/json');
    expect(probe?.headers['user-agent']).toBe(USER_AGENT);
    expect(probe?.headers['x-regionwatch-probe-region']).toBe('eu-west-1');

    const emf = lines.flatMap((l) => l.split('\n')).filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const byRegion = new Map(emf.map((m) => [m.PlatformRegion, m]));
    expect(byRegion.get('us')).toMatchObject({ ProbeRegion: 'eu-west-1', Availability: 0.5 });
    expect(byRegion.get('eu')).toMatchObject({ ProbeRegion: 'eu-west-1', Availability: 1 });
    for (const metric of emf) {
      const declared = (metric._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] }).CloudWatchMetrics[0];
      expect(declared?.Namespace).toBe('RegionWatch');
      expect(declared?.Dimensions).toEqual([['PlatformRegion', 'ProbeRegion']]);
      expect(metric).not.toHaveProperty('service');
    }
    const logs = lines.flatMap((l) => l.split('\n')).filter((l) => l.includes('"round finished"'));
    expect(logs).toHaveLength(1);
    expect(JSON.parse(logs[0] ?? '{}')).toMatchObject({ level: 'INFO', probeRegion: 'eu-west-1', slot: minute, checks: 3, down: 1 });
  });
});

describe('contracts the prober shares', () => {
  it('emits the metric names and dimensions the dashboard and alarms read', () => {
    expect(PROBE_METRIC_NAMES).toEqual(PROBE_METRICS);
  });

  it('sends the package version in its User-Agent', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    expect(USER_AGENT).toBe(`regionwatch/${pkg.version}`);
  });
});
