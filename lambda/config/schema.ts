// The one source of truth for regionwatch.config.json: types, defaults, JSON Schema and validation.
import * as z from 'zod';
import { channelFunctionName, FUNCTION_NAME_MAX } from './names';
import { maxTimeoutMs } from './round-timing';
import { count } from '../core/words';
import { literalRefusal } from './literal-addresses';

/** AWS region codes such as us-east-1, eu-west-1, ap-southeast-1, us-gov-west-1. */
export const AWS_REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
/** Platform region and target names end up in keys, metric dimensions and subjects. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;
/** Round intervals must divide a minute so rounds line up with the once-a-minute schedule. */
export const ALLOWED_INTERVALS = [5, 6, 10, 12, 15, 20, 30, 60] as const;
/** The longest `minFaultSeconds`: the evaluation window (lambda/core/evaluate.ts) always reaches this far back. */
export const MAX_MIN_FAULT_SECONDS = 120;
/**
 * How a failure is seen (docs/probing.md, "Timing of one interval"). `confirm`: probe regions run their rounds
 * staggered across the slot and a failing check asks the other probe regions to check that target at once;
 * `staggered`: staggered rounds without confirmation requests; `rounds`: the first design, every probe region at the
 * slot's start, a target down after `failureThreshold` failing slots.
 */
export const DETECTION_MODES = ['confirm', 'staggered', 'rounds'] as const;

/**
 * `$comment`: a note for people reading the file (JSON has no comments). Accepted on the root and on every object a
 * person edits (defaults, a platform region, a target, probing, notifications, a maintenance window) and dropped by
 * validation (load.ts `withoutComments`); `regionwatch init` writes them. The `$` marks it as not config, like `$schema` beside it, and JSON
 * Schema's own `$comment` keyword is the same idea for schemas.
 */
const comment = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .describe('A note for people reading the file: a string or a list of lines. regionwatch ignores it.');

const name = (what: string) =>
  z.string().regex(NAME_PATTERN, {
    message: `${what} must be 1-32 lowercase letters, digits or dashes, starting with a letter or digit`,
  });

const positiveInt = (what: string, fix: string) =>
  z.number({ message: `${what} must be a number` }).int({ message: `${what} must be a whole number` }).min(1, {
    message: `${what} must be at least 1; ${fix}`,
  });

/** Timing and threshold settings: `defaults` holds them all, a target may override any of them. */
const tuningShape = {
  intervalSeconds: z
    .literal([...ALLOWED_INTERVALS], { error: `intervalSeconds must divide a minute: one of ${ALLOWED_INTERVALS.join(', ')}` })
    .describe('Seconds between rounds; rounds are aligned to wall-clock slots.'),
  timeoutMs: z
    .number()
    .int()
    .min(100, { message: 'timeoutMs must be at least 100' })
    .describe('Hard deadline for one request (connect and total), in milliseconds; at most the interval less 2 s (a round may start up to 1 s late and needs 1 s to be written).'),
  failureThreshold: positiveInt('failureThreshold', 'it counts consecutive failing slots before a target is down').describe(
    'Failing slots in a row (with quorum) before a target leaves up, with probing.detection "rounds". With staggered rounds (confirm, staggered) checks count instead of slots: a failure needs failureThreshold × quorum failing checks, a quorum of probe regions confirming the first, spanning minFaultSeconds.',
  ),
  recoveryThreshold: positiveInt('recoveryThreshold', 'it counts consecutive good slots before a target is up again').describe(
    'Consecutive good slots before a target is up again.',
  ),
  quorum: positiveInt('quorum', 'it is how many probe regions must agree').describe(
    'How many fresh probe regions must agree before a target changes verdict.',
  ),
  degradedLatencyMs: z
    .number()
    .int()
    .min(1, { message: 'degradedLatencyMs must be at least 1' })
    .describe('A response slower than this is degraded.'),
  minFaultSeconds: z
    .number({ message: 'minFaultSeconds must be a number of seconds' })
    .min(0, { message: 'minFaultSeconds must be 0 or more' })
    .max(MAX_MIN_FAULT_SECONDS, { message: `minFaultSeconds must be at most ${MAX_MIN_FAULT_SECONDS}` })
    .describe(
      'The shortest fault worth a page: a target leaves up only once a quorum of probe regions sees it failing and its failing checks span at least this many seconds. A blip shorter than this never pages.',
    ),
} as const;

export const DEFAULTS = {
  intervalSeconds: 10,
  timeoutMs: 3000,
  failureThreshold: 2,
  recoveryThreshold: 3,
  quorum: 2,
  degradedLatencyMs: 1500,
  minFaultSeconds: 2,
} as const;

