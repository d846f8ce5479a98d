// `regionwatch init`: writes a new config from a few answers (asked, or taken from flags with --yes); never overwrites.
import { existsSync, writeFileSync } from 'node:fs';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { EXIT, UsageError, type Command, type CommandIo } from './command';
import { DEFAULT_PORT } from './local';
import { parseConfig } from '../config/load';
import { ANSWER_PROBLEMS, platformNameFrom, privateAddressKind, STARTER_PROBE_REGIONS, starterConfig, type StarterAnswers } from '../config/starter';
import { count, listOf } from '../core/words';

/** The committed JSON Schema of this package, which the written `$schema` points at. */
const SCHEMA_FILE = fileURLToPath(new URL('../../regionwatch.schema.json', import.meta.url));

/** Tries per question before init gives up on an answer it cannot use. */
const TRIES = 3;

/** No one can answer: input ended (or was never there) before a question that has no default. */
class NoAnswerError extends Error {
  override readonly name = 'NoAnswerError';
}

/** The `$schema` value for a config at `configFile`: the path from its folder to this package's schema, `./`-style. */
export function schemaPathFor(configFile: string, schemaFile = SCHEMA_FILE): string {
  const path = relative(dirname(configFile), schemaFile).split(sep).join('/');
  return path.startsWith('.') ? path : `./${path}`;
}

/** Asks one question at a time over the command's input; lines typed ahead are kept (readline's async iterator). */
class Prompter {
  private readonly lines: AsyncIterator<string>;
  private readonly close: () => void;

  constructor(
    input: NodeJS.ReadableStream,
    private readonly write: (text: string) => void,
    private readonly say: (line: string) => void,
    signal?: AbortSignal,
  ) {
    const rl = createInterface({ input, terminal: false, ...(signal ? { signal } : {}) });
    this.lines = rl[Symbol.asyncIterator]();
    this.close = () => rl.close();
  }

  /** Asks until `parse` accepts the answer (an empty answer is the default, when there is one). */
  async ask<T>(question: string, parse: (answer: string) => T | { problem: string }, fallback?: string): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      this.write(`${question}${fallback !== undefined && fallback !== '' ? ` [${fallback}]` : ''}: `);
      const next = await this.lines.next();
      if (next.done === true) {
        this.say('');
        throw new NoAnswerError(`no answer to "${question}" (input ended); answer in a terminal, or pass --yes with flags (see --help)`);
      }
      const typed = String(next.value).trim();
      const parsed = parse(typed === '' && fallback !== undefined ? fallback : typed);
      if (!isProblem(parsed)) return parsed;
      this.say(`  ${parsed.problem}`);
      if (attempt >= TRIES) throw new UsageError(parsed.problem);
    }
  }

  done(): void {
    this.close();
  }
}

function isProblem(value: unknown): value is { problem: string } {
  return typeof value === 'object' && value !== null && 'problem' in value;
}

const checked = <T>(value: T, problem: string | undefined): T | { problem: string } => (problem === undefined ? value : { problem });

/** `us=https://…` pairs of a repeatable flag, in order; a region named twice or a pair without `=` is a usage mistake. */
function pairs(flag: string, values: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const value of values) {
    const at = value.indexOf('=');
    if (at <= 0) throw new UsageError(`--${flag} takes REGION=URL, such as --${flag} us=https://api.us.example.com/health; got "${value}"`);
    const region = value.slice(0, at).trim();
    const url = value.slice(at + 1).trim();
    const problem = ANSWER_PROBLEMS.name('platform region', region) ?? ANSWER_PROBLEMS.url(url);
    if (problem) throw new UsageError(`--${flag} ${value}: ${problem}`);
    if (out.has(region)) throw new UsageError(`--${flag} names ${region} twice; give one URL per platform region`);
    out.set(region, url);
  }
  return out;
}

function list(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
}

