// PagerDuty Events API v2: a notification becomes a trigger (opened, escalated …) or a resolve (resolved), with the
// incident as the dedup_key, so PagerDuty holds one alert per regionwatch incident and a reopened incident
// re-triggers the same one. Pure event building, the routing key's parser, and the delivery through postJson.
import type { NotificationBody, Verdict } from '../core/notification';
import { ChannelSecretError } from './channel-secret';
import { DeliveryError, postJson, type PostOptions } from './http-delivery';

/** PagerDuty's limit on `payload.summary`. */
export const PAGERDUTY_SUMMARY_MAX = 1024;
/** PagerDuty's limit on `dedup_key`. */
const DEDUP_KEY_MAX = 255;
/** Targets listed in custom details at most (the summary names the situation; the status page has the rest). */
const DETAIL_TARGETS = 10;

export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

const SEVERITY: Record<Verdict, PagerDutySeverity> = {
  down: 'critical',
  'read-only': 'error',
  degraded: 'warning',
  unknown: 'warning',
  maintenance: 'info',
  up: 'info',
};

export interface PagerDutyTrigger {
  routing_key: string;
  event_action: 'trigger';
  dedup_key: string;
  payload: {
    summary: string;
    source: string;
    severity: PagerDutySeverity;
    timestamp: string;
    component?: string;
    group: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
  links?: { href: string; text: string }[];
  client: string;
  client_url?: string;
}

export interface PagerDutyResolve {
  routing_key: string;
  event_action: 'resolve';
  dedup_key: string;
}

export type PagerDutyEvent = PagerDutyTrigger | PagerDutyResolve;

export interface PagerDutyContext {
  routingKey: string;
  /** The platform's name: dedup keys and the source carry it, so two deployments never share an alert. */
  platform: string;
  /** The status page's address (ending in `/`), linked from every alert; none without a hosted page. */
  statusPageUrl?: string;
}

/** Cuts text to `max` characters (code points), ending with `…` when cut. */
export function cut(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * The alert a notification belongs to: the incident (whatever its transitions, so a reopened incident re-triggers the
 * same alert), a checker component (a probe region, `results`, `notifications`), or a test.
 */
export function pagerDutyDedupKey(body: Pick<NotificationBody, 'event' | 'incidentId' | 'dedupKey' | 'evidence'>, platform: string): string {
  const key =
    body.event === 'test'
      ? `regionwatch/${platform}/${body.dedupKey}`
      : body.incidentId !== null
        ? `regionwatch/${platform}/incident/${body.incidentId}`
        : `regionwatch/${platform}/checker/${body.evidence.component ?? 'checker'}`;
  return cut(key, DEDUP_KEY_MAX);
}

/** Resolve on `resolved`, and on a checker notification saying a component is healthy again; trigger otherwise. */
export function pagerDutyAction(body: Pick<NotificationBody, 'event' | 'severity'>): 'trigger' | 'resolve' {
  if (body.event === 'resolved') return 'resolve';
  if (body.event === 'checker' && body.severity === 'up') return 'resolve';
  return 'trigger';
}

/** The Events API v2 event for a notification. */
export function pagerDutyEvent(body: NotificationBody, subject: string | undefined, context: PagerDutyContext): PagerDutyEvent {
  const dedupKey = pagerDutyDedupKey(body, context.platform);
  if (pagerDutyAction(body) === 'resolve') return { routing_key: context.routingKey, event_action: 'resolve', dedup_key: dedupKey };
  const anchor = body.incidentId !== null ? `#incident-${body.incidentId}` : '';
  const link = context.statusPageUrl ? `${context.statusPageUrl}${anchor}` : undefined;
  const targets = body.evidence.targets.slice(0, DETAIL_TARGETS).map((t) => ({
    target: t.target,
    verdict: t.verdict,
    failingFrom: t.failingFrom,
    seenBy: t.seenBy.map((s) => [s.probeRegion, s.status, s.statusCode, s.errorClass, s.latencyMs !== undefined ? `${s.latencyMs} ms` : undefined].filter((p) => p !== undefined).join(' · ')),
  }));
  const figures = body.evidence.downSeconds !== undefined ? { downMinutes: Math.round((body.evidence.downSeconds ?? 0) / 60), degradedMinutes: Math.round((body.evidence.degradedSeconds ?? 0) / 60), readOnlyMinutes: Math.round((body.evidence.readOnlySeconds ?? 0) / 60) } : {};
  return {
    routing_key: context.routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: cut(body.summary.trim() === '' ? (subject ?? body.event) : body.summary, PAGERDUTY_SUMMARY_MAX),
      source: `regionwatch/${context.platform}${body.region !== null ? `/${body.region}` : ''}`,
      severity: body.event === 'test' ? 'info' : SEVERITY[body.severity],
      timestamp: body.at,
      ...(body.region !== null ? { component: body.region } : body.evidence.component ? { component: body.evidence.component } : {}),
      group: context.platform,
      class: body.event === 'checker' ? 'checker' : body.event === 'test' ? 'test' : body.severity,
      custom_details: {
        subject: subject ?? null,
        event: body.event,
        incidentId: body.incidentId,
        region: body.region,
        severity: body.severity,
        at: body.at,
        targets,
        ...(body.evidence.targets.length > DETAIL_TARGETS ? { moreTargets: body.evidence.targets.length - DETAIL_TARGETS } : {}),
        probeRegions: body.evidence.probeRegions,
        ...figures,
        ...(link ? { statusPage: link } : {}),
        regionwatchDedupKey: body.dedupKey,
      },
    },
    ...(link ? { links: [{ href: link, text: 'Status page' }] } : {}),
    client: `regionwatch ${context.platform}`,
    ...(context.statusPageUrl ? { client_url: context.statusPageUrl } : {}),
  };
}

export interface PagerDutySecret {
  routingKey: string;
  /** Where events go instead of the config's eventsUrl: a loopback stand-in, when allowed (local mode, tests). */
  eventsUrl?: string;
}

/**
 * The routing key from its secret: the 32-character integration key as text, or `{"routingKey": "..."}`. With
 * `allowLoopback`, the JSON may also name an `eventsUrl` on http://127.0.0.1 (a local stand-in for PagerDuty).
 */
export function parsePagerDutySecret(secretText: string, secretName: string, options: { allowLoopback?: boolean } = {}): PagerDutySecret {
  const text = secretText.trim();
  let value: Record<string, unknown> = { routingKey: text };
  if (text.startsWith('{')) {
    try {
      value = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new ChannelSecretError(`secret ${secretName} looks like JSON but does not parse; store the routing key or {"routingKey": "..."}`, false);
    }
  }
  const key = value.routingKey;
  if (typeof key !== 'string' || !/^[A-Za-z0-9]{20,64}$/.test(key.trim())) {
    throw new ChannelSecretError(`secret ${secretName} does not hold a PagerDuty routing key (the 32-character integration key of an Events API v2 integration)`, false);
  }
  const url = value.eventsUrl;
  if (url === undefined) return { routingKey: key.trim() };
  const loopback = typeof url === 'string' && /^http:\/\/127\.0\.0\.1(:\d+)?\//.test(url);
  if (!loopback || options.allowLoopback !== true) {
    throw new ChannelSecretError(`secret ${secretName} names an eventsUrl; only a loopback stand-in (http://127.0.0.1…) in local mode may, the config's eventsUrl says which PagerDuty`, false);
  }
  return { routingKey: key.trim(), eventsUrl: url };
}

/** An event PagerDuty did not take (see DeliveryError); the routing key never appears in it. */
export class PagerDutyDeliveryError extends DeliveryError {
  override readonly name = 'PagerDutyDeliveryError';
}

/** Sends one event; PagerDuty answers 202 with its own dedup_key. Returns the attempts used. */
export async function sendPagerDutyEvent(eventsUrl: string, event: PagerDutyEvent, options: PostOptions = {}): Promise<number> {
  const delivered = await postJson(eventsUrl, event, { label: 'PagerDuty', error: PagerDutyDeliveryError }, options);
  return delivered.attempts;
}