const defaultsSchema = z
  .strictObject({
    $comment: comment,
    intervalSeconds: tuningShape.intervalSeconds.default(DEFAULTS.intervalSeconds),
    timeoutMs: tuningShape.timeoutMs.default(DEFAULTS.timeoutMs),
    failureThreshold: tuningShape.failureThreshold.default(DEFAULTS.failureThreshold),
    recoveryThreshold: tuningShape.recoveryThreshold.default(DEFAULTS.recoveryThreshold),
    quorum: tuningShape.quorum.default(DEFAULTS.quorum),
    degradedLatencyMs: tuningShape.degradedLatencyMs.default(DEFAULTS.degradedLatencyMs),
    minFaultSeconds: tuningShape.minFaultSeconds.default(DEFAULTS.minFaultSeconds),
  })
  .describe('Timing and thresholds for every target; a target may override any of them.');

const overrides = {
  intervalSeconds: tuningShape.intervalSeconds.optional(),
  timeoutMs: tuningShape.timeoutMs.optional(),
  failureThreshold: tuningShape.failureThreshold.optional(),
  recoveryThreshold: tuningShape.recoveryThreshold.optional(),
  quorum: tuningShape.quorum.optional(),
  degradedLatencyMs: tuningShape.degradedLatencyMs.optional(),
  minFaultSeconds: tuningShape.minFaultSeconds.optional(),
};

const httpUrl = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
    } catch {
      return false;
    }
  },
  { message: 'url must be an absolute http:// or https:// URL, such as https://api.us.example.com/health' },
);

const hostname = z
  .string()
  .min(1, { message: 'host must not be empty' })
  .regex(/^[A-Za-z0-9.:[\]-]+$/, { message: 'host must be a hostname or IP address, without scheme or path' });

const port = z.number().int().min(1).max(65535, { message: 'port must be between 1 and 65535' });

/** RFC 9110 field names are tokens. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What node:http accepts in a field value: tab, visible ASCII, space and Latin-1; never CR, LF, NUL or other controls. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Headers a target may not set, each with the reason a user reads (keys lowercase). */
export const FORBIDDEN_HEADERS: Readonly<Record<string, string>> = {
  host: 'the prober sends the URL\'s host; put the name in url',
  'content-length': 'the prober frames the body itself',
  'transfer-encoding': 'the prober frames the body itself',
  connection: 'the prober manages the connection (one request, then close)',
  'keep-alive': 'the prober manages the connection (one request, then close)',
  'proxy-connection': 'the prober manages the connection (one request, then close)',
  te: 'the prober manages the connection (one request, then close)',
  trailer: 'the prober sends no trailers',
  upgrade: 'a check is one HTTP request; an upgraded connection has nothing to judge',
  'accept-encoding': 'the prober asks for gzip and deflate so that it can cap decoded bodies',
  'user-agent': 'every probe sends User-Agent: regionwatch/<version>, so a platform can recognise it',
  'x-regionwatch-probe-region': 'every probe sends its own probe region, so a platform can recognise it',
};

// The pattern is a regex (not only a refinement) so the JSON Schema carries it too: editors flag a bad name as it is typed.
const headerName = z
  .string()
  .regex(HEADER_NAME, {
    error: (issue) =>
      `header name ${JSON.stringify(issue.input)} is not an HTTP field name; use letters, digits and !#$%&'*+-.^_\`|~ only (no spaces, colons or control characters)`,
  })
  .superRefine((value, ctx) => {
    const reason = FORBIDDEN_HEADERS[value.toLowerCase()];
    if (reason !== undefined) ctx.addIssue({ code: 'custom', message: `header ${value} cannot be set: ${reason}; remove it` });
  });

const headerValue = z.string().regex(HEADER_VALUE, {
  message: 'header value must be one line of Latin-1 text: no CR, LF, NUL or other control characters (a tab is fine); remove the line break or encode the value',
});

const commonTarget = {
  $comment: comment,
  name: name('target name'),
  description: z.string().optional().describe('What this target is, for people reading pages.'),
  ...overrides,
};

const httpTarget = z
  .strictObject({
    ...commonTarget,
    type: z.enum(['http', 'https']),
    url: httpUrl,
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT']).default('GET'),
    role: z
      .enum(['read', 'write-probe'])
      .default('read')
      .describe('write-probe: a POST or PUT the platform refuses while read-only; refused while reads succeed means read-only.'),
    headers: z
      .record(headerName, headerValue)
      .default({})
      .describe(`Extra request headers (sent on the first hop and same-origin redirects). Not allowed: ${Object.keys(FORBIDDEN_HEADERS).join(', ')}.`),
    body: z.string().optional().describe('Request body for POST and PUT.'),
    followRedirects: z.boolean().default(true).describe('Follow up to probing.maxRedirects redirects.'),
    expect: z
      .strictObject({
        status: z
          .array(
            z
              .number()
              .int({ message: 'expect.status entries must be whole HTTP status codes' })
              // A 1xx is an interim answer, never the one a check is judged by (an unasked 101 is a protocol failure).
              .min(200, { message: 'expect.status entries must be final HTTP status codes (200-599); a 1xx is never a final answer' })
              .max(599, { message: 'expect.status entries must be final HTTP status codes (200-599); a 1xx is never a final answer' }),
          )
          .min(1)
          .optional()
          .describe('Accepted status codes; default any 2xx.'),
        bodyContains: z.string().min(1).optional().describe('Text the body must contain (within probing.maxBodyBytes).'),
        json: z
          .strictObject({
            path: z.string().regex(/^\$?(\.[A-Za-z0-9_-]+|\[\d+\])+$/, {
              message: 'expect.json.path must look like $.status or $.checks[0].ok',
            }),
            equals: z.union([z.string(), z.number(), z.boolean(), z.null()]),
          })
          .optional()
          .describe('A JSON path whose value must equal `equals`.'),
        header: z
          .strictObject({ name: z.string().min(1), equals: z.string().optional(), contains: z.string().optional() })
          .optional()
          .describe('A response header that must be present (and equal or contain a value).'),
      })
      .default({})
      .describe('Assertions on the response.'),
  })
  .describe('An HTTP(S) request with assertions.');