/** The answers: each from its flag, else asked (or, with --yes, its default; a question without one is a usage mistake). */
async function gather(values: Record<string, unknown>, io: CommandIo, configFile: string): Promise<StarterAnswers> {
  const yes = values.yes === true;
  const urls = pairs('url', strings(values.url));
  const writeUrls = pairs('write-url', strings(values['write-url']));
  for (const region of writeUrls.keys()) {
    if (urls.size > 0 && !urls.has(region)) throw new UsageError(`--write-url names ${region}, which no --url names; give --url ${region}=URL too`);
  }
  const flagged = (name: string) => typeof values[name] === 'string' && values[name] !== '';
  const defaultPlatform = platformNameFrom(basename(dirname(configFile)));
  if (yes && !flagged('platform') && defaultPlatform === undefined) throw new UsageError(`--yes needs --platform NAME: the folder name "${basename(dirname(configFile))}" is not a usable one`);
  if (yes && urls.size === 0) throw new UsageError('--yes needs --url REGION=URL for each platform region, such as --url us=https://api.us.example.com/health');
  const input = io.input;
  if (!yes && !input) throw new UsageError('nothing to read answers from; pass --yes with --platform and --url REGION=URL');
  const prompter = yes || !input ? undefined : new Prompter(input, io.write ?? io.out, io.out, io.signal);
  try {
    if (prompter) io.out(`regionwatch init: a new config in ${configFile}. Enter keeps the answer in [brackets].`);
    const ask = async <T>(question: string, parse: (answer: string) => T | { problem: string }, fallback?: string): Promise<T> => {
      if (prompter) return prompter.ask(question, parse, fallback);
      // --yes: the default, or (there is none) the flag that answers it.
      const parsed = parse(fallback ?? '');
      if (isProblem(parsed)) throw new UsageError(`--yes: ${parsed.problem}`);
      return parsed;
    };

    const platform = flagged('platform')
      ? String(values.platform)
      : await ask('Platform name (lowercase, used in AWS resource names)', (s) => checked(s, ANSWER_PROBLEMS.name('platform', s)), defaultPlatform);
    const platformProblem = ANSWER_PROBLEMS.name('--platform', platform);
    if (platformProblem) throw new UsageError(platformProblem);

    const regionNames =
      urls.size > 0
        ? [...urls.keys()]
        : await ask(
            'Platform regions, comma-separated (such as us, eu, apac)',
            (s) => {
              const names = list(s);
              if (names.length === 0) return { problem: 'name at least one platform region, such as us' };
              const bad = names.map((n) => ANSWER_PROBLEMS.name('platform region', n)).find((p) => p !== undefined);
              if (bad) return { problem: bad };
              return new Set(names).size === names.length ? names : { problem: 'each platform region once, please' };
            },
          );
    const regions: StarterAnswers['regions'] = [];
    for (const name of regionNames) {
      const url = urls.get(name) ?? (await ask(`Health-check URL for ${name} (answers 2xx while ${name} is up)`, (s) => checked(s, ANSWER_PROBLEMS.url(s))));
      let writeUrl = writeUrls.get(name);
      if (writeUrl === undefined && prompter) {
        const answer = await ask(
          `Write-probe URL for ${name}: a POST that ${name} refuses while read-only, to tell read-only from down (Enter: none yet)`,
          (s) => (s === '' ? '' : checked(s, ANSWER_PROBLEMS.url(s))),
          '',
        );
        if (answer !== '') writeUrl = answer;
      }
      regions.push({ name, url, ...(writeUrl !== undefined ? { writeUrl } : {}) });
    }

    const probeRegions = flagged('probe-regions')
      ? list(String(values['probe-regions']))
      : await ask(
          'Probe regions: AWS regions that run the probers, the first one home',
          (s) => {
            const names = list(s);
            const bad = names.map(ANSWER_PROBLEMS.probeRegion).find((p) => p !== undefined);
            if (bad) return { problem: bad };
            if (names.length === 0) return { problem: 'name at least one AWS region, such as us-east-1' };
            return new Set(names).size === names.length ? names : { problem: 'each probe region once, please' };
          },
          STARTER_PROBE_REGIONS.join(', '),
        );
    const probeProblem = probeRegions.map(ANSWER_PROBLEMS.probeRegion).find((p) => p !== undefined);
    if (probeProblem) throw new UsageError(`--probe-regions: ${probeProblem}`);

    // Literal loopback and private addresses are refused by probers unless the config allows them: offer it.
    const privateUrls = regions.flatMap((r) => [r.url, ...(r.writeUrl !== undefined ? [r.writeUrl] : [])]).filter((u) => privateAddressKind(u) !== undefined);
    let allowPrivateAddresses = values['allow-private-addresses'] === true;
    if (!allowPrivateAddresses && privateUrls.length > 0) {
      const kinds = listOf([...new Set(privateUrls.map((u) => privateAddressKind(u) ?? 'private'))]);
      allowPrivateAddresses = await ask(
        `${listOf(privateUrls)} ${privateUrls.length === 1 ? 'is a' : 'are'} ${kinds} ${privateUrls.length === 1 ? 'address' : 'addresses'}, which probers refuse unless probing.allowPrivateAddresses is true. Allow them? (y/n)`,
        (s) => (/^y(es)?$/i.test(s) ? true : /^no?$/i.test(s) ? false : { problem: 'answer y or n' }),
        'y',
      );
    }

    const emails = strings(values.email);
    for (const e of emails) {
      const problem = ANSWER_PROBLEMS.email(e);
      if (problem) throw new UsageError(`--email: ${problem}`);
    }
    if (emails.length === 0 && prompter) {
      const answer = await ask('Email for notifications (Enter: none yet)', (s) => (s === '' ? '' : checked(s, ANSWER_PROBLEMS.email(s))), '');
      if (answer !== '') emails.push(answer);
    }
    return { platform, regions, probeRegions, emails, allowPrivateAddresses, schemaPath: schemaPathFor(configFile) };
  } finally {
    prompter?.done();
  }
}

