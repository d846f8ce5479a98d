// The scenario file of `regionwatch simulate` (DESIGN.md "Scenario"), its validation, and the config it runs with.
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { ConfigError, formatPath, parseConfig, type ConfigProblem } from '../config/load';
import type { RegionwatchConfig, RegionwatchConfigInput } from '../config/schema';
import { ERROR_CLASSES } from '../core/results';

/** A scenario that cannot be run: every problem with its path, like a config error. */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  constructor(
    readonly source: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(`${source}: ${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
  }
}

/** The scenario clock's epoch when the scenario gives none: the morning the story began. */
export const DEFAULT_START_AT = '2026-04-14T14:00:00Z';
/** Probers and aggregators run this long before second 0, so the scenario starts from a steady state. */
export const DEFAULT_WARMUP_SECONDS = 120;
/** Global-table replication delay between probe regions when the scenario sets none (typically under a second). */
export const DEFAULT_REPLICATION_DELAY_SECONDS = 1;
/**
 * Mean delay of a confirmation request, send to check (an estimate, not a measurement): an SQS SendMessage to
 * another region's queue is one cross-region round trip (about 0.1 s across the Atlantic, 0.2 s to Singapore), the
 * queue poller hands it on within tens of ms, and about every other confirmation starts a cold prober (0.3-0.5 s).
 */
export const DEFAULT_CONFIRMATION_DELAY_SECONDS = 0.6;
/** The largest seed: draws mix it as a 32-bit integer, so 2**32 would repeat seed 0. */
export const MAX_SEED = 2 ** 32 - 1;

const seconds = z.number({ message: 'must be a number of seconds from the start of the scenario' }).min(0, { message: 'must be 0 or more (seconds from the start)' });
const rate = z.number({ message: 'rate must be a number' }).min(0, { message: 'rate must be between 0 and 1' }).max(1, { message: 'rate must be between 0 and 1' });
const span = { from: seconds.optional(), to: seconds.optional() };
const region = z.string({ message: 'region must name a platform region of the config' });
const probeRegion = z.string({ message: 'probeRegion must name a probe region of the config' });
const awsRegion = z.string({ message: 'awsRegion must name a probe region of the config (where an aggregator runs)' });
const errorClass = z.enum(ERROR_CLASSES, { message: `errorClass must be one of ${ERROR_CLASSES.join(', ')}` });

const eventSchema = z.discriminatedUnion(
  'fault',
  [
    // Platform faults (DESIGN).
    z.strictObject({ fault: z.literal('down'), region, ...span, errorClass: errorClass.optional() }),
    z.strictObject({ fault: z.literal('read-only'), region, ...span }),
    z.strictObject({ fault: z.literal('slow'), region, ...span, latencyMs: z.number().int().min(1, { message: 'latencyMs must be at least 1' }) }),
    z.strictObject({ fault: z.literal('errors'), region, ...span, rate }),
    z.strictObject({
      fault: z.literal('flap'),
      region,
      ...span,
      periodSeconds: z.number().min(1, { message: 'periodSeconds must be at least 1' }),
      /** Extension: seconds down at the start of each period (default half the period). */
      downSeconds: z.number().min(0).optional(),
    }),
    // Probe-region faults (DESIGN); `region` and `errorClass` on a partition are extensions.
    z.strictObject({ fault: z.literal('partition'), probeRegion, ...span, region: region.optional(), errorClass: errorClass.optional() }),
    z.strictObject({ fault: z.literal('silent'), probeRegion, ...span }),
    // Checker faults (DESIGN).
    z.strictObject({ fault: z.literal('aggregator-lost'), awsRegion, ...span }),
    z.strictObject({ fault: z.literal('duplicate-delivery'), ...span, rate }),
    z.strictObject({ fault: z.literal('crash-after-write'), ...span, rate }),
    // Extensions.
    z.strictObject({
      fault: z.literal('replication-lag'),
      ...span,
      delaySeconds: z.number().min(0, { message: 'delaySeconds must be 0 or more' }),
      awsRegion: awsRegion.optional(),
    }),
    z.strictObject({ fault: z.literal('publish-errors'), ...span, rate }),
    z.strictObject({ fault: z.literal('split-brain'), ...span }),
    // Confirm on failure: requests from `probeRegion` (every probe region when absent) are lost with probability `rate`.
    z.strictObject({ fault: z.literal('confirmation-loss'), ...span, rate, probeRegion: probeRegion.optional() }),
  ],
  {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? 'fault must be one of down, read-only, slow, errors, flap, partition, silent, aggregator-lost, duplicate-delivery, crash-after-write, replication-lag, publish-errors, split-brain, confirmation-loss'
        : undefined,
  },
);

const perRegionCount = z.record(z.string(), z.number().int().min(0));
const perRegionMinutes = z.record(z.string(), z.number().min(0));

const expectSchema = z.strictObject({
  /** Incidents per platform region (regions not listed are not checked). */
  incidents: perRegionCount.optional(),
  /** Minutes summed over a region's incidents, each within toleranceMinutes. */
  downMinutes: perRegionMinutes.optional(),
  degradedMinutes: perRegionMinutes.optional(),
  readOnlyMinutes: perRegionMinutes.optional(),
  toleranceMinutes: z.number().min(0).optional(),
  /** Deliveries per event (opened, escalated, deescalated, resolved, reminder, checker), duplicates included. */
  notifications: z.partialRecord(z.enum(['opened', 'escalated', 'deescalated', 'resolved', 'reminder', 'checker']), z.number().int().min(0)).optional(),
  /** Number of detections, and the slowest one allowed. */
  detections: z.number().int().min(0).optional(),
  maxDetectionSeconds: z.number().min(0).optional(),
  falseNotifications: z.number().int().min(0).optional(),
  missedFaults: z.number().int().min(0).optional(),
  duplicateNotifications: z.number().int().min(0).optional(),
  /** For each aggregator-lost event on the lease holder: another aggregator acts within this many seconds of it. */
  maxTakeoverSeconds: z.number().min(0).optional(),
  /** The most requests (round and confirmation checks) one probe region may send one target in one slot (FAULTS 18, 20). */
  maxRequestsPerTargetPerSlot: z.number().int().min(1).optional(),
});

export const scenarioSchema = z.strictObject({
  $schema: z.string().optional(),
  /** One line: what the scenario shows. */
  description: z.string().optional(),
  durationSeconds: z
    .number({ message: 'durationSeconds is required: how long the scenario runs' })
    .int({ message: 'durationSeconds must be a whole number' })
    .min(60, { message: 'durationSeconds must be at least 60' })
    .max(7 * 24 * 3600, { message: 'durationSeconds must be at most a week (604800)' }),
  /** Extension: the seed of every random draw (default 1; `--seed` overrides it). */
  seed: z
    .number()
    .int({ message: `seed must be a whole number from 0 to ${MAX_SEED}` })
    .min(0, { message: `seed must be a whole number from 0 to ${MAX_SEED}` })
    .max(MAX_SEED, { message: `seed must be a whole number from 0 to ${MAX_SEED}` })
    .optional(),
  /** Extension: the wall-clock time of second 0 (a whole minute, so slots line up). */
  startAt: z.iso.datetime({ offset: true, message: 'startAt must be an ISO 8601 time such as 2026-04-14T14:00:00Z' }).optional(),
  /** Extension: seconds the pipeline runs before second 0. */
  warmupSeconds: z.number().int().min(0).max(3600).optional(),
  /** Extension: global-table replication delay between probe regions outside replication-lag events. */
  replicationDelaySeconds: z.number().min(0).max(3600).optional(),
  /**
   * Extension: the mean delay of a confirmation request from the probe region that sends it to the checks it asks for
   * (the cross-region send, the queue poller, a warm or cold invocation); each is drawn from half to one and a half of it.
   */
  confirmationDelaySeconds: z.number().min(0).max(60).optional(),
  /** Overrides the config: each top-level key replaces the base's; defaults, probing and notifications merge key by key. */
  config: z.record(z.string(), z.unknown()).optional(),
  /** Extension: maintenance windows in scenario seconds, added to the config's. */
  maintenance: z.array(z.strictObject({ region, from: seconds, to: seconds, reason: z.string().optional() })).optional(),
  events: z.array(eventSchema).default([]),
  expect: expectSchema.optional(),
});

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type ScenarioEvent = z.output<typeof eventSchema>;
export type ScenarioExpect = z.output<typeof expectSchema>;
export type FaultName = ScenarioEvent['fault'];

/** An event with its span filled in: [from, to) in scenario seconds. */
export type TimedEvent = ScenarioEvent & { from: number; to: number };

export const PLATFORM_FAULTS = ['down', 'read-only', 'slow', 'errors', 'flap'] as const;
export type PlatformFaultEvent = Extract<TimedEvent, { fault: (typeof PLATFORM_FAULTS)[number] }>;

export function isPlatformFault(e: TimedEvent): e is PlatformFaultEvent {
  return (PLATFORM_FAULTS as readonly string[]).includes(e.fault);
}

/** A scenario ready to run: validated, its config resolved, its events timed. */
export interface Scenario {
  description: string;
  durationSeconds: number;
  seed: number;
  startAtMs: number;
  warmupSeconds: number;
  replicationDelaySeconds: number;
  confirmationDelaySeconds: number;
  config: RegionwatchConfig;
  events: TimedEvent[];
  expect: ScenarioExpect | undefined;
}

/**
 * The config a scenario runs with when neither it nor `--config` says otherwise: the repository's example
 * (three platform regions of four targets each, a write probe in each, three probe regions, 10-second rounds)
 * without its maintenance window.
 */
export const BUILTIN_CONFIG: RegionwatchConfigInput = {
  platform: 'acme',
  probeRegions: ['us-east-1', 'eu-west-1', 'ap-southeast-1'],
  homeRegion: 'us-east-1',
  defaults: { intervalSeconds: 10, timeoutMs: 3000, failureThreshold: 2, recoveryThreshold: 3, quorum: 2, degradedLatencyMs: 1500 },
  regions: Object.fromEntries(
    ['us', 'eu', 'apac'].map((r) => [
      r,
      {
        targets: [
          { name: 'api', type: 'http', url: `https://api.${r}.acme.example/health`, expect: { status: [200], bodyContains: 'ok' } },
          { name: 'write-path', type: 'http', method: 'POST', role: 'write-probe', url: `https://api.${r}.acme.example/canary` },
          { name: 'db-proxy', type: 'tcp', host: `db.${r}.acme.example`, port: 5432 },
          { name: 'cert', type: 'tls', host: `api.${r}.acme.example` },
        ],
      },
    ]),
  ),
  notifications: { emails: [], slackWebhookSecretName: null, reminderMinutes: 30 },
  maintenance: [],
};

