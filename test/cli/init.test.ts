// `regionwatch init`: a test answers its questions; what it writes validates, synthesizes and runs in local mode.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schemaPathFor } from '../../lambda/cli/init';
import type { CommandIo } from '../../lambda/cli/command';
import { main } from '../../lambda/cli/main';
import { loadConfigFile } from '../../lambda/config/load';
import { PROJECT_ROOT } from '../../lib/function';
import { startFaultyServer, type FaultyServer } from '../helpers/servers';
import { wrongPlurals } from '../helpers/words';
import { synthScenario } from '../infra/synth';
import { tempDir } from '../local/harness';

const SCHEMA_FILE = join(PROJECT_ROOT, 'regionwatch.schema.json');

/**
 * Runs a command whose questions are answered as they are asked: each prompt written is matched against `answers`
 * (first match wins, each used once) and its answer typed in, as a person at a terminal would.
 */
async function answering(argv: string[], cwd: string, answers: [RegExp, string][]) {
  const input = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  const prompts: string[] = [];
  const left = [...answers];
  const io: CommandIo = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    cwd,
    input,
    write: (text) => {
      prompts.push(text);
      const i = left.findIndex(([pattern]) => pattern.test(text));
      const [, answer] = left.splice(i, 1)[0] ?? [undefined, undefined];
      // No answer for this prompt: end the input, as a closed terminal would.
      setImmediate(() => (i < 0 || answer === undefined ? input.end() : input.write(`${answer}\n`)));
    },
  };
  const code = await main(argv, io);
  return { code, out, err, prompts, unused: left };
}

function capture(cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), cwd } };
}

type Written = Record<string, unknown> & {
  $schema: string;
  $comment: string[];
  regions: Record<string, { $comment: string | string[]; targets: Record<string, unknown>[] }>;
  probing?: { allowPrivateAddresses: boolean; $comment: string };
};

const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Written;

