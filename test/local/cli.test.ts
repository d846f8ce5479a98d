import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { main } from '../../lambda/cli/main';
import { ScaledClock } from '../../lambda/local/clock';
import { demoConfig, startDemoPlatform, type DemoPlatform } from '../../lambda/local/demo-platform';
import { demoScript } from '../../lambda/local/demo-script';
import { localTableNames } from '../../lambda/local/engines';
import { resourceNames } from '../../lib/names';
import { tempDir } from './harness';

function capture(signal?: AbortSignal) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), cwd: '/', ...(signal ? { signal } : {}) } };
}

describe('regionwatch local on the command line', () => {
  const dir = tempDir('regionwatch-cli-');
  let platform: DemoPlatform;
  let busy: Server;
  let busyPort = 0;
  let configFile = '';

  beforeAll(async () => {
    // A healthy platform: the demo's servers on a clock parked before the script's first fault.
    const script = demoScript();
    const clock = new ScaledClock(script.windows[0]?.from ?? 0, 1);
    clock.holdAt(script.windows[0]?.from ?? 0);
    platform = await startDemoPlatform({ script, clock });
    configFile = join(dir.path, 'regionwatch.config.json');
    writeFileSync(configFile, JSON.stringify(demoConfig(platform), null, 2));
    busy = createServer((_req, res) => res.end('busy'));
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', () => resolve()));
    busyPort = (busy.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => busy.close(() => resolve()));
    await platform.close();
    dir.remove();
  });

  it('refuses a port in use with one line and exit 2', async () => {
    const c = capture();
    const code = await main(['local', '--config', configFile, '--data-dir', join(dir.path, 'port'), '--port', String(busyPort), '--for', '1'], c.io);
    expect(code).toBe(2);
    expect(c.err).toEqual([
      `regionwatch local: port ${busyPort} on 127.0.0.1 is already in use; stop what is using it or pass --port with another port (0 picks a free one)`,
    ]);
    // It let go of the data directory again.
    expect(existsSync(join(dir.path, 'port', 'regionwatch.lock'))).toBe(false);
  });

  it('refuses a data directory it cannot write (even as root) with one line and exit 2', async () => {
    const file = join(dir.path, 'a-file');
    writeFileSync(file, 'not a directory');
    const c = capture();
    const code = await main(['local', '--config', configFile, '--data-dir', join(file, 'data'), '--port', '0', '--for', '1'], c.io);
    expect(code).toBe(2);
    expect(c.err).toEqual([
      `regionwatch local: data directory ${join(file, 'data')} is not writable (a part of the path is a file, not a directory); pass --data-dir with a directory you can write to`,
    ]);
    expect(c.out).toEqual([]);
  });

  it('refuses a bad config with its problems and exit 2, before starting anything', async () => {
    const bad = join(dir.path, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...demoConfig(platform), probeRegions: ['us-east-1'], homeRegion: 'eu-west-1' }));
    const c = capture();
    const code = await main(['local', '--config', bad, '--data-dir', join(dir.path, 'bad'), '--port', '0', '--for', '1'], c.io);
    expect(code).toBe(2);
    expect(c.err).toEqual([`${bad}: 2 problems\n  homeRegion: homeRegion "eu-west-1" is not a probe region; use one of us-east-1\n  defaults.quorum: quorum 2 is larger than the 1 probe region; use at most 1`]);
    expect(existsSync(join(dir.path, 'bad'))).toBe(false);
  });

  it('runs for --for seconds, then status and report read what it wrote', async () => {
    const data = join(dir.path, 'run');
    const c = capture();
    const code = await main(['local', '--config', configFile, '--data-dir', data, '--port', '0', '--for', '2'], c.io);
    expect(code, c.err.join('\n')).toBe(0);
    expect(c.out[1]).toMatch(/^ {2}status page {2}http:\/\/127\.0\.0\.1:\d+$/);
    expect(c.out[c.out.length - 1]).toBe(`regionwatch local: stopped; incidents and history are kept in ${data}`);
    const info = JSON.parse(readFileSync(join(data, 'run.json'), 'utf8')) as { live?: unknown; lastSlotAt?: string };
    expect(info.live).toBeUndefined();
    expect(info.lastSlotAt).toBeDefined();

    const status = capture();
    expect(await main(['status', '--data-dir', data, '--json'], status.io)).toBe(0);
    const parsed = JSON.parse(status.out.join('\n')) as { regions: { region: string }[]; openIncidents: unknown[] };
    expect(parsed.regions.map((r) => r.region)).toEqual(['us', 'eu', 'apac']);
    expect(parsed.openIncidents).toEqual([]);

    const report = capture();
    expect(await main(['report', '--data-dir', data], report.io)).toBe(0);
    expect(report.out).toContain('  EU    no interruption  (100.00% available)');
  });

  it('stops cleanly on Ctrl-C (the abort signal)', async () => {
    const controller = new AbortController();
    const c = capture(controller.signal);
    setTimeout(() => controller.abort(), 1500);
    const started = performance.now();
    const code = await main(['local', '--config', configFile, '--data-dir', join(dir.path, 'ctrl-c'), '--port', '0'], c.io);
    expect(code).toBe(0);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(existsSync(join(dir.path, 'ctrl-c', 'regionwatch.lock'))).toBe(false);
  });

  it('read commands explain a data directory without data with one line and exit 1 (a failure, not a usage mistake)', async () => {
    const empty = join(dir.path, 'empty');
    for (const command of ['status', 'incidents', 'report']) {
      const c = capture();
      expect(await main([command, '--data-dir', empty], c.io)).toBe(1);
      expect(c.err).toEqual([
        `regionwatch ${command}: no regionwatch data in ${empty}; run \`regionwatch local --data-dir ${empty}\` or \`regionwatch demo --data-dir ${empty}\` first, or pass --aws --region R`,
      ]);
      expect(c.out).toEqual([]);
    }
  });
});

