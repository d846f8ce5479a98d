// `regionwatch validate` and `schema` as a user runs them: through the package bin, with real exit codes.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { main } from '../../lambda/cli/main';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'bin/regionwatch.js');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd: root, timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (error: unknown) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function inProcess(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l), cwd: root });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const threeMistakes = {
  platform: 'acme',
  probeRegions: ['us-east-1', 'eu-west-1'],
  homeRegion: 'us-east-1',
  defaults: { quorum: 3 },
  regions: {
    us: {
      targets: [
        { name: 'api', type: 'http', url: 'ftp://api.us.acme.example/health' },
        { name: 'db', type: 'tcp', host: 'db.us.acme.example', port: 5432, timeoutMS: 500 },
      ],
    },
  },
};

describe('regionwatch validate', () => {
  it('prints all three mistakes with their paths and exits 2 (through the package bin)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-validate-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(threeMistakes, null, 2));
    const { code, stderr } = await cli(['validate', '--config', file]);
    expect(code).toBe(2);
    expect(stderr).toContain('3 problems');
    expect(stderr).toContain('regions.us.targets[0].url: url must be an absolute http:// or https:// URL');
    expect(stderr).toContain('regions.us.targets[1].timeoutMS: unknown key "timeoutMS"; did you mean "timeoutMs"?');
    expect(stderr).toContain('defaults.quorum: quorum 3 is larger than the 2 probe regions; use at most 2');
  });

  it('prints a short summary of the example config and exits 0', async () => {
    const { code, out } = await inProcess(['validate']);
    expect(code).toBe(0);
    expect(out).toContain('regionwatch.config.json: valid');
    expect(out).toContain('3 platform regions (us, eu, apac), 12 targets');
    expect(out).toContain('probed from 3 probe regions (us-east-1, eu-west-1, ap-southeast-1), home us-east-1');
  });

  it('warns, with the numbers and the fix, about a host whose targets do not fit the slot, and still exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-validate-'));
    const file = join(dir, 'crowded.json');
    const targets = Array.from({ length: 200 }, (_, n) => ({ name: `t${n}`, type: 'https', url: `https://api.crowded.example/t${n}` }));
    writeFileSync(file, JSON.stringify({ platform: 'crowded', probeRegions: ['us-east-1'], homeRegion: 'us-east-1', defaults: { quorum: 1 }, regions: { us: { targets } } }));
    const { code, out, err } = await inProcess(['validate', '--config', file]);
    expect(code).toBe(0);
    expect(out).toContain('valid, with 1 warning');
    expect(out).toContain('rounds: 200 checks per probe region per slot over 1 shard of up to 768 (64 at a time, 500 ms expected), prober reserved concurrency 3');
    // 8 lanes × (6000 ms / 500 ms) = 96 per host; 200 need 17 lanes.
    expect(err).toContain(
      'warning: probing.perHostConcurrency: host api.crowded.example (200 targets, from regions.us.targets[0]) has more targets than 8 checks at a time of 500 ms (probing.expectedLatencyMs) fit in the 6000 ms of each 10 s slot',
    );
    expect(err).toContain('104 checks a round would be reported as timeout; raise probing.perHostConcurrency to 17, or move targets to other hosts');
    const json = await inProcess(['validate', '--config', file, '--json']);
    expect((JSON.parse(json.out) as { warnings: { path: string }[] }).warnings.map((w) => w.path)).toEqual(['probing.perHostConcurrency']);
  });

  it('answers --json with the problems as data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-validate-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{ "platform": ');
    const { code, out } = await inProcess(['validate', '--config', file, '--json']);
    expect(code).toBe(2);
    const parsed = JSON.parse(out) as { ok: boolean; problems: { path: string; message: string }[] };
    expect(parsed.ok).toBe(false);
    expect(parsed.problems[0]?.message).toContain('line 1, column 15: unexpected end of file');
  });

  it('exits 2 on an unknown command or flag', async () => {
    expect((await inProcess(['frobnicate'])).code).toBe(2);
    const flag = await inProcess(['validate', '--colour']);
    expect(flag.code).toBe(2);
    expect(flag.err).toContain("Unknown option '--colour'");
  });
});

describe('regionwatch schema', () => {
  it('prints the JSON Schema', async () => {
    const { code, out } = await inProcess(['schema']);
    expect(code).toBe(0);
    const schema = JSON.parse(out) as { title: string; properties: Record<string, unknown> };
    expect(schema.title).toBe('regionwatch config');
    expect(schema.properties).toHaveProperty('probeRegions');
  });
});