const tcpTarget = z
  .strictObject({ ...commonTarget, type: z.literal('tcp'), host: hostname, port })
  .describe('A TCP connect.');

const dnsTarget = z
  .strictObject({
    ...commonTarget,
    type: z.literal('dns'),
    hostname: hostname,
    recordType: z.enum(['A', 'AAAA', 'CNAME', 'TXT', 'MX', 'NS']).default('A'),
    resolver: z.string().optional().describe('host or host:port of a DNS server to ask; default the system resolver.'),
    expect: z
      .strictObject({ answers: z.array(z.string()).min(1).optional().describe('Every one of these must be in the answer.') })
      .default({}),
  })
  .describe('A DNS lookup with expected answers.');

const tlsTarget = z
  .strictObject({
    ...commonTarget,
    type: z.literal('tls'),
    host: hostname,
    port: port.default(443),
    servername: z.string().optional().describe('SNI name; default host.'),
    warnDays: z
      .number()
      .int()
      .min(1, { message: 'warnDays must be at least 1' })
      .default(14)
      .describe('Fewer days left than this is degraded; expired or invalid is down.'),
  })
  .describe('TLS certificate expiry and validity.');

export const targetSchema = z.discriminatedUnion('type', [httpTarget, tcpTarget, dnsTarget, tlsTarget], {
  error: (issue) =>
    issue.code === 'invalid_union' ? 'type must be one of http, https, tcp, dns, tls' : undefined,
});

/** The retention periods CloudWatch Logs accepts, in days (AWS::Logs::LogGroup RetentionInDays). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
/** AWS Control Tower's CT.CLOUDWATCH.PR.2 wants a year or more; the default complies. */
export const COMPLIANT_LOG_RETENTION_DAYS = 365;

/** AWS resource ids: the short (8 hex digits) and the long (17) form. */
const VPC_ID_PATTERN = /^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/;
const SUBNET_ID_PATTERN = /^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/;
/** Lambda attaches a function to at most 16 subnets. */
export const MAX_FUNCTION_SUBNETS = 16;

const functionVpc = z
  .strictObject({
    vpcId: z.string().regex(VPC_ID_PATTERN, { message: 'vpcId must be a VPC id such as vpc-0123456789abcdef0' }).describe('The VPC the subnets belong to.'),
    subnetIds: z
      .array(z.string().regex(SUBNET_ID_PATTERN, { message: 'must be a subnet id such as subnet-0123456789abcdef0' }))
      .min(1, { message: 'subnetIds needs at least one private subnet id (two, in different Availability Zones, keep the functions up when one zone fails)' })
      .max(MAX_FUNCTION_SUBNETS, { message: `subnetIds may list at most ${MAX_FUNCTION_SUBNETS} subnets (Lambda's limit)` })
      .describe('Private subnets (ids only: synth looks nothing up) whose route to the internet goes through a NAT gateway; two or more in different Availability Zones.'),
  })
  .describe("One probe region's VPC for regionwatch's functions; the key is the probe region, such as us-east-1.");
const secretName = (what: string) =>
  z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, { message: `${what} must be a Secrets Manager secret name, such as regionwatch/pagerduty` });

/** Notification events a channel can be routed (DESIGN's `event` values). */
export const ROUTABLE_EVENTS = ['opened', 'escalated', 'deescalated', 'reminder', 'resolved', 'checker'] as const;
/** Severities that page: the bad verdicts. */
export const ROUTABLE_SEVERITIES = ['down', 'read-only', 'degraded'] as const;

export const DEFAULT_ROUTE = { events: ['opened', 'escalated', 'resolved'], severities: ['down', 'read-only', 'degraded'] } as const;

/**
 * Which notifications a channel gets, by the attributes SNS filter policies see (`event`, `severity`, `region`); the
 * CDK app turns it into the channel's subscription filter policy and local mode applies the same policy.
 */