const MERGED_KEYS = new Set(['defaults', 'probing', 'notifications']);

/** The base config with a scenario's `config` laid over it (see scenarioSchema.config). */
export function overrideConfig(base: Record<string, unknown>, override: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!override) return { ...base };
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const have = out[key];
    const mergeable = MERGED_KEYS.has(key) && isPlainObject(have) && isPlainObject(value);
    out[key] = mergeable ? { ...have, ...value } : value;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Validates a parsed scenario and resolves it against a base config (the built-in one by default). Throws
 * ScenarioError listing every problem (or ConfigError when the resulting config is invalid).
 */
export function resolveScenario(input: unknown, options: { source?: string; baseConfig?: Record<string, unknown>; seed?: number } = {}): Scenario {
  const source = options.source ?? 'scenario';
  const parsed = scenarioSchema.safeParse(input);
  if (!parsed.success) {
    throw new ScenarioError(
      source,
      parsed.error.issues.map((issue) => ({
        path: formatPath(issue.path),
        message: issue.code === 'unrecognized_keys' ? `unknown ${issue.keys.length === 1 ? 'key' : 'keys'} ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issue.message,
      })),
    );
  }
  const s = parsed.data;
  const startAt = s.startAt ?? DEFAULT_START_AT;
  const startAtMs = Date.parse(startAt);
  const base = overrideConfig((options.baseConfig ?? BUILTIN_CONFIG) as Record<string, unknown>, s.config);
  const maintenance = Array.isArray(base.maintenance) ? [...(base.maintenance as unknown[])] : [];
  for (const m of s.maintenance ?? []) {
    const entry: Record<string, string> = { region: m.region, start: new Date(startAtMs + m.from * 1000).toISOString(), end: new Date(startAtMs + m.to * 1000).toISOString() };
    if (m.reason !== undefined) entry.reason = m.reason;
    maintenance.push(entry);
  }
  base.maintenance = maintenance;
  let config: RegionwatchConfig;
  try {
    config = parseConfig(base, `${source} (config)`);
  } catch (error: unknown) {
    if (error instanceof ConfigError) throw new ScenarioError(source, error.problems.map((p) => ({ path: `config.${p.path}`, message: p.message })));
    throw error;
  }

  const problems: ConfigProblem[] = [];
  if (startAtMs % 60_000 !== 0) problems.push({ path: 'startAt', message: 'startAt must be a whole minute (slots are aligned to it), such as 2026-04-14T14:00:00Z' });
  const regions = Object.keys(config.regions);
  const events: TimedEvent[] = s.events.map((e, n) => {
    const timed = { ...e, from: e.from ?? 0, to: e.to ?? s.durationSeconds } as TimedEvent;
    const at = `events[${n}]`;
    if (timed.to <= timed.from) problems.push({ path: `${at}.to`, message: `to (${timed.to}) must be after from (${timed.from})` });
    if (timed.to > s.durationSeconds) problems.push({ path: `${at}.to`, message: `to (${timed.to}) must be within durationSeconds (${s.durationSeconds})` });
    if ('region' in timed && timed.region !== undefined && !regions.includes(timed.region)) {
      problems.push({ path: `${at}.region`, message: `"${timed.region}" is not a platform region of the config (${regions.join(', ')})` });
    }
    if ('probeRegion' in timed && timed.probeRegion !== undefined && !config.probeRegions.includes(timed.probeRegion)) {
      problems.push({ path: `${at}.probeRegion`, message: `"${timed.probeRegion}" is not a probe region of the config (${config.probeRegions.join(', ')})` });
    }
    if ('awsRegion' in timed && timed.awsRegion !== undefined && !config.probeRegions.includes(timed.awsRegion)) {
      problems.push({ path: `${at}.awsRegion`, message: `"${timed.awsRegion}" is not a probe region of the config (${config.probeRegions.join(', ')})` });
    }
    if (timed.fault === 'flap' && timed.downSeconds !== undefined && timed.downSeconds > timed.periodSeconds) {
      problems.push({ path: `${at}.downSeconds`, message: 'downSeconds must not exceed periodSeconds' });
    }
    return timed;
  });
  (s.maintenance ?? []).forEach((m, n) => {
    if (!regions.includes(m.region)) problems.push({ path: `maintenance[${n}].region`, message: `"${m.region}" is not a platform region of the config (${regions.join(', ')})` });
    if (m.to <= m.from) problems.push({ path: `maintenance[${n}].to`, message: 'to must be after from' });
  });
  for (const [key, table] of [
    ['incidents', s.expect?.incidents],
    ['downMinutes', s.expect?.downMinutes],
    ['degradedMinutes', s.expect?.degradedMinutes],
    ['readOnlyMinutes', s.expect?.readOnlyMinutes],
  ] as const) {
    for (const r of Object.keys(table ?? {})) {
      if (!regions.includes(r)) problems.push({ path: `expect.${key}.${r}`, message: `"${r}" is not a platform region of the config (${regions.join(', ')})` });
    }
  }
  if (problems.length > 0) throw new ScenarioError(source, problems);

  return {
    description: s.description ?? '',
    durationSeconds: s.durationSeconds,
    seed: options.seed ?? s.seed ?? 1,
    startAtMs,
    warmupSeconds: s.warmupSeconds ?? DEFAULT_WARMUP_SECONDS,
    replicationDelaySeconds: s.replicationDelaySeconds ?? DEFAULT_REPLICATION_DELAY_SECONDS,
    confirmationDelaySeconds: s.confirmationDelaySeconds ?? DEFAULT_CONFIRMATION_DELAY_SECONDS,
    config,
    events,
    expect: s.expect,
  };
}

/** Reads a scenario file (JSON). Throws ScenarioError for a missing file, bad JSON or an invalid scenario. */
export function loadScenarioFile(file: string, options: { baseConfig?: Record<string, unknown>; seed?: number; source?: string } = {}): Scenario {
  const source = options.source ?? file;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error: unknown) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    throw new ScenarioError(source, [{ path: '(file)', message: code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? 'error'})` }]);
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error: unknown) {
    throw new ScenarioError(source, [{ path: '(file)', message: `not valid JSON: ${error instanceof Error ? error.message : String(error)}` }]);
  }
  return resolveScenario(input, { ...options, source });
}
