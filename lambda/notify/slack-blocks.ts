// Turns a notification body into a Slack Block Kit message (pure): severity colour, region, failing targets and from where, durations, incident id.
import type { NotificationBody, ProbeRegionEvidence, TargetEvidence, Verdict } from '../core/notification';
import { fallbackSubject, incidentFigures } from '../core/incident-text';

/** Attachment bar colour per severity: red down, orange read-only, amber degraded, green up, blue maintenance, grey unknown. */
export const SEVERITY_COLOR: Record<Verdict, string> = {
  down: '#d93025',
  'read-only': '#e8710a',
  degraded: '#f9ab00',
  up: '#1e8e3e',
  maintenance: '#1a73e8',
  unknown: '#80868b',
};

const EVENT_WORD: Record<NotificationBody['event'], string> = {
  opened: 'opened',
  escalated: 'escalated',
  deescalated: 'de-escalated',
  resolved: 'resolved',
  reminder: 'still open',
  checker: 'checker',
  test: 'test (no action needed)',
};

/** Slack's limits, kept well inside: 50 blocks per message, 3000 characters per section text, 10 fields. */
const MAX_TARGET_SECTIONS = 10;
const SECTION_TEXT_MAX = 2_900;
const HEADER_MAX = 150;

export interface SlackText {
  type: 'mrkdwn' | 'plain_text';
  text: string;
}
export type SlackBlock =
  | { type: 'header'; text: SlackText }
  | { type: 'section'; text?: SlackText; fields?: SlackText[] }
  | { type: 'context'; elements: SlackText[] }
  | { type: 'divider' };

export interface SlackMessage {
  /** Fallback for notifications and clients without blocks. */
  text: string;
  attachments: Array<{ color: string; fallback: string; blocks: SlackBlock[] }>;
}

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function seenLine(e: ProbeRegionEvidence): string {
  const parts: string[] = [e.status];
  if (e.statusCode !== undefined) parts.push(`HTTP ${e.statusCode}`);
  if (e.errorClass !== undefined) parts.push(e.errorClass);
  if (e.latencyMs !== undefined) parts.push(`${Math.round(e.latencyMs)} ms`);
  const detail = e.detail !== undefined && e.detail !== '' ? ` — ${clip(e.detail, 200)}` : '';
  return `• ${escapeMrkdwn(e.probeRegion)}: ${escapeMrkdwn(parts.join(', '))}${escapeMrkdwn(detail)}`;
}

function targetSection(t: TargetEvidence, probeRegionCount: number): SlackBlock {
  const from = t.failingFrom.length > 0 ? `failing from ${t.failingFrom.map(escapeMrkdwn).join(', ')} (${t.failingFrom.length}/${probeRegionCount})` : 'not failing';
  const lines = [`*${escapeMrkdwn(t.target)}* — ${t.verdict}, ${from}`, ...t.seenBy.map(seenLine)];
  return { type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n'), SECTION_TEXT_MAX) } };
}

/** The Slack message for one notification; `subject` is the SNS subject when there is one. */
export function slackMessage(body: NotificationBody, subject?: string): SlackMessage {
  const title = subject !== undefined && subject.trim() !== '' ? subject.trim() : fallbackSubject(body);
  const ev = body.evidence;
  const probeRegionCount = ev.probeRegions.fresh.length + ev.probeRegions.stale.length + ev.probeRegions.impaired.length;

  const fields: SlackText[] = [
    { type: 'mrkdwn', text: `*Region*\n${escapeMrkdwn(body.region ?? 'checker')}` },
    { type: 'mrkdwn', text: `*Severity*\n${body.severity}` },
    { type: 'mrkdwn', text: `*Event*\n${EVENT_WORD[body.event]}` },
    { type: 'mrkdwn', text: `*At*\n${escapeMrkdwn(body.at)}` },
  ];
  if (body.incidentId !== null) fields.push({ type: 'mrkdwn', text: `*Incident*\n\`${escapeMrkdwn(body.incidentId)}\`` });
  if (ev.component !== undefined) fields.push({ type: 'mrkdwn', text: `*Component*\n${escapeMrkdwn(ev.component)}` });

  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(title, HEADER_MAX) } },
    { type: 'section', text: { type: 'mrkdwn', text: clip(escapeMrkdwn(body.summary), SECTION_TEXT_MAX) }, fields },
  ];

  if (ev.downSeconds !== undefined || ev.degradedSeconds !== undefined) {
    const figures = incidentFigures({ downSeconds: ev.downSeconds ?? 0, degradedSeconds: ev.degradedSeconds ?? 0, readOnlySeconds: ev.readOnlySeconds ?? 0 });
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*So far:* ${figures}` } });
  }

  const failing = ev.targets;
  if (failing.length > 0) {
    blocks.push({ type: 'divider' });
    for (const t of failing.slice(0, MAX_TARGET_SECTIONS)) blocks.push(targetSection(t, probeRegionCount));
    if (failing.length > MAX_TARGET_SECTIONS) {
      const rest = failing.slice(MAX_TARGET_SECTIONS).map((t) => escapeMrkdwn(t.target));
      blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`…and ${rest.length} more: ${rest.join(', ')}`, SECTION_TEXT_MAX) } });
    }
  }

  const probe = [`probe regions fresh: ${ev.probeRegions.fresh.join(', ') || 'none'}`];
  if (ev.probeRegions.stale.length > 0) probe.push(`stale: ${ev.probeRegions.stale.join(', ')}`);
  if (ev.probeRegions.impaired.length > 0) probe.push(`impaired: ${ev.probeRegions.impaired.join(', ')}`);
  blocks.push({
    type: 'context',
    elements: [
      { type: 'mrkdwn', text: escapeMrkdwn(probe.join(' · ')) },
      { type: 'mrkdwn', text: `dedupKey \`${escapeMrkdwn(body.dedupKey)}\`` },
    ],
  });

  return { text: title, attachments: [{ color: SEVERITY_COLOR[body.severity], fallback: title, blocks }] };
}