const routeSchema = z
  .strictObject({
    $comment: comment,
    events: z
      .array(z.enum(ROUTABLE_EVENTS, { error: `events must be among ${ROUTABLE_EVENTS.join(', ')}` }))
      .min(1, { message: 'events needs at least one event, such as "opened"' })
      .default([...DEFAULT_ROUTE.events])
      .describe('Events sent. `resolved` is sent whatever its severity (it is `up`), so what was triggered is resolved.'),
    severities: z
      .array(z.enum(ROUTABLE_SEVERITIES, { error: `severities must be among ${ROUTABLE_SEVERITIES.join(', ')}` }))
      .min(1, { message: 'severities needs at least one severity, such as "down"' })
      .default([...DEFAULT_ROUTE.severities])
      .describe('Severities that page for opened, escalated, deescalated and reminder.'),
    regions: z
      .array(z.string())
      .min(1, { message: 'regions needs at least one platform region; leave it out for all' })
      .optional()
      .describe('Platform regions whose notifications are sent; all when left out. Checker notifications are not about a platform region and go wherever `checker` is in events.'),
  })
  .default({ events: [...DEFAULT_ROUTE.events], severities: [...DEFAULT_ROUTE.severities] })
  .describe('Which notifications this channel gets, by the SNS message attributes.');

export const PAGERDUTY_EVENTS_URLS = ['https://events.pagerduty.com/v2/enqueue', 'https://events.eu.pagerduty.com/v2/enqueue'] as const;

const pagerDutySchema = z
  .strictObject({
    $comment: comment,
    name: name('pagerDuty name').describe('Names the channel (its notifier function and alarms); unique among pagerDuty and webhooks.'),
    routingKeySecretName: secretName('routingKeySecretName').describe('Secrets Manager secret holding the PagerDuty Events API v2 integration (routing) key, as text or {"routingKey": "..."}.'),
    eventsUrl: z
      .enum(PAGERDUTY_EVENTS_URLS, { error: `eventsUrl must be ${PAGERDUTY_EVENTS_URLS.join(' or ')}` })
      .default(PAGERDUTY_EVENTS_URLS[0])
      .describe('PagerDuty Events API v2 endpoint: the US or the EU service region of your PagerDuty account.'),
    route: routeSchema,
  })
  .describe('A PagerDuty service: trigger on opened and escalated, resolve on resolved, one PagerDuty alert per incident.');

const webhookSchema = z
  .strictObject({
    $comment: comment,
    name: name('webhook name').describe('Names the channel (its notifier function and alarms); unique among pagerDuty and webhooks.'),
    secretName: secretName('secretName').describe('Secrets Manager secret holding {"url": "https://...", "signingSecret": "..."} (and "previousSigningSecret" while rotating).'),
    route: routeSchema,
  })
  .describe('A signed generic webhook: the notification as JSON, HMAC-SHA256 over timestamp and body in a header.');

const statusPageSchema = z
  .strictObject({
    $comment: comment,
    mode: z
      .enum(['off', 'public', 'private'], { error: 'statusPage.mode must be off, public or private' })
      .default('off')
      .describe('public: S3 behind CloudFront (origin access control); private: S3 only, readable through the named VPC endpoints or with IAM credentials; off: none.'),
    title: z.string().max(80).nullable().default(null).describe('The page title; default "<platform> status".'),
    domainName: hostname.nullable().default(null).describe('public: your own domain for the page (CNAME it to the distribution); with certificateArn, TLS 1.2 or newer only.'),
    certificateArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]+$/, { message: 'certificateArn must be an ACM certificate ARN in us-east-1 (CloudFront reads certificates there)' })
      .nullable()
      .default(null)
      .describe('public: ACM certificate (in us-east-1) for domainName.'),
    vpcEndpointIds: z
      .array(z.string().regex(/^vpce-[0-9a-f]{8,17}$/, { message: 'vpcEndpointIds entries must be VPC endpoint ids such as vpce-0123456789abcdef0' }))
      .default([])
      .describe('private: S3 VPC endpoints through which anyone inside the VPC may read the page (its files are then SSE-S3, not the region key: anonymous reads cannot decrypt KMS). Without them, readers need IAM credentials and kms:Decrypt on the region key.'),
    historyDays: z.number().int().min(1).max(90, { message: 'historyDays must be at most 90' }).default(90).describe('Days of uptime bars on the hosted page (one bar a day).'),
  })
  .default({ mode: 'off', title: null, domainName: null, certificateArn: null, vpcEndpointIds: [], historyDays: 90 })
  .describe('The hosted status page, rendered from the incident table whenever it changes.');

const isoInstant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 time such as 2026-12-01T02:00:00Z' });

