// Delivering a notification to PagerDuty: the event for it, sent with the shared retries, and one guard for the
// trigger → resolve pairing. SNS invokes the notifier asynchronously and Lambda retries a failed invocation minutes
// later, so a trigger can arrive after the resolve of its incident; sent as it is, it would reopen an alert that
// nothing resolves. Before a trigger the notifier reads the incident and, if it has resolved since, resolves instead.
import type { IncidentRecord } from '../core/incident-record';
import { seqOfIncidentId } from '../core/incident-record';
import type { NotificationBody } from '../core/notification';
import type { ChannelDelivery, NotifierLogger } from './channel-notifier';
import type { SecretSource } from './channel-secret';
import type { PostOptions } from './http-delivery';
import { pagerDutyEvent, sendPagerDutyEvent, type PagerDutyEvent, type PagerDutySecret } from './pagerduty';

/** Reads an incident as stored now (the local replica of the incident table, or local mode's store). */
export type IncidentLookup = (region: string, seq: number) => Promise<Pick<IncidentRecord, 'status' | 'resolvedAt'> | null>;

export interface PagerDutyDeliveryDeps {
  readonly secret: SecretSource<PagerDutySecret>;
  /** The config's eventsUrl (the secret may name a loopback stand-in instead, when allowed). */
  readonly eventsUrl: string;
  readonly platform: string;
  readonly statusPageUrl?: string;
  /** When given, a trigger for an incident that has resolved since becomes a resolve. */
  readonly incidents?: IncidentLookup;
  readonly logger?: NotifierLogger;
  /** Sends one event; defaults to sendPagerDutyEvent. */
  readonly send?: (eventsUrl: string, event: PagerDutyEvent, options: PostOptions) => Promise<number>;
}

/** Whether the incident resolved at or after this notification was made: its trigger is stale. */
async function resolvedSince(deps: PagerDutyDeliveryDeps, body: NotificationBody): Promise<string | null> {
  if (!deps.incidents || body.incidentId === null || body.region === null) return null;
  const seq = seqOfIncidentId(body.region, body.incidentId);
  if (seq === null) return null;
  try {
    const incident = await deps.incidents(body.region, seq);
    if (incident?.status === 'resolved' && incident.resolvedAt !== null && Date.parse(incident.resolvedAt) >= Date.parse(body.at)) return incident.resolvedAt;
  } catch (error: unknown) {
    // A page must not wait for this read: without it, the trigger goes out as it is.
    deps.logger?.warn('could not read the incident before a PagerDuty trigger; sending it as it is', { incidentId: body.incidentId, error: error instanceof Error ? error.name : String(error) });
  }
  return null;
}

/** The delivery function of a PagerDuty channel (the Lambda's and local mode's). */
export function pagerDutyDelivery(deps: PagerDutyDeliveryDeps): (body: NotificationBody, subject: string | undefined, bounds: { maxTotalMs: number }) => Promise<ChannelDelivery> {
  const send = deps.send ?? sendPagerDutyEvent;
  return async (body, subject, bounds) => {
    const { routingKey, eventsUrl = deps.eventsUrl } = await deps.secret.get();
    const context = { routingKey, platform: deps.platform, ...(deps.statusPageUrl ? { statusPageUrl: deps.statusPageUrl } : {}) };
    const event = pagerDutyEvent(body, subject, context);
    if (body.event === 'test') {
      // A test page: trigger, then resolve it at once, so nobody's incident list keeps it.
      const started = Date.now();
      const triggered = await send(eventsUrl, event, { maxTotalMs: bounds.maxTotalMs });
      const resolved = await send(eventsUrl, { routing_key: routingKey, event_action: 'resolve', dedup_key: event.dedup_key }, { maxTotalMs: Math.max(1, bounds.maxTotalMs - (Date.now() - started)) });
      return { attempts: triggered + resolved, detail: `triggered and resolved PagerDuty alert ${event.dedup_key}` };
    }
    if (event.event_action === 'trigger') {
      const resolvedAt = await resolvedSince(deps, body);
      if (resolvedAt !== null) {
        const attempts = await send(eventsUrl, { routing_key: routingKey, event_action: 'resolve', dedup_key: event.dedup_key }, { maxTotalMs: bounds.maxTotalMs });
        return { attempts, detail: `resolved PagerDuty alert ${event.dedup_key} instead of triggering it: the incident resolved at ${resolvedAt}, after this ${body.event}` };
      }
      const attempts = await send(eventsUrl, event, { maxTotalMs: bounds.maxTotalMs });
      return { attempts, detail: `triggered PagerDuty alert ${event.dedup_key} (${event.payload.severity})` };
    }
    const attempts = await send(eventsUrl, event, { maxTotalMs: bounds.maxTotalMs });
    return { attempts, detail: `resolved PagerDuty alert ${event.dedup_key}` };
  };
}
