// Reading and validating a config: every problem at once, each with its path and the fix.
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { configSchema, crossFieldProblems, type RegionwatchConfig } from './schema';
import { SECURITY_GROUP_RULE_LIMIT, egressRuleCounts, probeEgress } from './egress';
import { locateJsonSyntaxError } from './json-position';
import { count } from '../core/words';

export interface ConfigProblem {
  /** Dotted path such as `regions.us.targets[2].url`, or `(file)` for problems with the file itself. */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(formatProblems(source, problems));
  }
}

export type ValidationOutcome =
  | { ok: true; config: RegionwatchConfig }
  | { ok: false; problems: ConfigProblem[] };

/** A key that reads well after a dot; anything else (a header name with a space, a colon) is quoted in brackets. */
const PLAIN_KEY = /^[A-Za-z0-9_$-]+$/;

/** `regions.us.targets[2].url` (or `…headers["X Token"]`) from a zod path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (!PLAIN_KEY.test(String(part))) out += `[${JSON.stringify(String(part))}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

export function formatProblems(source: string, problems: readonly ConfigProblem[]): string {
  const lines = problems.map((p) => `  ${p.path}: ${p.message}`);
  return `${source}: ${count(problems.length, 'problem')}\n${lines.join('\n')}`;
}

/**
 * Rules on the config with its defaults filled in, about what AWS would refuse at deploy time: a prober in a VPC needs
 * a security group rule per port its targets use, and a security group holds at most 60 per address family.
 */
function deploymentProblems(config: RegionwatchConfig): ConfigProblem[] {
  if (config.vpc === undefined) return [];
  const counts = egressRuleCounts(probeEgress(config));
  const over = Object.entries(counts).filter(([, n]) => n > SECURITY_GROUP_RULE_LIMIT);
  return over.map(([family, n]) => ({
    path: 'vpc',
    message: `in a VPC the prober's security group needs ${n} ${family} egress rules (one per TCP port the targets use and 443, two per DNS resolver), more than the ${SECURITY_GROUP_RULE_LIMIT} a security group holds; use fewer distinct ports or resolvers, or remove vpc`,
  }));
}

/** Validates an already-parsed value: per-field and cross-field problems together. */
export function validateConfig(input: unknown): ValidationOutcome {
  const parsed = configSchema.safeParse(input);
  const problems = parsed.success ? [] : problemsFromZod(parsed.error, input);
  for (const p of crossFieldProblems(input)) problems.push({ path: formatPath(p.path), message: p.message });
  if (parsed.success) problems.push(...deploymentProblems(parsed.data));
  if (parsed.success && problems.length === 0) return { ok: true, config: withoutComments(parsed.data) };
  return { ok: false, problems };
}

/**
 * The validated config without its `$comment` notes (schema.ts): they are for people reading the file, and a reworded
 * note must not change what is deployed (the bundled config is in every asset hash).
 */
function withoutComments<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutComments) as T;
  if (value === null || typeof value !== 'object') return value;
  // A target's `headers` are the user's own names, sent as they are.
  return Object.fromEntries(Object.entries(value).filter(([key]) => key !== '$comment').map(([key, v]) => [key, key === 'headers' ? v : withoutComments(v)])) as T;
}

/** Validates a value and returns the config with defaults, or throws ConfigError naming every problem. */
export function parseConfig(input: unknown, source = 'config'): RegionwatchConfig {
  const outcome = validateConfig(input);
  if (!outcome.ok) throw new ConfigError(source, outcome.problems);
  return outcome.config;
}

/** Validates JSON text, reporting a syntax error with its line and column. */
export function validateConfigText(text: string): ValidationOutcome {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error: unknown) {
    const where = locateJsonSyntaxError(text);
    const detail = error instanceof Error ? error.message : String(error);
    const at = where ? `line ${where.line}, column ${where.column}: ${where.message}` : detail;
    return { ok: false, problems: [{ path: '(file)', message: `not valid JSON at ${at}; fix the syntax (a missing comma or quote is the usual cause)` }] };
  }
  return validateConfig(input);
}

/** Reads, parses and validates a config file; throws ConfigError listing every problem. */
export function loadConfigFile(file: string): RegionwatchConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error: unknown) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const why = code === 'ENOENT' ? 'no such file; pass --config FILE or create regionwatch.config.json' : `cannot read it (${code ?? 'error'})`;
    throw new ConfigError(file, [{ path: '(file)', message: why }]);
  }
  const outcome = validateConfigText(text);
  if (!outcome.ok) throw new ConfigError(file, outcome.problems);
  return outcome.config;
}