describe('the read commands against AWS', () => {
  const saved = { ...process.env };
  const dir = tempDir('regionwatch-aws-');
  const config = join(dir.path, 'regionwatch.config.json');
  beforeAll(() => {
    for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_DYNAMODB']) {
      delete process.env[key];
    }
    // No instance metadata lookups from a test: all traffic stays on loopback.
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials';
    writeFileSync(config, JSON.stringify({ platform: 'acme', probeRegions: ['us-east-1'], homeRegion: 'us-east-1', defaults: { quorum: 1 }, regions: { us: { targets: [] } } }));
  });
  afterAll(() => {
    process.env = saved;
    dir.remove();
  });

  /** Runs `body` with credentials set and the DynamoDB endpoint pointed at a loopback server. */
  async function withEndpoint(endpoint: string, body: () => Promise<void>): Promise<void> {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDTEST';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret';
    process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
    try {
      await body();
    } finally {
      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
      delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
    }
  }

  it('fail at once with a clear line and exit 1 when there are no credentials', async () => {
    const c = capture();
    const started = performance.now();
    expect(await main(['report', '--aws', '--region', 'us-east-1', '--config', config], c.io)).toBe(1);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(c.err).toEqual([
      'regionwatch report: no AWS credentials found for region us-east-1; set AWS_PROFILE (after `aws sso login` or `aws configure`) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, then try again',
    ]);
    expect(c.out).toEqual([]);
  });

  it('exit 1 with one line when the incident table does not exist', async () => {
    // AWS's DynamoDB Local, with an access key id no test creates tables under: its real ResourceNotFoundException.
    await withEndpoint(inject('dynamodbLocalEndpoint'), async () => {
      for (const command of ['status', 'incidents', 'report']) {
        const c = capture();
        expect(await main([command, '--aws', '--region', 'eu-west-1', '--config', config], c.io)).toBe(1);
        expect(c.err).toEqual([`regionwatch ${command}: table acme-regionwatch-incidents not found in eu-west-1; deploy regionwatch there or pass --table NAME`]);
      }
      const named = capture();
      expect(await main(['incidents', '--aws', '--region', 'eu-west-1', '--table', 'other', '--config', config], named.io)).toBe(1);
      expect(named.err).toEqual(['regionwatch incidents: table other not found in eu-west-1; deploy regionwatch there or pass --table NAME']);
    });
  });

  it('exit 1 with one line when AWS refuses the read', async () => {
    const requests: string[] = [];
    const denying = createServer((req, res) => {
      requests.push(String(req.headers['x-amz-target']));
      req.resume();
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': 'AccessDeniedException' });
      res.end(JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', message: 'not authorized to perform dynamodb:Query' }));
    });
    await new Promise<void>((resolve) => denying.listen(0, '127.0.0.1', () => resolve()));
    try {
      await withEndpoint(`http://127.0.0.1:${(denying.address() as AddressInfo).port}`, async () => {
        const c = capture();
        expect(await main(['incidents', '--open', '--aws', '--region', 'us-east-1', '--config', config], c.io)).toBe(1);
        expect(c.err).toEqual([
          'regionwatch incidents: AWS refused the read of acme-regionwatch-incidents in us-east-1 (AccessDeniedException); check the credentials and that they allow dynamodb:Query and dynamodb:GetItem',
        ]);
      });
      expect(requests).toContain('DynamoDB_20120810.Query');
    } finally {
      await new Promise<void>((resolve) => denying.close(() => resolve()));
    }
  });

  it('keep exit 2 for usage mistakes and a bad config', async () => {
    const noRegion = capture();
    expect(await main(['status', '--aws'], noRegion.io)).toBe(2);
    expect(noRegion.err).toEqual([
      'regionwatch status: --aws needs --region R, the AWS region whose replica of the incident table to read\nusage: regionwatch status [--data-dir D | --aws --region R [--table NAME] [--config FILE]] [--json]',
    ]);
    const noAws = capture();
    expect(await main(['report', '--region', 'us-east-1'], noAws.io)).toBe(2);
    expect(noAws.err[0]).toMatch(/^regionwatch report: --region reads from AWS and needs --aws\nusage: regionwatch report /);
    const badFlag = capture();
    expect(await main(['incidents', '--since', '2026-04-14'], badFlag.io)).toBe(2);
    expect(badFlag.err[0]).toMatch(/^regionwatch incidents: Unknown option '--since'/);
    const missing = join(dir.path, 'missing.json');
    const badConfig = capture();
    expect(await main(['report', '--aws', '--region', 'us-east-1', '--config', missing], badConfig.io)).toBe(2);
    expect(badConfig.err).toEqual([`${missing}: 1 problem\n  (file): no such file; pass --config FILE or create regionwatch.config.json`]);
  });

  it('derive the incident table name the way the infrastructure names it', () => {
    expect(localTableNames('acme')).toEqual({ resultsTable: resourceNames('acme').resultsTable, incidentsTable: resourceNames('acme').incidentsTable });
  });
});