export const initCommand: Command = {
  name: 'init',
  summary: 'write a new config from a few questions (or flags with --yes); never overwrites one',
  usage:
    'regionwatch init [--config FILE] [--yes] [--platform NAME] [--url REGION=URL ...] [--write-url REGION=URL ...] [--probe-regions R1,R2,R3] [--allow-private-addresses] [--email ADDRESS ...]',
  options: {
    yes: { type: 'boolean', short: 'y', default: false },
    platform: { type: 'string' },
    url: { type: 'string', multiple: true },
    'write-url': { type: 'string', multiple: true },
    'probe-regions': { type: 'string' },
    'allow-private-addresses': { type: 'boolean', default: false },
    email: { type: 'string', multiple: true },
  },
  async run({ values }, io) {
    const file = resolve(io.cwd, String(values.config));
    const shown = String(values.config);
    // Before any question: nobody should answer five of them to be told no.
    if (existsSync(file)) {
      io.err(`regionwatch init: ${shown} already exists and init never overwrites a config; edit it, or pass --config FILE to write a new one elsewhere`);
      return EXIT.finding;
    }
    let answers: StarterAnswers;
    try {
      answers = await gather(values, io, file);
    } catch (error: unknown) {
      if (error instanceof NoAnswerError) {
        io.err(`regionwatch init: ${error.message}; nothing written`);
        return EXIT.usage;
      }
      if (error instanceof Error && error.name === 'AbortError') {
        io.err('regionwatch init: stopped; nothing written');
        return EXIT.finding;
      }
      throw error;
    }
    const config = starterConfig(answers);
    // What init writes must pass validate as it is: a failure here is a bug in init, not the user's.
    const parsed = parseConfig(config, 'the config init built');
    try {
      writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { flag: 'wx' });
    } catch (error: unknown) {
      const code = (error as NodeJS.ErrnoException | undefined)?.code;
      if (code === 'EEXIST') {
        io.err(`regionwatch init: ${shown} appeared while init was asking; init never overwrites a config, so nothing was written`);
        return EXIT.finding;
      }
      io.err(`regionwatch init: cannot write ${shown} (${code ?? 'error'}); pass --config with a path you can write to`);
      return EXIT.finding;
    }
    const targets = Object.values(parsed.regions).reduce((n, r) => n + r.targets.length, 0);
    const withConfig = shown === 'regionwatch.config.json' ? '' : ` --config ${shown}`;
    io.out(
      `regionwatch init: wrote ${shown}: ${parsed.platform}, ${count(targets, 'target')} in ${count(answers.regions.length, 'platform region')}, probed from ${count(parsed.probeRegions.length, 'probe region')}`,
    );
    const missing = answers.regions.filter((r) => r.writeUrl === undefined).map((r) => r.name);
    if (missing.length > 0) io.out(`  no write probe for ${listOf(missing)} yet: read-only looks like up there until you add one (the note in the file says how)`);
    if (parsed.probing.allowPrivateAddresses) io.out('  probing.allowPrivateAddresses is on: loopback and private targets work in regionwatch local; probers in AWS reach only what their network can');
    io.out(`  check it     npx regionwatch validate${withConfig}`);
    io.out(`  watch it     npx regionwatch local${withConfig}   (status page on http://127.0.0.1:${DEFAULT_PORT})`);
    io.out(`  deploy it    npx cdk deploy --all${withConfig === '' ? '' : ` -c config=${shown}`}   (docs/deploy.md)`);
    return EXIT.ok;
  },
};