export const configSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Path or URL of the JSON Schema, for editors.'),
    $comment: comment,
    platform: name('platform').describe('Name of the platform being watched; used in resource names.'),
    probeRegions: z
      .array(z.string().regex(AWS_REGION_PATTERN, { message: 'probe regions must be AWS region codes such as us-east-1' }))
      .min(1, { message: 'probeRegions needs at least one AWS region, such as us-east-1' })
      .describe('AWS regions that run a prober and an aggregator.'),
    homeRegion: z.string().describe('The probe region whose stack owns the global tables and whose aggregator acts first.'),
    defaults: defaultsSchema.default(defaultsSchema.parse({})),
    regions: z
      .record(name('platform region name'), z.strictObject({ $comment: comment, targets: z.array(targetSchema).default([]) }))
      .refine((r) => Object.keys(r).length > 0, { message: 'regions needs at least one platform region, such as "us"' })
      .describe('Platform regions, each with its targets.'),
    probing: z
      .strictObject({
        $comment: comment,
        allowPrivateAddresses: z
          .boolean()
          .default(false)
          .describe(
            'Allow loopback and private addresses for the hosts the config names (private platforms, local mode); a redirect to any other private or loopback host stays blocked, and metadata addresses always are.',
          ),
        maxBodyBytes: z.number().int().min(1024).max(10 * 1024 * 1024).default(65536).describe('Bytes read per response before the connection is dropped.'),
        maxRedirects: z.number().int().min(0).max(5, { message: 'maxRedirects must be at most 5' }).default(5).describe('Redirects followed before the result is redirect-loop.'),
        concurrency: z.number().int().min(1).max(1000).default(64).describe('Requests in flight at once per prober.'),
        perHostConcurrency: z.number().int().min(1).max(100).default(8).describe('Requests in flight at once per host.'),
        jitterMs: z
          .number()
          .int()
          .min(0)
          .max(10_000)
          .default(500)
          .describe(
            "Spread a round's requests over its first milliseconds. The prober is billed while it waits for the last start: 500 ms spaces 50 checks 10 ms apart; every 500 ms more adds about $1.30 a month at 3 probe regions and 10 s rounds (256 MB).",
          ),
        detection: z
          .enum(DETECTION_MODES, { message: `detection must be one of ${DETECTION_MODES.join(', ')}` })
          .default('confirm')
          .describe(
            'confirm: rounds staggered across the interval, and a failing check asks the other probe regions to check that target at once (one extra request per target per probe region per interval at most); staggered: staggered rounds only, no cross-region requests; rounds: every probe region at the slot\'s start, failureThreshold failing slots (the first design).',
          ),
        expectedLatencyMs: z
          .number()
          .int()
          .min(1, { message: 'expectedLatencyMs must be at least 1' })
          .max(60_000, { message: 'expectedLatencyMs must be at most 60000' })
          .default(500)
          .describe(
            'How long a healthy check usually takes (a fresh connection, TLS and the answer), in ms: sizes the shards a round fans out over. 500 fits a fresh HTTPS connection across an ocean; measure yours (the LatencyMs metric) and set it to a high percentile.',
          ),
        maxShards: z
          .number()
          .int()
          .min(1, { message: 'maxShards must be at least 1' })
          .max(500, { message: 'maxShards must be at most 500' })
          .default(20)
          .describe(
            'Most invocations one probe region\'s round fans out over (one rounds-queue message and invocation per shard). The rounds queue may run the shards plus 1 at once and the prober reserves that plus 1 (plus 2 with confirm on failure), so this caps what regionwatch takes of the account\'s Lambda concurrency.',
          ),
        resultRetentionHours: z.number().int().min(1).max(24 * 35).default(48).describe('Results expire (TTL) after this many hours.'),
      })
      .default({
        allowPrivateAddresses: false,
        maxBodyBytes: 65536,
        maxRedirects: 5,
        concurrency: 64,
        perHostConcurrency: 8,
        jitterMs: 500,
        detection: 'confirm',
        expectedLatencyMs: 500,
        maxShards: 20,
        resultRetentionHours: 48,
      })
      .describe('How probers behave towards targets.'),
    notifications: z
      .strictObject({
        $comment: comment,
        emails: z.array(z.email({ message: 'must be an email address' })).default([]).describe('Email addresses subscribed to the notification topic (each confirms by email).'),
        slackWebhookSecretName: z
          .string()
          .regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, { message: 'slackWebhookSecretName must be a Secrets Manager secret name' })
          .nullable()
          .default(null)
          .describe('Secrets Manager secret holding the Slack webhook URL; null for no Slack.'),
        reminderMinutes: z.number().int().min(1, { message: 'reminderMinutes must be at least 1' }).default(30).describe('A reminder goes out this often while an incident is open.'),
        pagerDuty: z.array(pagerDutySchema).max(5, { message: 'at most 5 pagerDuty services' }).default([]).describe('PagerDuty services, each with its routing.'),
        webhooks: z.array(webhookSchema).max(5, { message: 'at most 5 webhooks' }).default([]).describe('Signed generic webhooks, each with its routing.'),
      })
      .default({ emails: [], slackWebhookSecretName: null, reminderMinutes: 30, pagerDuty: [], webhooks: [] })
      .describe('Where pages go: SNS email subscriptions, Slack, PagerDuty and signed webhooks.'),
    statusPage: statusPageSchema,
    logs: z
      .strictObject({
        retentionDays: z
          .literal([...LOG_RETENTION_DAYS], { error: `logs.retentionDays must be one of CloudWatch Logs' periods: ${LOG_RETENTION_DAYS.join(', ')}` })
          .default(COMPLIANT_LOG_RETENTION_DAYS)
          .describe(`Days every regionwatch log group keeps its logs. Under ${COMPLIANT_LOG_RETENTION_DAYS} fails AWS Control Tower's CT.CLOUDWATCH.PR.2 (synth records that as acknowledged, with this value).`),
        invocationReports: z
          .boolean()
          .default(false)
          .describe(
            "Keep Lambda's START, END and REPORT lines (billed duration, max memory used, init duration) of every prober and aggregator invocation: about 900 B each, 2 GB a month at 3 probe regions and 10 s rounds, about $1.20 a month at list prices with a year's retention. Off, Lambda sends only its warnings for these two functions (system log level WARN); their own log lines, and Lambda's Duration, Errors and Throttles metrics, stay. Turn it on to size the prober's memory or look at cold starts.",
          ),
      })
      .default({ retentionDays: COMPLIANT_LOG_RETENTION_DAYS, invocationReports: false })
      .describe('CloudWatch Logs: every log group is encrypted with the region\'s customer managed key.'),
    observability: z
      .strictObject({
        $comment: comment,
        dashboard: z
          .boolean()
          .default(false)
          .describe(
            'Deploy the CloudWatch dashboard (in the home region) and the probers\' Availability and LatencyMs metrics per platform region and probe region, which only the dashboard reads: $3 a month for the dashboard and $0.30 a metric (18 with 3 platform and 3 probe regions), at list prices. Off, the checker\'s alarms, the status page and `regionwatch status` still show every region.',
          ),
      })
      .default({ dashboard: false })
      .describe('What regionwatch shows in CloudWatch besides the checker\'s alarms, which are always there.'),
    vpc: z
      // Keys are checked against probeRegions in crossFieldProblems, with the fix.
      .record(z.string(), functionVpc)
      .optional()
      .describe('Run every function in your VPC, per probe region (every probe region needs one): probes then leave through your NAT gateways, from addresses a platform can allowlist. Without it functions run outside any VPC.'),
    maintenance: z
      .array(
        z.strictObject({
          $comment: comment,
          region: z.string().describe('Platform region under maintenance.'),
          start: isoInstant,
          end: isoInstant,
          reason: z.string().optional(),
        }),
      )
      .default([])
      .describe('Windows in which pages are off and time counts as maintenance.'),
  })
  .describe('regionwatch config: see the README\'s config reference. Cross-field rules live in crossFieldProblems().');

