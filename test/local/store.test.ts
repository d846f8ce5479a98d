// `regionwatch local --endpoint URL` (AWS's DynamoDB Local here) and `--aws --region R` (the real tables; here a
// DynamoDB-API server standing in for AWS through AWS_ENDPOINT_URL_DYNAMODB, with credentials from the environment).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeTableCommand, ListTablesCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { main } from '../../lambda/cli/main';
import { parseConfig } from '../../lambda/config/load';
import { localTableNames } from '../../lambda/local/engines';
import { createIncidentsTable, createResultsTable } from '../../lambda/store/create-tables';
import { startEmbeddedStore, type EmbeddedStore } from '../../lambda/store/embedded';
import { endpointClients } from '../../lambda/store/local-store';
import { ResultsStore } from '../../lambda/store/results-store';
import { INCIDENTS_TABLE, RESULTS_TABLE } from '../../lambda/store/tables';
import { startFaultyServer, type FaultyServer } from '../helpers/servers';
import { tempDir } from './harness';

const TABLES = localTableNames('acme');

function capture(cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), cwd } };
}

async function tableNames(client: DynamoDBClient): Promise<string[]> {
  return ((await client.send(new ListTablesCommand({}))).TableNames ?? []).sort();
}

// The config's resultRetentionHours (the default, 48): the ring the rounds were written on (lambda/store/tables.ts).
async function roundsIn(client: DynamoDBDocumentClient): Promise<number> {
  const results = new ResultsStore({ client, tableName: TABLES.resultsTable, retentionHours: 48 });
  const now = Math.floor(Date.now() / 1000);
  return (await results.readRounds(now - 600, now + 10)).length;
}

const dir = tempDir('regionwatch-store-');
let platform: FaultyServer;
let configFile = '';
beforeAll(async () => {
  platform = await startFaultyServer();
  configFile = join(dir.path, 'regionwatch.config.json');
  const config = {
    platform: 'acme',
    probeRegions: ['us-east-1', 'eu-west-1', 'ap-southeast-1'],
    homeRegion: 'us-east-1',
    regions: { us: { targets: [{ name: 'api', type: 'http', url: `${platform.origin}/ok` }] } },
    probing: { allowPrivateAddresses: true },
  };
  parseConfig(config);
  writeFileSync(configFile, JSON.stringify(config));
});
afterAll(async () => {
  await platform.close();
  dir.remove();
});

