// Which notifications a channel gets: its route (config) as an SNS subscription filter policy on the message
// attributes `event`, `severity` and `region`, and the same policy evaluated in-process for local mode and
// `notify test`, so a channel gets the same notifications on AWS and on this machine.
import type { RouteConfig } from '../config/schema';
import type { NotificationBody } from '../core/notification';
import { notificationAttributes } from './sns-publisher';

/** A filter policy (the subset regionwatch writes: exact strings, `anything-but` lists, one level of `$or`). */
export type FilterPolicy = Record<string, unknown>;

/** Events that raise or update an alert (their severity decides), as opposed to `resolved` and `checker`. */
const SEVERITY_EVENTS = new Set(['opened', 'escalated', 'deescalated', 'reminder']);

/**
 * The route as a filter policy. A `resolved` notification carries severity `up`, so it gets its own branch (only the
 * regions filter applies): whatever triggered an alert is resolved. Checker notifications are about no platform
 * region and go wherever `checker` is listed. A `test` notification (`notify test`) matches no branch: the CLI
 * invokes each notifier directly, so the topic's copy reaches only the other subscribers.
 */
export function filterPolicyOf(route: RouteConfig): FilterPolicy {
  const regions = route.regions ? { region: [...route.regions] } : {};
  const branches: FilterPolicy[] = [];
  const severityEvents = route.events.filter((e) => SEVERITY_EVENTS.has(e));
  if (severityEvents.length > 0) branches.push({ event: severityEvents, severity: [...route.severities], ...regions });
  if (route.events.includes('resolved')) branches.push({ event: ['resolved'], ...regions });
  if (route.events.includes('checker')) branches.push({ event: ['checker'] });
  const [only] = branches;
  return branches.length === 1 && only ? only : { $or: branches };
}

/** Everything but test notifications (the Slack subscription: the CLI invokes the notifier directly for those). */
export const ALL_BUT_TESTS: FilterPolicy = { event: [{ 'anything-but': ['test'] }] };

function matchesValue(condition: unknown, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (typeof condition === 'string') return condition === value;
  if (condition !== null && typeof condition === 'object' && 'anything-but' in condition) {
    const excluded = (condition as { 'anything-but': unknown })['anything-but'];
    return !(Array.isArray(excluded) ? excluded : [excluded]).includes(value);
  }
  throw new Error(`filter policy condition ${JSON.stringify(condition)} is not one regionwatch writes`);
}

function matchesAll(policy: FilterPolicy, attributes: Record<string, string>): boolean {
  return Object.entries(policy).every(([key, conditions]) => {
    if (key === '$or') return (conditions as FilterPolicy[]).some((branch) => matchesAll(branch, attributes));
    return (Array.isArray(conditions) ? conditions : [conditions]).some((c) => matchesValue(c, attributes[key]));
  });
}

/** Whether SNS would deliver a message with these attributes through this policy. */
export function matchesFilterPolicy(policy: FilterPolicy, attributes: Record<string, string>): boolean {
  return matchesAll(policy, attributes);
}

/** Whether the route sends this notification. */
export function routes(route: RouteConfig, body: Pick<NotificationBody, 'event' | 'region' | 'severity'>): boolean {
  return matchesFilterPolicy(filterPolicyOf(route), notificationAttributes(body));
}