function problemsFromZod(error: z.ZodError, input: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(configSchema, issue.path, input);
      for (const key of issue.keys) {
        const suggestion = closest(key, known);
        // The `$` notes are not settings: suggested for a near miss, not listed among the keys.
        const settings = known.filter((k) => !k.startsWith('$'));
        const hint = suggestion ? `did you mean "${suggestion}"?` : settings.length > 0 ? `known keys here: ${settings.join(', ')}` : 'remove it';
        problems.push({ path: formatPath([...issue.path, key]), message: `unknown key "${key}"; ${hint}` });
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      // A record key that failed its own schema: the key's issues carry the message (zod's says only "Invalid key").
      for (const inner of issue.issues) problems.push({ path: formatPath(issue.path), message: describeIssue(inner, input) });
      continue;
    }
    problems.push({ path: formatPath(issue.path), message: describeIssue(issue, input) });
  }
  return problems;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  // Our own messages already say what is wrong and how to fix it; zod's defaults start with "Invalid".
  const custom = !/^(Invalid|Too (small|big)|Expected)/.test(issue.message);
  if (custom) return issue.message;
  const given = valueAt(input, issue.path);
  if (issue.code === 'invalid_type') {
    if (given === undefined) return `is required (expected ${issue.expected})`;
    return `expected ${issue.expected}, got ${describeValue(given)}`;
  }
  if (issue.code === 'invalid_value') {
    return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(given)}`;
  }
  if (issue.code === 'too_small') return `must be at least ${issue.origin === 'array' ? count(Number(issue.minimum), 'item') : String(issue.minimum)}, got ${describeValue(given)}`;
  if (issue.code === 'too_big') return `must be at most ${issue.origin === 'array' ? count(Number(issue.maximum), 'item') : String(issue.maximum)}, got ${describeValue(given)}`;
  return issue.message;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const step of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[step];
  }
  return value;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** The keys a strict object at `path` accepts, following the user's input through unions. */
function knownKeysAt(schema: z.core.$ZodType, path: readonly PropertyKey[], input: unknown): string[] {
  let current: z.core.$ZodType | undefined = schema;
  let value: unknown = input;
  const steps = [...path];
  for (;;) {
    current = unwrap(current, value);
    if (current === undefined) return [];
    const def = current._zod.def as { type: string } & Record<string, unknown>;
    if (steps.length === 0) {
      return def.type === 'object' ? Object.keys(def.shape as Record<string, unknown>) : [];
    }
    const step = steps.shift();
    const next: unknown = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[step as PropertyKey] : undefined;
    if (def.type === 'object') current = (def.shape as Record<string, z.core.$ZodType>)[String(step)];
    else if (def.type === 'array') current = def.element as z.core.$ZodType;
    else if (def.type === 'record') current = def.valueType as z.core.$ZodType;
    else return [];
    value = next;
  }
}

/** Looks through optional/default/pipe wrappers, and picks a union member by its discriminator. */
function unwrap(schema: z.core.$ZodType | undefined, value: unknown): z.core.$ZodType | undefined {
  let current = schema;
  for (let i = 0; i < 20 && current; i++) {
    const def = current._zod.def as { type: string } & Record<string, unknown>;
    if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault') {
      current = def.innerType as z.core.$ZodType;
    } else if (def.type === 'pipe') {
      current = def.in as z.core.$ZodType;
    } else if (def.type === 'union') {
      const options = def.options as z.core.$ZodType[];
      const discriminator = typeof def.discriminator === 'string' ? def.discriminator : 'type';
      const tag = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[discriminator] : undefined;
      current =
        options.find((option) => {
          const shape = (option._zod.def as { shape?: Record<string, z.core.$ZodType> }).shape;
          return shape?.[discriminator]?._zod.values?.has(tag as string) ?? false;
        }) ?? options[0];
    } else return current;
  }
  return current;
}

/** The nearest known key by edit distance, when it is near enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const allowed = Math.max(2, Math.floor(word.length / 3));
  return bestDistance <= allowed ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0] ?? 0;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j] ?? 0;
      const left = previous[j - 1] ?? 0;
      previous[j] = Math.min(above + 1, left + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return previous[b.length] ?? 0;
}
