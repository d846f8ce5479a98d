// The renderer Lambda end to end: the incident table on DynamoDB Local (records the real lifecycle decided), the page's
// bucket on fauxqs's S3; what lands there, how it is served, and what a second render writes.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { interceptLocalhostDns, startFauxqs, type FauxqsServer } from 'fauxqs';
import { ENV } from '../../lambda/handlers/env';
import type { HostedRender } from '../../lambda/status-page/hosted';
import { baseUrlOf } from '../../lambda/status-page/hosted';
import { createIncidentsTable } from '../../lambda/store/create-tables';
import { DynamoIncidentStore } from '../../lambda/store/incident-store';
import { faults, PureRun, testConfig } from '../core/harness';
import { useTestStore } from '../helpers/store';

const store = useTestStore();
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const BUCKET = 'acme-status';
const saved = { ...process.env };
let server: FauxqsServer;
let s3: S3Client;
let restoreDns: () => void;

beforeAll(async () => {
  server = await startFauxqs({ port: 0, logger: false });
  restoreDns = interceptLocalhostDns();
  s3 = new S3Client({ region: 'us-east-1', endpoint: `http://s3.localhost:${server.port}`, credentials, maxAttempts: 1 });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
  restoreDns?.();
  process.env = { ...saved };
  vi.resetModules();
});

const text = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body?.transformToString();

describe('the status page renderer Lambda', () => {
  it('writes every file with its type, then only what changed', async () => {
    // US down from 14:10, still open at 14:20; written to the table as the aggregator would.
    const run = new PureRun(testConfig(), faults({ us: [[600, 3000, 'down']] })).run(0, 1200);
    const table = 'acme-regionwatch-incidents';
    await createIncidentsTable(store.current.client, table);
    const incidents = new DynamoIncidentStore({ client: store.current.documentClient, tableName: table });
    for (const status of run.status.values()) await incidents.putStatus(status, null);
    for (const incident of run.all('us')) await incidents.putIncident(incident, null);
    if (run.checker) await incidents.putChecker(run.checker, null);
    await incidents.putLease({ holder: 'us-east-1', expiresAt: Date.now() + 45_000, acquiredAt: Date.now(), version: 0 }, null);

    Object.assign(process.env, {
      [ENV.statusBucket]: BUCKET,
      [ENV.incidentsTable]: table,
      [ENV.statusPageUrl]: 'https://status.acme.example/',
      [ENV.configPath]: 'test/status-page/renderer.config.json',
      // The test store's database (its own access key id), and fauxqs's S3.
      ...store.current.env,
      AWS_ENDPOINT_URL_S3: `http://s3.localhost:${server.port}`,
    });
    vi.resetModules();
    const { handler } = await import('../../lambda/handlers/status-renderer');
    const first = (await handler({ Records: [] })) as HostedRender;
    expect(first.written.sort()).toEqual(['badge/apac.svg', 'badge/eu.svg', 'badge/us.svg', 'feed.atom', 'incidents.json', 'index.html', 'status.json']);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    expect(listed.Contents?.map((o) => o.Key).sort()).toEqual(first.written.sort());
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'index.html' }));
    expect(head.ContentType).toBe('text/html; charset=utf-8');
    // (fauxqs keeps the content type, not Cache-Control: the files' own lifetimes are pinned in files.test.ts.)

    const status = JSON.parse((await text('status.json')) ?? '{}') as { regions: { region: string; verdict: string; incident: { incidentId: string } | null }[]; stale: boolean; watchedSince: string };
    expect(status.regions.map((r) => [r.region, r.verdict, r.incident?.incidentId ?? null])).toEqual([
      ['us', 'down', 'us-00001'],
      ['eu', 'up', null],
      ['apac', 'up', null],
    ]);
    expect(status.stale).toBe(false);
    expect(await text('feed.atom')).toContain('<link rel="alternate" type="text/html" href="https://status.acme.example/index.html#incident-us-00001"/>');
    expect(await text('index.html')).toContain('data-region="us" data-verdict="down" data-incident="us-00001"');

    // Nothing the page shows changed but the clock: only the files that carry the render's time are written again,
    // and the first render's watch start is kept.
    const second = (await handler({ Records: [] })) as HostedRender;
    expect(second.written.sort()).toEqual(['incidents.json', 'index.html', 'status.json']);
    const again = JSON.parse((await text('status.json')) ?? '{}') as { watchedSince: string };
    expect(again.watchedSince).toBe(status.watchedSince);
    expect(first.ms).toBeGreaterThan(0);
  });

  it('links the feed from the page directory, public or private', () => {
    expect(baseUrlOf('https://status.acme.example/')).toBe('https://status.acme.example/');
    expect(baseUrlOf('https://b.s3.us-east-1.amazonaws.com/index.html')).toBe('https://b.s3.us-east-1.amazonaws.com/');
  });
});