describe('regionwatch local --endpoint (DynamoDB Local)', () => {
  // The run's DynamoDB Local; local mode signs as access key id `local`, which no other file's store uses, so this
  // file's tables are a database of their own.
  const ddb = { endpoint: '' };
  beforeAll(() => {
    ddb.endpoint = inject('dynamodbLocalEndpoint');
  });

  it('creates both tables on a fresh endpoint with the keys, indexes and stream they have on AWS, and runs on them', async () => {
    const data = join(dir.path, 'endpoint');
    const c = capture(dir.path);
    expect(await main(['local', '--config', configFile, '--data-dir', data, '--port', '0', '--for', '2', '--endpoint', ddb.endpoint], c.io), c.err.join('\n')).toBe(0);
    expect(c.out).toContain(`  tables       DynamoDB at ${ddb.endpoint}`);
    expect(c.out.at(-1)).toBe(`regionwatch local: stopped; incidents and history are kept in the tables (DynamoDB at ${ddb.endpoint}), the notifications log in ${data}`);

    const { client, documentClient } = endpointClients(ddb.endpoint);
    try {
      expect(await tableNames(client)).toEqual([TABLES.incidentsTable, TABLES.resultsTable]);
      const results = (await client.send(new DescribeTableCommand({ TableName: TABLES.resultsTable }))).Table;
      expect(results?.KeySchema).toEqual([
        { AttributeName: RESULTS_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: RESULTS_TABLE.sortKey, KeyType: 'RANGE' },
      ]);
      expect(results?.StreamSpecification).toMatchObject({ StreamEnabled: true, StreamViewType: 'NEW_IMAGE' });
      const incidents = (await client.send(new DescribeTableCommand({ TableName: TABLES.incidentsTable }))).Table;
      expect(incidents?.KeySchema?.map((k) => k.AttributeName)).toEqual([INCIDENTS_TABLE.partitionKey, INCIDENTS_TABLE.sortKey]);
      expect(incidents?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.KeySchema?.map((k) => k.AttributeName)]).sort()).toEqual([
        [INCIDENTS_TABLE.openIncidentsIndex.name, [INCIDENTS_TABLE.openIncidentsIndex.partitionKey, INCIDENTS_TABLE.openIncidentsIndex.sortKey]],
        [INCIDENTS_TABLE.regionIncidentsIndex.name, [INCIDENTS_TABLE.regionIncidentsIndex.partitionKey, INCIDENTS_TABLE.regionIncidentsIndex.sortKey]],
      ]);
      // Every probe region's round went to the endpoint's results table.
      expect(await roundsIn(documentClient)).toBeGreaterThanOrEqual(3);
    } finally {
      client.destroy();
    }
    // The read commands find the endpoint's tables through the data directory afterwards.
    const status = capture(dir.path);
    expect(await main(['status', '--data-dir', data, '--json'], status.io), status.err.join('\n')).toBe(0);
    const parsed = JSON.parse(status.out.join('\n')) as { source: string; regions: { region: string }[] };
    expect(parsed.source).toBe(`${data} (tables at ${ddb.endpoint})`);
    expect(parsed.regions.map((r) => r.region)).toEqual(['us']);
  });

  it('reuses the tables on a restart over the same data directory, keeping what they hold', async () => {
    const { client, documentClient } = endpointClients(ddb.endpoint);
    try {
      const before = await roundsIn(documentClient);
      const c = capture(dir.path);
      expect(await main(['local', '--config', configFile, '--data-dir', join(dir.path, 'endpoint'), '--port', '0', '--for', '2', '--endpoint', `${ddb.endpoint}/`], c.io), c.err.join('\n')).toBe(0);
      expect(await tableNames(client)).toEqual([TABLES.incidentsTable, TABLES.resultsTable]);
      expect(await roundsIn(documentClient)).toBeGreaterThanOrEqual(before);
    } finally {
      client.destroy();
    }
  });

  it('refuses to share the tables with another writer of the same slots (one line, exit 1)', async () => {
    const c = capture(dir.path);
    const other = join(dir.path, 'other');
    expect(await main(['local', '--config', configFile, '--data-dir', other, '--port', '0', '--for', '2', '--endpoint', ddb.endpoint], c.io)).toBe(1);
    expect(c.err).toHaveLength(1);
    expect(c.err[0]).toMatch(
      new RegExp(`^regionwatch local: acme-regionwatch-results in DynamoDB at ${ddb.endpoint.replace(/[.:/]/g, '\\$&')} has results from the last 30 s \\(probe regions [a-z0-9, -]+\\) that this data directory did not write: the deployed probers or another local mode write there`),
    );
    expect(c.out).toEqual([]);
  });

  it('says in one line that an endpoint does not answer', async () => {
    const c = capture(dir.path);
    expect(await main(['local', '--config', configFile, '--data-dir', join(dir.path, 'nobody'), '--port', '0', '--for', '1', '--endpoint', 'http://127.0.0.1:1'], c.io)).toBe(1);
    expect(c.err).toEqual(['regionwatch local: cannot reach DynamoDB at http://127.0.0.1:1 (ECONNREFUSED); start it, or check the address']);
  });
});

