// The deployment the Lambda-like harness runs: `cdk synth` of a harness config (the example config pointed at a
// loopback platform, on a short interval), with bundling for real, done once per test run and shared by every file
// that needs it: the first one to ask synthesizes into the run directory, the others wait for it.
import { mkdirSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { inject } from 'vitest';
import { loadConfigFile } from '../../../lambda/config/load';
import type { RegionwatchConfig, RegionwatchConfigInput } from '../../../lambda/config/schema';
import { PROJECT_ROOT } from '../../../lib/function';
import { stackName } from '../../../lib/names';
import { cdkAsync } from '../cdk';

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  DependsOn?: string | string[];
}

export interface StackTemplate {
  region: string;
  stackName: string;
  resources: Record<string, CfnResource>;
}

export interface Deployment {
  /** The cloud assembly (cdk.out) directory. */
  outdir: string;
  /** The validated config the bundles carry. */
  config: RegionwatchConfig;
  /** Where the loopback platform of the harness config must listen (fixed at synth, since the bundles carry it). */
  platformPort: number;
  stacks: StackTemplate[];
}

/**
 * Where each platform region of the harness config is served: its own loopback address, so each is a host of its own
 * to the prober's per-host caps and shard plan (Linux routes all of 127.0.0.0/8 to the loopback interface).
 */
export const PLATFORM_HOSTS: Readonly<Record<string, string>> = { us: '127.0.0.1', eu: '127.0.0.2', apac: '127.0.0.3' };

/**
 * The config the shared deployment is synthesized with, for a platform on `PLATFORM_HOSTS`:`port`. Its rounds fan out
 * over 2 shards, so the story runs the deployed prober's fan-out: 2 checks at a time of 1 s expected in the 2 s a
 * 5 s slot counts on (less 1 s of write margin, 1 s of delivery slack and a fifth of the slot) hold 4 checks a shard, and the three hosts of 2 targets need 2 shards (us and apac, eu).
 */
export function harnessConfig(port: number): RegionwatchConfigInput {
  const example = JSON.parse(readFileSync(join(PROJECT_ROOT, 'regionwatch.config.json'), 'utf8')) as RegionwatchConfigInput & { $schema?: string };
  const { $schema: _schema, ...rest } = example;
  const region = (name: string) => {
    const origin = `http://${PLATFORM_HOSTS[name] ?? '127.0.0.1'}:${port}`;
    return {
      targets: [
        { name: 'api', type: 'http' as const, url: `${origin}/${name}/health`, expect: { status: [200], bodyContains: 'ok' } },
        { name: 'write-path', type: 'http' as const, method: 'POST' as const, role: 'write-probe' as const, url: `${origin}/${name}/canary` },
      ],
    };
  };
  return {
    ...rest,
    // 5 s slots, a 1 s timeout (loopback answers in milliseconds), two failing slots to open and one good one to
    // de-escalate or resolve: the story takes half a minute, not an hour.
    defaults: { intervalSeconds: 5, timeoutMs: 1000, failureThreshold: 2, recoveryThreshold: 1, quorum: 2, degradedLatencyMs: 1500 },
    regions: { us: region('us'), eu: region('eu'), apac: region('apac') },
    // The platform is on loopback, which the SSRF guard refuses unless told; no jitter, so every probe lands at the slot's start.
    probing: { allowPrivateAddresses: true, jitterMs: 0, concurrency: 2, expectedLatencyMs: 1000 },
    maintenance: [],
  };
}

/** A port outside the ephemeral range (so no test's listen(0) can take it meanwhile) that is free now. */
async function reservePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    const freeOn = (host: string) =>
      new Promise<boolean>((resolve) => {
        const server = createServer();
        server.once('error', () => resolve(false));
        server.listen(port, host, () => server.close(() => resolve(true)));
      });
    const free = (await Promise.all(Object.values(PLATFORM_HOSTS).map(freeOn))).every(Boolean);
    if (free) return port;
  }
  throw new Error('no free port in 20000-29999 for the harness platform');
}

export function loadDeployment(outdir: string, config: RegionwatchConfig, platformPort: number): Deployment {
  const stacks = config.probeRegions.map((region) => {
    const name = stackName(region);
    const template = JSON.parse(readFileSync(join(outdir, `${name}.template.json`), 'utf8')) as { Resources: Record<string, CfnResource> };
    return { region, stackName: name, resources: template.Resources };
  });
  return { outdir, config, platformPort, stacks };
}

interface Marker {
  outdir: string;
  configFile: string;
  platformPort: number;
}

function writeJson(file: string, value: unknown): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(value));
  renameSync(`${file}.tmp`, file);
}

/**
 * The run's shared deployment: synthesized by the first caller (`cdk synth` with bundling, offline, as a user runs
 * it), awaited by the others. A failed synth fails every caller with cdk's own message.
 */
export async function sharedDeployment(): Promise<Deployment> {
  const dir = join(inject('runDir'), 'deployment');
  const ready = join(dir, 'ready.json');
  const failed = join(dir, 'failed.json');
  let owner = false;
  try {
    mkdirSync(dir);
    owner = true;
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (owner) {
    try {
      const platformPort = await reservePort();
      const configFile = join(dir, 'regionwatch.config.json');
      writeFileSync(configFile, JSON.stringify(harnessConfig(platformPort), null, 2));
      const outdir = join(dir, 'cdk.out');
      const synth = await cdkAsync(['synth', '--quiet', '-c', `config=${configFile}`, '--output', outdir]);
      if (synth.status !== 0) throw new Error(`cdk synth of the harness config failed: ${synth.stderr.trim()}`);
      writeJson(ready, { outdir, configFile, platformPort } satisfies Marker);
    } catch (error: unknown) {
      writeJson(failed, { message: error instanceof Error ? error.message : String(error) });
      throw error;
    }
  }
  const until = Date.now() + 240_000;
  while (!existsSync(ready)) {
    if (existsSync(failed)) throw new Error((JSON.parse(readFileSync(failed, 'utf8')) as { message: string }).message);
    if (Date.now() > until) throw new Error('the shared deployment was not synthesized within 4 minutes');
    await delay(200);
  }
  const marker = JSON.parse(readFileSync(ready, 'utf8')) as Marker;
  return loadDeployment(marker.outdir, loadConfigFile(marker.configFile), marker.platformPort);
}

/** The one resource of `type` whose logical id starts with `prefix`. */
export function resourceOf(stack: StackTemplate, type: string, prefix = ''): [string, CfnResource] {
  const found = Object.entries(stack.resources).filter(([id, r]) => r.Type === type && id.startsWith(prefix));
  if (found.length !== 1) throw new Error(`${stack.stackName}: expected one ${type}${prefix ? ` named ${prefix}…` : ''}, found ${found.length}`);
  return found[0] as [string, CfnResource];
}

/** The asset directory a function's Code points at. */
export function assetDirectory(deployment: Deployment, resource: CfnResource): string {
  const path = resource.Metadata?.['aws:asset:path'];
  if (typeof path === 'string') return join(deployment.outdir, path);
  const key = (resource.Properties?.Code as { S3Key?: unknown } | undefined)?.S3Key;
  if (typeof key !== 'string') throw new Error('function has neither asset metadata nor an S3 key');
  return join(deployment.outdir, `asset.${key.replace(/\.zip$/, '')}`);
}
