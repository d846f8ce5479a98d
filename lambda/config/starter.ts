// The config `regionwatch init` writes: a valid, commented starting point built from a few answers (pure).
import { literalAddressKind, opensWithAllowPrivate, type AddressKind } from '../probe/address-guard';
import { literalRefusal } from './literal-addresses';
import { AWS_REGION_PATTERN, DEFAULTS, NAME_PATTERN, type RegionwatchConfigInput } from './schema';

/** The probe regions a new config starts with: one per continent, as the reference workload. */
export const STARTER_PROBE_REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-1'] as const;

export interface StarterAnswers {
  platform: string;
  /** Platform regions in order, each with its health-check URL and, if the user has one, a write-probe URL. */
  regions: { name: string; url: string; writeUrl?: string }[];
  probeRegions: string[];
  emails: string[];
  /** Whether probers may reach loopback and private addresses (asked when a URL is one). */
  allowPrivateAddresses: boolean;
  /** The `$schema` value: the path from the config's folder to regionwatch.schema.json. */
  schemaPath: string;
}

/**
 * The kind of address a URL names literally when probers refuse it unless private addresses are allowed (`loopback`
 * for 127.0.0.1, ::1 and localhost; `private` for 10/8, 192.168/16 …), else undefined. Names that resolve to such an
 * address are only known at the first round.
 */
export function privateAddressKind(url: string): AddressKind | undefined {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return undefined;
  }
  const kind = literalAddressKind(host);
  return kind !== undefined && opensWithAllowPrivate(kind) ? kind : undefined;
}

/** Why an answer is not usable, or undefined when it is: the messages init repeats at its prompts. */
export const ANSWER_PROBLEMS = {
  name(what: string, value: string): string | undefined {
    return NAME_PATTERN.test(value) ? undefined : `${what} "${value}" must be 1-32 lowercase letters, digits or dashes, starting with a letter or digit`;
  },
  url(value: string): string | undefined {
    try {
      const url = new URL(value);
      if ((url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '') {
        // An address no setting opens (metadata, link-local …) would fail validate: say so at the prompt.
        const refusal = literalRefusal({ type: 'http', url: value }, true);
        return refusal?.message;
      }
    } catch {
      // falls through to the message
    }
    return `"${value}" is not an absolute http:// or https:// URL, such as https://api.us.example.com/health`;
  },
  probeRegion(value: string): string | undefined {
    return AWS_REGION_PATTERN.test(value) ? undefined : `probe region "${value}" is not an AWS region code such as us-east-1`;
  },
  email(value: string): string | undefined {
    return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value) ? undefined : `"${value}" is not an email address`;
  },
};

/** A platform name from a folder name: `My Platform` → `my-platform`; undefined when nothing usable is left. */
export function platformNameFrom(folder: string): string | undefined {
  const name = folder
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 32)
    .replace(/-+$/, '');
  return NAME_PATTERN.test(name) ? name : undefined;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * The starter config. Every object carries a `$comment` that says what it does and what to change; a region without a
 * write-probe URL gets no guessed one (a made-up URL would page `read-only` for a canary that does not exist) but a
 * note on how to add it, since without one read-only looks like up.
 */
export function starterConfig(a: StarterAnswers): RegionwatchConfigInput {
  const quorum = Math.min(DEFAULTS.quorum, a.probeRegions.length);
  const home = a.probeRegions[0] ?? STARTER_PROBE_REGIONS[0];
  const detectSeconds = DEFAULTS.intervalSeconds * DEFAULTS.failureThreshold;
  const regions: RegionwatchConfigInput['regions'] = {};
  for (const r of a.regions) {
    const targets: RegionwatchConfigInput['regions'][string]['targets'] = [
      {
        $comment: [
          `Up when ${hostOf(r.url)} answers any 2xx within ${DEFAULTS.timeoutMs} ms; slower than ${DEFAULTS.degradedLatencyMs} ms is degraded.`,
          'Make it stricter with "expect": { "status": [200], "bodyContains": "ok" } (or a "json" path), as in docs/config.md.',
        ],
        name: 'api',
        type: 'http',
        url: r.url,
      },
    ];
    if (r.writeUrl !== undefined) {
      targets.push({
        $comment: [
          `Write probe: a POST that ${r.name} accepts (any 2xx) while it can write and refuses while it is read-only.`,
          'Refused while the api check succeeds makes the region read-only instead of down. Set "body" and "headers" (content-type) to what the endpoint expects.',
        ],
        name: 'write-path',
        type: 'http',
        method: 'POST',
        role: 'write-probe',
        url: r.writeUrl,
      });
    }
    regions[r.name] = {
      $comment:
        r.writeUrl !== undefined
          ? `Platform region ${r.name}: its health check and its write probe. Add tcp, dns and tls targets as you need them (docs/config.md).`
          : [
              `Platform region ${r.name}: its health check. Add tcp, dns and tls targets as you need them (docs/config.md).`,
              `No write probe yet, so read-only looks like up: add a target with method POST, role write-probe and the URL of a canary write that ${r.name} refuses while read-only (regionwatch init --write-url ${r.name}=URL writes one).`,
            ],
      targets,
    };
  }
  const privateUrls = a.regions.flatMap((r) => [r.url, ...(r.writeUrl !== undefined ? [r.writeUrl] : [])]).filter((u) => privateAddressKind(u) !== undefined);
  return {
    $schema: a.schemaPath,
    $comment: [
      `regionwatch config for ${a.platform}, written by regionwatch init. "$comment" notes like this one are for people; regionwatch ignores them.`,
      'Check it with `npx regionwatch validate`, watch it on this machine with `npx regionwatch local`, deploy it with `npx cdk deploy --all`.',
      'Every key, its default and its meaning: docs/config.md.',
    ],
    platform: a.platform,
    probeRegions: a.probeRegions,
    homeRegion: home,
    defaults: {
      $comment: [
        `Each probe region checks every target every ${DEFAULTS.intervalSeconds} s. A target is down once ${quorum} of the ${a.probeRegions.length} probe regions see it fail ${DEFAULTS.failureThreshold} rounds in a row (a page about ${detectSeconds} s after it breaks), and up again after ${DEFAULTS.recoveryThreshold} good rounds.`,
        'A target may override any of these.',
      ],
      ...DEFAULTS,
      quorum,
    },
    regions,
    ...(privateUrls.length > 0 || a.allowPrivateAddresses
      ? {
          probing: {
            $comment: a.allowPrivateAddresses
              ? `Probers may reach the loopback and private addresses of the hosts this config names (${privateUrls.join(', ') || 'asked for'}): right for a private platform or regionwatch local; probers in AWS reach only what their network can. Redirects elsewhere and metadata addresses stay blocked.`
              : `Probers refuse loopback and private addresses, so ${privateUrls.join(', ')} will be blocked; set "allowPrivateAddresses": true to probe them (a private platform, or regionwatch local).`,
            allowPrivateAddresses: a.allowPrivateAddresses,
          },
        }
      : {}),
    notifications: {
      $comment: [
        'Every notification goes to one SNS topic: these addresses are subscribed at deploy (each confirms by email).',
        'Slack: store the webhook URL in Secrets Manager and put the secret\'s name here (docs/notifications.md).',
      ],
      emails: a.emails,
      slackWebhookSecretName: null,
      reminderMinutes: 30,
    },
    maintenance: [],
  };
}
