// The status page's Atom feed (RFC 4287): one entry per incident, updated with each of its updates (the notifications
// sent about it), newest first, so a feed reader shows an incident once and marks it updated.
import type { IncidentView, StatusSnapshot } from './model';
import { shortTime } from './html';

/** Incidents the feed carries at most (open first, then the newest resolved). */
export const FEED_MAX_ENTRIES = 50;

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes text for XML content and attribute values; drops characters XML 1.0 does not allow. */
export function xmlEscape(value: unknown): string {
  return (
    String(value ?? '')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
      .replace(/[&<>"']/g, (c) => XML_ESCAPES[c] ?? c)
  );
}

const EVENT_WORDS: Record<string, string> = {
  opened: 'Opened',
  escalated: 'Worse',
  deescalated: 'Better',
  reminder: 'Still open',
  resolved: 'Resolved',
};

function entryTitle(incident: IncidentView): string {
  const state = incident.status === 'open' ? 'ongoing' : 'resolved';
  return `${incident.region.toUpperCase()} ${incident.severity} (${state}): incident ${incident.incidentId}`;
}

/** The incident's newest update time: its last notification, its resolve, or its opening. */
function updatedAt(incident: IncidentView): string {
  const times = [incident.openedAt, ...(incident.resolvedAt ? [incident.resolvedAt] : []), ...incident.notifications.map((n) => n.at)];
  return times.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
}

/** Plain-text content: the figures, then every update newest first. */
function entryText(incident: IncidentView): string {
  const figures = `${Math.round(incident.downMinutes)} min down, ${Math.round(incident.degradedMinutes)} min degraded (${Math.round(incident.readOnlyMinutes)} read-only)`;
  const updates = [...incident.notifications]
    .sort((a, b) => b.at.localeCompare(a.at))
    .map((n) => `${shortTime(n.at, true)} UTC · ${EVENT_WORDS[n.event] ?? n.event}${n.subject ? `: ${n.subject}` : ''}`);
  const span = incident.resolvedAt ? `${shortTime(incident.openedAt, true)} – ${shortTime(incident.resolvedAt, true)} UTC` : `open since ${shortTime(incident.openedAt, true)} UTC`;
  return [`${span}; ${figures}.`, ...updates].join('\n');
}

/**
 * The feed. `baseUrl` (the page's address, ending in `/`) makes its links absolute; without it they are relative to
 * the feed, which sits beside index.html.
 */
export function renderAtomFeed(snapshot: StatusSnapshot, baseUrl?: string): string {
  const base = baseUrl ?? '';
  const incidents = [...snapshot.openIncidents, ...snapshot.recentIncidents].slice(0, FEED_MAX_ENTRIES);
  const feedUpdated = incidents.map(updatedAt).reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a), snapshot.checkedAt ?? snapshot.now);
  const id = `urn:regionwatch:${snapshot.platform}:status`;
  const entries = incidents.map((i) => {
    const link = `${base}index.html#incident-${i.incidentId}`;
    return `  <entry>
    <id>urn:regionwatch:${xmlEscape(snapshot.platform)}:incident:${xmlEscape(i.incidentId)}</id>
    <title>${xmlEscape(entryTitle(i))}</title>
    <published>${xmlEscape(i.openedAt)}</published>
    <updated>${xmlEscape(updatedAt(i))}</updated>
    <link rel="alternate" type="text/html" href="${xmlEscape(link)}"/>
    <category term="${xmlEscape(i.region)}"/>
    <category term="${xmlEscape(i.status)}"/>
    <content type="text">${xmlEscape(entryText(i))}</content>
  </entry>`;
  });
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>${xmlEscape(id)}</id>
  <title>${xmlEscape(snapshot.title)}: incidents</title>
  <updated>${xmlEscape(feedUpdated)}</updated>
  <author><name>regionwatch</name></author>
  <generator>regionwatch</generator>
  <link rel="alternate" type="text/html" href="${xmlEscape(`${base}index.html`)}"/>
  <link rel="self" type="application/atom+xml" href="${xmlEscape(`${base}feed.atom`)}"/>
${entries.join('\n')}
</feed>
`;
}