/** A problem found by a rule that spans more than one field. */
export interface CrossFieldProblem {
  path: (string | number)[];
  message: string;
}

type Loose = Record<string, unknown>;
const asObject = (v: unknown): Loose | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Loose) : undefined);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const asNumber = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const asString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Rules that need more than one field, each naming the path a user must change.
 * They read the raw input defensively so they report alongside the per-field problems,
 * not only once everything else is fixed.
 */
export function crossFieldProblems(input: unknown): CrossFieldProblem[] {
  const problems: CrossFieldProblem[] = [];
  const add = (path: (string | number)[], message: string) => problems.push({ path, message });
  const config = asObject(input);
  if (!config) return problems;
  const probeRegions = asArray(config.probeRegions).filter((r): r is string => typeof r === 'string');
  const seenProbe = new Set<string>();
  probeRegions.forEach((region, i) => {
    if (seenProbe.has(region)) add(['probeRegions', i], `probe region ${region} is listed twice; list each once`);
    seenProbe.add(region);
  });
  const home = asString(config.homeRegion);
  if (home !== undefined && probeRegions.length > 0 && !probeRegions.includes(home)) {
    add(['homeRegion'], `homeRegion "${home}" is not a probe region; use one of ${probeRegions.join(', ')}`);
  }
  const defaults = asObject(config.defaults) ?? {};
  const defaultInterval = asNumber(defaults.intervalSeconds) ?? DEFAULTS.intervalSeconds;
  const defaultTimeout = asNumber(defaults.timeoutMs) ?? DEFAULTS.timeoutMs;
  const defaultQuorum = asNumber(defaults.quorum) ?? DEFAULTS.quorum;
  const quorumFix = (q: number) => `quorum ${q} is larger than the ${count(probeRegions.length, 'probe region')}; use at most ${probeRegions.length}`;
  if (probeRegions.length > 0 && defaultQuorum > probeRegions.length) add(['defaults', 'quorum'], quorumFix(defaultQuorum));
  // A queued round that starts up to ROUND_DELIVERY_SLACK_MS late must still end its checks ROUND_WRITE_MARGIN_MS
  // before its slot ends, or the prober drops every queued round as late (lambda/probe/queued-round.ts).
  const timeoutFits = (timeout: number, interval: number) => timeout <= maxTimeoutMs(interval);
  const timeoutFix = (timeout: number, interval: number) =>
    `timeoutMs ${timeout} leaves no time to start and write a round in a ${interval} s slot; use at most ${maxTimeoutMs(interval)}`;
  if (!timeoutFits(defaultTimeout, defaultInterval)) {
    add(['defaults', 'timeoutMs'], `${timeoutFix(defaultTimeout, defaultInterval)} or raise intervalSeconds`);
  }
  const regions = asObject(config.regions) ?? {};
  const allowPrivate = asObject(config.probing)?.allowPrivateAddresses === true;
  for (const [regionName, regionValue] of Object.entries(regions)) {
    const seen = new Map<string, number>();
    asArray(asObject(regionValue)?.targets).forEach((targetValue, i) => {
      const target = asObject(targetValue);
      if (!target) return;
      const path = ['regions', regionName, 'targets', i];
      const targetName = asString(target.name);
      if (targetName !== undefined) {
        const first = seen.get(targetName);
        if (first !== undefined) {
          add([...path, 'name'], `target name "${targetName}" is already used by regions.${regionName}.targets[${first}]; names must be unique within a region`);
        } else seen.set(targetName, i);
      }
      // A literal address the SSRF guard refuses is known now: a config problem with its fix, not a refusal every round.
      const refusal = literalRefusal(target, allowPrivate);
      if (refusal) add([...path, refusal.field], refusal.message);
      const ownInterval = asNumber(target.intervalSeconds);
      const ownTimeout = asNumber(target.timeoutMs);
      // A target with a longer interval is still checked inside a round of the default interval, so its
      // timeout must fit that slot, not its own interval (the round's deadline is the default slot's end).
      if (ownTimeout !== undefined && !timeoutFits(ownTimeout, defaultInterval)) {
        const longer = ownInterval !== undefined && ownInterval !== defaultInterval ? ` (rounds run every defaults.intervalSeconds, ${defaultInterval} s, whatever the target's own interval)` : '';
        add([...path, 'timeoutMs'], `${timeoutFix(ownTimeout, defaultInterval)}${longer}`);
      }
      if (ownInterval !== undefined && ownInterval % defaultInterval !== 0) {
        add([...path, 'intervalSeconds'], `intervalSeconds ${ownInterval} must be a multiple of defaults.intervalSeconds (${defaultInterval}): rounds run on the default interval`);
      }
      const ownQuorum = asNumber(target.quorum);
      if (ownQuorum !== undefined && probeRegions.length > 0 && ownQuorum > probeRegions.length) add([...path, 'quorum'], quorumFix(ownQuorum));
      if (target.type === 'http' || target.type === 'https') {
        const method = asString(target.method) ?? 'GET';
        if (target.role === 'write-probe' && method !== 'POST' && method !== 'PUT') {
          add([...path, 'method'], 'a write-probe must use method POST or PUT, which a read-only platform refuses');
        }
        if (target.body !== undefined && (method === 'GET' || method === 'HEAD')) {
          add([...path, 'body'], `a ${method} request has no body; use POST or PUT, or remove body`);
        }
        // Names are case-insensitive: two spellings of one name would send one of them, silently.
        const spellings = new Map<string, string>();
        for (const header of Object.keys(asObject(target.headers) ?? {})) {
          const first = spellings.get(header.toLowerCase());
          if (first !== undefined) add([...path, 'headers', header], `header ${header} is already set as ${first} (header names are case-insensitive); keep one`);
          else spellings.set(header.toLowerCase(), header);
        }
      }
    });
  }
  const vpc = asObject(config.vpc);
  if (vpc && probeRegions.length > 0) {
    // All or nothing: a probe region left outside its VPC would probe from addresses nobody allowlisted.
    for (const region of Object.keys(vpc)) {
      if (!probeRegions.includes(region)) add(['vpc', region], `${region} is not a probe region; use one of ${probeRegions.join(', ')}, or remove it`);
    }
    for (const region of probeRegions.filter((r) => !(r in vpc))) {
      add(['vpc', region], `probe region ${region} has no VPC; with vpc set, every probe region's functions run in its VPC: add { "vpcId": "vpc-…", "subnetIds": ["subnet-…"] } for ${region}, or remove vpc`);
    }
    for (const [region, value] of Object.entries(vpc)) {
      const seen = new Set<string>();
      asArray(asObject(value)?.subnetIds).forEach((id, i) => {
        if (typeof id !== 'string') return;
        if (seen.has(id)) add(['vpc', region, 'subnetIds', i], `subnet ${id} is listed twice; list each once`);
        seen.add(id);
      });
    }
  }
  const notifications = asObject(config.notifications) ?? {};
  const channelNames = new Map<string, string>();
  for (const kind of ['pagerDuty', 'webhooks'] as const) {
    asArray(notifications[kind]).forEach((value, i) => {
      const channel = asObject(value);
      if (!channel) return;
      const path = ['notifications', kind, i];
      const channelName = asString(channel.name);
      const platform = asString(config.platform);
      if (channelName !== undefined && platform !== undefined) {
        const fn = channelFunctionName(platform, kind === 'pagerDuty' ? 'pagerduty' : 'webhook', channelName);
        if (fn.length > FUNCTION_NAME_MAX) {
          add([...path, 'name'], `name "${channelName}" makes the notifier's function name ${fn} ${fn.length} characters long, over Lambda's ${FUNCTION_NAME_MAX}; use at most ${channelName.length - (fn.length - FUNCTION_NAME_MAX)} characters`);
        }
      }
      if (channelName !== undefined) {
        const first = channelNames.get(channelName);
        if (first !== undefined) add([...path, 'name'], `channel name "${channelName}" is already used by notifications.${first}; pagerDuty and webhook names must be unique`);
        else channelNames.set(channelName, `${kind}[${i}]`);
      }
      const route = asObject(channel.route);
      asArray(route?.regions).forEach((region, r) => {
        if (typeof region === 'string' && Object.keys(regions).length > 0 && !(region in regions)) {
          add([...path, 'route', 'regions', r], `route region "${region}" is not a platform region; use one of ${Object.keys(regions).join(', ')}`);
        }
      });
      const events = asArray(route?.events).filter((e): e is string => typeof e === 'string');
      if (kind === 'pagerDuty' && events.length > 0 && events.some((e) => e === 'opened' || e === 'escalated') && !events.includes('resolved')) {
        add([...path, 'route', 'events'], 'events include opened or escalated but not resolved: PagerDuty would never resolve the alerts regionwatch triggers; add "resolved"');
      }
    });
  }
  const page = asObject(config.statusPage);
  if (page) {
    const mode = asString(page.mode) ?? 'off';
    const domain = page.domainName ?? null;
    const certificate = page.certificateArn ?? null;
    if ((domain === null) !== (certificate === null)) {
      add(['statusPage', domain === null ? 'domainName' : 'certificateArn'], 'domainName and certificateArn go together: CloudFront serves a domain of your own only with its certificate; set both or neither');
    }
    if (mode !== 'public' && (domain !== null || certificate !== null)) add(['statusPage', 'mode'], `domainName and certificateArn apply to mode "public" only, not "${mode}"`);
    if (mode !== 'private' && asArray(page.vpcEndpointIds).length > 0) add(['statusPage', 'vpcEndpointIds'], `vpcEndpointIds apply to mode "private" only, not "${mode}"`);
  }
  asArray(config.maintenance).forEach((windowValue, i) => {
    const window = asObject(windowValue);
    if (!window) return;
    const region = asString(window.region);
    if (region !== undefined && Object.keys(regions).length > 0 && !(region in regions)) {
      add(['maintenance', i, 'region'], `maintenance region "${region}" is not a platform region; use one of ${Object.keys(regions).join(', ')}`);
    }
    const start = Date.parse(asString(window.start) ?? '');
    const end = Date.parse(asString(window.end) ?? '');
    if (Number.isFinite(start) && Number.isFinite(end) && end <= start) {
      add(['maintenance', i, 'end'], `maintenance window ends (${String(window.end)}) before it starts (${String(window.start)}); end must be after start`);
    }
  });
  return problems;
}