describe('regionwatch init, answered at the prompts', () => {
  const dir = tempDir('regionwatch-init-');
  afterAll(() => dir.remove());

  it('asks for the platform, its regions, a URL per region and a write probe; re-asks a bad answer; offers the private-address key for a loopback URL', async () => {
    const run = await answering(['init'], dir.path, [
      [/^Platform name .*\[regionwatch-init-/, 'Acme Corp'],
      [/^Platform name/, 'acme'],
      [/^Platform regions/, 'us, eu'],
      [/^Health-check URL for us /, 'http://127.0.0.1:18080/health'],
      [/^Write-probe URL for us:/, 'http://127.0.0.1:18080/canary'],
      [/^Health-check URL for eu /, 'https://api.eu.acme.example/health'],
      [/^Write-probe URL for eu:/, ''],
      [/^Probe regions: .*\[us-east-1, eu-west-1, ap-southeast-1\]: $/, ''],
      [/^http:\/\/127\.0\.0\.1:18080\/health and http:\/\/127\.0\.0\.1:18080\/canary are loopback addresses, which probers refuse unless probing\.allowPrivateAddresses is true\. Allow them\? \(y\/n\) \[y\]: $/, 'y'],
      [/^Email for notifications/, 'oncall@acme.example'],
    ]);
    expect(run.code, run.err.join('\n')).toBe(0);
    expect(run.unused).toEqual([]);
    // The bad platform name was refused with the fix, then asked again.
    expect(run.out).toContain('  platform "Acme Corp" must be 1-32 lowercase letters, digits or dashes, starting with a letter or digit');
    expect(run.out.slice(-6)).toEqual([
      'regionwatch init: wrote regionwatch.config.json: acme, 3 targets in 2 platform regions, probed from 3 probe regions',
      '  no write probe for eu yet: read-only looks like up there until you add one (the note in the file says how)',
      '  probing.allowPrivateAddresses is on: loopback and private targets work in regionwatch local; probers in AWS reach only what their network can',
      '  check it     npx regionwatch validate',
      '  watch it     npx regionwatch local   (status page on http://127.0.0.1:8787)',
      '  deploy it    npx cdk deploy --all   (docs/deploy.md)',
    ]);

    const file = join(dir.path, 'regionwatch.config.json');
    const written = read(file);
    // The $schema line an editor follows leads to the committed schema, and the file passes it.
    expect(resolve(dirname(file), written.$schema)).toBe(SCHEMA_FILE);
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object);
    expect(validate(written), JSON.stringify(validate.errors)).toBe(true);
    // Commented: a note at the top and on each thing a person edits.
    expect(written.$comment[0]).toMatch(/^regionwatch config for acme, written by regionwatch init/);
    for (const key of ['defaults', 'notifications', 'probing']) expect((written[key] as { $comment?: unknown }).$comment, key).toBeDefined();
    expect(written.regions.us?.targets.map((t) => [t.name, t.method ?? 'GET', t.role ?? 'read', t.url, typeof t.$comment])).toEqual([
      ['api', 'GET', 'read', 'http://127.0.0.1:18080/health', 'object'],
      ['write-path', 'POST', 'write-probe', 'http://127.0.0.1:18080/canary', 'object'],
    ]);
    // No guessed write URL for eu (it would page read-only for a canary that does not exist): a note says how to add one.
    expect(written.regions.eu?.targets.map((t) => t.name)).toEqual(['api']);
    expect(JSON.stringify(written.regions.eu?.$comment)).toContain('No write probe yet, so read-only looks like up');
    expect(written.probing?.allowPrivateAddresses).toBe(true);
    expect(written.notifications).toMatchObject({ emails: ['oncall@acme.example'], slackWebhookSecretName: null });

    const check = capture(dir.path);
    expect(await main(['validate'], check.io)).toBe(0);
    expect(check.out[0]).toBe('regionwatch.config.json: valid');
  });

  it('refuses to overwrite, before asking anything: exit 1 and the file untouched', async () => {
    const file = join(dir.path, 'regionwatch.config.json');
    const before = readFileSync(file, 'utf8');
    const run = await answering(['init'], dir.path, []);
    expect(run.code).toBe(1);
    expect(run.err).toEqual(['regionwatch init: regionwatch.config.json already exists and init never overwrites a config; edit it, or pass --config FILE to write a new one elsewhere']);
    expect(run.prompts).toEqual([]);
    expect(readFileSync(file, 'utf8')).toBe(before);
    const yes = capture(dir.path);
    expect(await main(['init', '--yes', '--platform', 'acme', '--url', 'us=https://api.us.acme.example/health'], yes.io)).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('writes nothing and exits 2 when the input ends before an answer', async () => {
    const run = await answering(['init', '--config', 'ended.json'], dir.path, [[/^Platform name/, 'acme']]);
    expect(run.code).toBe(2);
    expect(run.err).toEqual(['regionwatch init: no answer to "Platform regions, comma-separated (such as us, eu, apac)" (input ended); answer in a terminal, or pass --yes with flags (see --help); nothing written']);
    expect(existsSync(join(dir.path, 'ended.json'))).toBe(false);
  });
});

describe('regionwatch init --yes', () => {
  const dir = tempDir('regionwatch-init-yes-');
  afterAll(() => dir.remove());

  it('takes every answer from flags and writes what the same answers at the prompts write', async () => {
    const flags = ['--platform', 'acme', '--url', 'us=https://api.us.acme.example/health', '--write-url', 'us=https://api.us.acme.example/canary', '--email', 'oncall@acme.example'];
    const c = capture(dir.path);
    expect(await main(['init', '--yes', '--config', 'flags.json', ...flags], c.io)).toBe(0);
    const asked = await answering(['init', '--config', 'asked.json'], dir.path, [
      [/^Platform name/, 'acme'],
      [/^Platform regions/, 'us'],
      [/^Health-check URL for us /, 'https://api.us.acme.example/health'],
      [/^Write-probe URL for us:/, 'https://api.us.acme.example/canary'],
      [/^Probe regions/, ''],
      [/^Email/, 'oncall@acme.example'],
    ]);
    expect(asked.code, asked.err.join('\n')).toBe(0);
    expect(readFileSync(join(dir.path, 'flags.json'), 'utf8')).toBe(readFileSync(join(dir.path, 'asked.json'), 'utf8'));
    // A public platform needs no private-address key, so the config does not mention it.
    expect(read(join(dir.path, 'flags.json')).probing).toBeUndefined();
    expect(c.out.slice(-3)).toEqual([
      '  check it     npx regionwatch validate --config flags.json',
      '  watch it     npx regionwatch local --config flags.json   (status page on http://127.0.0.1:8787)',
      '  deploy it    npx cdk deploy --all -c config=flags.json   (docs/deploy.md)',
    ]);
  });

  it('defaults what has a default (the platform from the folder, the probe regions, the private-address key for a loopback URL)', async () => {
    const c = capture(dir.path);
    expect(await main(['init', '-y', '--config', 'defaults.json', '--url', 'us=http://localhost:9/health', '--probe-regions', 'eu-west-1'], c.io)).toBe(0);
    const written = loadConfigFile(join(dir.path, 'defaults.json'));
    expect(written.platform).toMatch(/^regionwatch-init-yes-/);
    expect(written.probeRegions).toEqual(['eu-west-1']);
    expect(written.homeRegion).toBe('eu-west-1');
    // One probe region: a quorum of 2 could never be met.
    expect(written.defaults.quorum).toBe(1);
    expect(written.probing.allowPrivateAddresses).toBe(true);
  });

  it('names the flag a missing or bad answer needs, with exit 2 and nothing written', async () => {
    const cases: [string[], string][] = [
      [['--platform', 'acme'], 'regionwatch init: --yes needs --url REGION=URL for each platform region, such as --url us=https://api.us.example.com/health'],
      [['--url', 'us'], 'regionwatch init: --url takes REGION=URL, such as --url us=https://api.us.example.com/health; got "us"'],
      [['--url', 'us=ftp://x'], 'regionwatch init: --url us=ftp://x: "ftp://x" is not an absolute http:// or https:// URL, such as https://api.us.example.com/health'],
      [['--url', 'us=https://a.example/', '--url', 'us=https://b.example/'], 'regionwatch init: --url names us twice; give one URL per platform region'],
      [['--url', 'us=https://a.example/', '--write-url', 'eu=https://a.example/w'], 'regionwatch init: --write-url names eu, which no --url names; give --url eu=URL too'],
      [['--url', 'us=https://a.example/', '--platform', 'Acme'], 'regionwatch init: --platform "Acme" must be 1-32 lowercase letters, digits or dashes, starting with a letter or digit'],
      [['--url', 'us=https://a.example/', '--probe-regions', 'us-east'], 'regionwatch init: --probe-regions: probe region "us-east" is not an AWS region code such as us-east-1'],
      [['--url', 'us=https://a.example/', '--email', 'oncall'], 'regionwatch init: --email: "oncall" is not an email address'],
      // An address no setting opens would fail validate: init says so instead of writing it.
      [
        ['--url', 'us=http://169.254.169.254/latest/'],
        "regionwatch init: --url us=http://169.254.169.254/latest/: 169.254.169.254 is a metadata address, which probers always refuse: no setting allows a metadata address (the cloud's instance metadata service), not even probing.allowPrivateAddresses; point the target at an address or name the platform serves on",
      ],
    ];
    for (const [flags, message] of cases) {
      const c = capture(dir.path);
      expect(await main(['init', '--yes', '--config', 'bad.json', ...flags], c.io), flags.join(' ')).toBe(2);
      expect(c.err[0]?.split('\n')[0]).toBe(message);
      expect(existsSync(join(dir.path, 'bad.json'))).toBe(false);
    }
  });

  it('points $schema at the committed schema from wherever the config goes', () => {
    expect(schemaPathFor(join(PROJECT_ROOT, 'regionwatch.config.json'))).toBe('./regionwatch.schema.json');
    expect(schemaPathFor(join(PROJECT_ROOT, 'configs', 'prod.json'))).toBe('../regionwatch.schema.json');
    expect(schemaPathFor('/home/me/acme/regionwatch.config.json', '/home/me/acme/node_modules/regionwatch/regionwatch.schema.json')).toBe('./node_modules/regionwatch/regionwatch.schema.json');
  });
});

describe('what init writes round-trips: validate, synth, local', () => {
  const dir = tempDir('regionwatch-init-trip-');
  let platform: FaultyServer;
  let file = '';
  beforeAll(async () => {
    platform = await startFaultyServer();
    file = join(dir.path, 'regionwatch.config.json');
    const c = capture(dir.path);
    const code = await main(['init', '--yes', '--platform', 'acme', '--url', `us=${platform.origin}/ok`, '--write-url', `us=${platform.origin}/ok`], c.io);
    if (code !== 0) throw new Error(c.err.join('\n'));
  });
  afterAll(async () => {
    await platform.close();
    dir.remove();
  });

  it('synthesizes every probe region stack with cdk-nag on', () => {
    const scenario = synthScenario(loadConfigFile(file));
    expect([...scenario.stacks.keys()]).toEqual(['us-east-1', 'eu-west-1', 'ap-southeast-1']);
    scenario.template('us-east-1').resourceCountIs('AWS::DynamoDB::GlobalTable', 2);
  }, 60_000);

  it('runs in local mode against its loopback target: probed from every probe region, nothing paged', async () => {
    const data = join(dir.path, 'data');
    const c = capture(dir.path);
    expect(await main(['local', '--data-dir', data, '--port', '0', '--for', '2'], c.io), c.err.join('\n')).toBe(0);
    expect(c.out[0]).toBe('regionwatch local: acme, 2 targets in 1 platform region, probed as us-east-1, eu-west-1, ap-southeast-1');
    // Nothing but the start and stop lines: no notification (a refused loopback target would have paged).
    expect(c.out.filter((l) => /^\d\d:\d\d:\d\d \[/.test(l))).toEqual([]);
    expect(c.err).toEqual([]);
    expect(wrongPlurals(c.out.join('\n'))).toEqual([]);
    const seen = platform.requests.filter((r) => r.path === '/ok');
    expect(new Set(seen.map((r) => r.headers['x-regionwatch-probe-region']))).toEqual(new Set(['us-east-1', 'eu-west-1', 'ap-southeast-1']));
    expect(new Set(seen.map((r) => r.method))).toEqual(new Set(['GET', 'POST']));
    const status = capture(dir.path);
    expect(await main(['status', '--data-dir', data, '--json'], status.io)).toBe(0);
    const parsed = JSON.parse(status.out.join('\n')) as { regions: { region: string; verdict: string }[]; openIncidents: unknown[] };
    expect(parsed.openIncidents).toEqual([]);
    expect(parsed.regions.map((r) => r.region)).toEqual(['us']);
    expect(parsed.regions[0]?.verdict).not.toBe('down');
  });
});

// Keep the example a newcomer copies and the one init writes telling the same story about the schema path.
it('the committed example config carries the same $schema line init writes beside it', () => {
  const example = JSON.parse(readFileSync(join(PROJECT_ROOT, 'regionwatch.config.json'), 'utf8')) as { $schema?: string };
  expect(example.$schema).toBe(schemaPathFor(join(PROJECT_ROOT, 'regionwatch.config.json')));
});