describe('regionwatch local --aws --region R (the real tables)', () => {
  const saved = { ...process.env };
  let aws: EmbeddedStore;
  beforeAll(async () => {
    aws = await startEmbeddedStore();
    for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key];
    // No instance metadata lookups from a test: all traffic stays on loopback.
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials';
    process.env.AWS_ENDPOINT_URL_DYNAMODB = aws.endpoint;
  });
  afterAll(async () => {
    process.env = saved;
    await aws?.close();
  });
  const withCredentials = async (body: () => Promise<void>) => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDTEST';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret';
    try {
      await body();
    } finally {
      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
    }
  };
  const local = (data: string) => ['local', '--config', configFile, '--data-dir', join(dir.path, data), '--port', '0', '--for', '2', '--aws', '--region', 'eu-west-1'];

  it('fails at once with one line when there are no credentials', async () => {
    const c = capture(dir.path);
    expect(await main(local('aws-none'), c.io)).toBe(1);
    expect(c.err).toEqual([
      'regionwatch local: no AWS credentials found for region eu-west-1; set AWS_PROFILE (after `aws sso login` or `aws configure`) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, then try again',
    ]);
  });

  it('never creates a table: a missing one is one line that says to deploy, exit 1', async () => {
    await withCredentials(async () => {
      const c = capture(dir.path);
      expect(await main(local('aws-missing'), c.io)).toBe(1);
      expect(c.err).toEqual([
        'regionwatch local: table acme-regionwatch-results not found in AWS eu-west-1; deploy regionwatch first (npx cdk deploy RegionWatch-us-east-1 creates both tables with a replica in every probe region); local --aws never creates tables',
      ]);
      expect(await tableNames(aws.client)).toEqual([]);
      // One table deployed and not the other: still nothing created.
      await createResultsTable(aws.client, TABLES.resultsTable);
      const half = capture(dir.path);
      expect(await main(local('aws-missing'), half.io)).toBe(1);
      expect(half.err[0]).toMatch(/^regionwatch local: table acme-regionwatch-incidents not found in AWS eu-west-1; deploy regionwatch first/);
      expect(await tableNames(aws.client)).toEqual([TABLES.resultsTable]);
    });
  });

  it('runs on the deployed tables, and the data directory then points the read commands at --aws', async () => {
    await createIncidentsTable(aws.client, TABLES.incidentsTable);
    await withCredentials(async () => {
      const c = capture(dir.path);
      expect(await main(local('aws'), c.io), c.err.join('\n')).toBe(0);
      expect(c.out).toContain('  tables       AWS eu-west-1');
      expect(await tableNames(aws.client)).toEqual([TABLES.incidentsTable, TABLES.resultsTable]);
      expect(await roundsIn(aws.documentClient)).toBeGreaterThanOrEqual(3);
    });
    const status = capture(dir.path);
    expect(await main(['status', '--data-dir', join(dir.path, 'aws')], status.io)).toBe(1);
    expect(status.err).toEqual([`regionwatch status: local mode in ${join(dir.path, 'aws')} ran on the real tables in eu-west-1; read them with --aws --region eu-west-1`]);
  });
});

describe('regionwatch local store flags', () => {
  it('names the mistake with exit 2', async () => {
    const cases: [string[], string][] = [
      [['--aws'], '--aws needs --region R, the AWS region whose tables (a probe region with a replica) local mode uses'],
      [['--region', 'us-east-1'], '--region names the AWS region of the real tables and needs --aws'],
      [['--endpoint', 'http://127.0.0.1:8000', '--aws', '--region', 'us-east-1'], '--endpoint and --aws name two stores; pass one'],
      [['--endpoint', '127.0.0.1:8000'], '--endpoint must be the URL of a DynamoDB endpoint, such as http://127.0.0.1:8000; got "127.0.0.1:8000"'],
    ];
    for (const [flags, message] of cases) {
      const c = capture(dir.path);
      expect(await main(['local', '--config', configFile, '--data-dir', join(dir.path, 'flags'), ...flags], c.io), flags.join(' ')).toBe(2);
      expect(c.err[0]?.split('\n')[0]).toBe(`regionwatch local: ${message}`);
    }
  });
});