/** The validated config with every default filled in. */
export type RegionwatchConfig = z.output<typeof configSchema>;
/** The config as a user writes it (defaults optional). */
export type RegionwatchConfigInput = z.input<typeof configSchema>;
export type TargetConfig = z.output<typeof targetSchema>;
export type HttpTargetConfig = Extract<TargetConfig, { type: 'http' | 'https' }>;
export type TcpTargetConfig = Extract<TargetConfig, { type: 'tcp' }>;
export type DnsTargetConfig = Extract<TargetConfig, { type: 'dns' }>;
export type TlsTargetConfig = Extract<TargetConfig, { type: 'tls' }>;
export type Tuning = z.output<typeof defaultsSchema>;
export type MaintenanceWindow = RegionwatchConfig['maintenance'][number];
export type FunctionVpcConfig = z.output<typeof functionVpc>;
export type RouteConfig = z.output<typeof routeSchema>;
export type PagerDutyConfig = z.output<typeof pagerDutySchema>;
export type WebhookConfig = z.output<typeof webhookSchema>;
export type StatusPageConfig = z.output<typeof statusPageSchema>;

/** The config's JSON Schema, derived from the zod schema (what `regionwatch schema` prints). */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://regionwatch.dev/schema/regionwatch.config.json',
    title: 'regionwatch config',
  };
}
