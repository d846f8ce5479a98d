// The post-incident update, drafted from the incident table (pure): per UTC day what happened, written from each
// incident's timeline segments and evidence; the totals per platform region in the words platform teams publish
// ("Total downtime on the US server: 20 minutes"); the regions not affected; detection and notification times.
// The facts come first (`--json`), the Markdown is written from them, so both say the same.
import type { CheckerRecord } from './checker';
import type { MaintenanceSpan } from './evaluate';
import type { IncidentRecord, RegionStatusRecord, SegmentTarget, TimelineSegment } from './incident-record';
import { splitDetail } from './incident-text';
import type { Verdict } from './notification';
import { buildReport, type IncidentReport, type RegionReport } from './report';

const DAY_MS = 24 * 3600_000;
/** A flap this long or shorter between two bad stretches counts as fluctuating, not a recovery. */
const FLUCTUATION_GAP_SECONDS = 15 * 60;

export interface RegionMinutes {
  downMinutes: number;
  /** Includes readOnlyMinutes. */
  degradedMinutes: number;
  readOnlyMinutes: number;
}

export type RetroEventKind = 'started' | 'changed' | 'fluctuated' | 'recovered-briefly' | 'recovered' | 'resolved' | 'still-open' | 'continued' | 'folded' | 'maintenance' | 'no-verdict' | 'detected';

export interface RetroEvent {
  /** ISO time it happened. */
  at: string;
  /** ISO end, for a stretch (fluctuations, folded segments, maintenance, no verdict). */
  until?: string;
  kind: RetroEventKind;
  verdict?: Verdict;
  /** One sentence, as it goes into the draft. */
  text: string;
}

export interface RetroIncident extends RegionMinutes {
  incidentId: string;
  region: string;
  status: 'open' | 'resolved';
  /** Worst severity. */
  severity: string;
  /** First failing slot, and the first up slot of the recovery (null while open). */
  startedAt: string;
  endedAt: string | null;
  openedAt: string;
  resolvedAt: string | null;
  /** First failing slot → opened, and → the opened notification published. */
  detectSeconds: number;
  notifySeconds: number | null;
  /** What happened that day, in order. */
  events: RetroEvent[];
}

export interface RetroDay {
  /** `2026-04-14` (UTC). */
  date: string;
  /** Minutes that day per platform region (every region, in config order). */
  regions: Record<string, RegionMinutes>;
  incidents: RetroIncident[];
  /** Platform regions with no incident time that day. */
  unaffected: string[];
}

/**
 * A target regionwatch's own guard refuses to probe (core/refusals.ts): it has no verdict, so the figures say nothing
 * of it, and its region is "not probed", never down and never "not affected". Only refusals still in force are known
 * (the checker forgets one once the target is probed again), with the time they began.
 */
export interface RetroRefusal {
  region: string;
  target: string;
  /** ISO time the refusal began. */
  since: string;
  /** The guard's words: the address kind and the fix. */
  detail: string;
}

export interface RetroFacts {
  platform: string;
  from: string;
  to: string;
  generatedAt: string;
  /** Only these incidents were asked for (`--incident`); null for every incident of the period. */
  incidentIds: string[] | null;
  days: RetroDay[];
  totals: Record<string, RegionMinutes & { incidents: string[] }>;
  /** Platform regions with no incident time in the whole period, and no target regionwatch refused to probe in it. */
  unaffected: string[];
  /** Targets regionwatch refused to probe during the period (since before its end): not probed, not down. */
  notProbed: RetroRefusal[];
}

export interface RetroInput {
  platform: string;
  /** ISO, [from, to). */
  from: string;
  to: string;
  /** Platform regions in config order. */
  regions: readonly string[];
  /** Incidents overlapping the period (any status). */
  incidents: readonly IncidentRecord[];
  maintenance: readonly MaintenanceSpan[];
  nowMs: number;
  /** Only these incidents (`retro --incident ID`); every one when absent. */
  only?: readonly string[];
  /** Targets regionwatch refuses to probe now, with since when (`refusalsOf`). */
  refused?: readonly RetroRefusal[];
}

/**
 * The refusals in force, from the checker item (which target of which region, since when) and the status items (the
 * guard's words): what `retro` says is not probed.
 */
export function refusalsOf(checker: Pick<CheckerRecord, 'refusedTargets'> | null, statuses: readonly Pick<RegionStatusRecord, 'region' | 'refusedTargets'>[]): RetroRefusal[] {
  const out: RetroRefusal[] = [];
  for (const [key, { since }] of Object.entries(checker?.refusedTargets ?? {})) {
    const slash = key.indexOf('/');
    const region = key.slice(0, slash);
    const target = key.slice(slash + 1);
    const detail = statuses.find((s) => s.region === region)?.refusedTargets?.find((r) => r.target === target)?.detail ?? '';
    out.push({ region, target, since: new Date(since * 1000).toISOString(), detail });
  }
  return out.sort((a, b) => a.region.localeCompare(b.region) || a.target.localeCompare(b.target));
}

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();
const hm = (isoTime: string) => isoTime.slice(11, 16);
const hms = (isoTime: string) => isoTime.slice(11, 19);
const whole = (minutes: number) => Math.round(minutes);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const REGION = (region: string) => region.toUpperCase();

function minutesOf(r: RegionReport | IncidentReport | undefined): RegionMinutes {
  return { downMinutes: r?.downMinutes ?? 0, degradedMinutes: r?.degradedMinutes ?? 0, readOnlyMinutes: r?.readOnlyMinutes ?? 0 };
}

function list(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1] ?? ''}`;
}

/** `api and write-path` … `from 3 of 3 probe regions (timeout, status)`: what a segment's evidence says. */
function failingText(targets: readonly SegmentTarget[], more: number | undefined, fresh: number | undefined): string {
  if (targets.length === 0) return 'its targets were failing';
  const names = targets.map((t) => t.target);
  const extra = more ? [...names, `${more} more`] : names;
  const from = new Set(targets.flatMap((t) => t.failingFrom)).size;
  const classes = [...new Set(targets.flatMap((t) => t.errorClasses))];
  const of = fresh !== undefined && fresh >= from ? ` of ${fresh}` : '';
  const verb = targets.every((t) => t.verdict === 'read-only') ? 'refused' : 'failing';
  return `${list(extra)} ${extra.length === 1 ? 'was' : 'were'} ${verb} from ${from}${of} probe region${from === 1 && !of ? '' : 's'}${classes.length > 0 ? ` (${classes.join(', ')})` : ''}`;
}

function verdictWords(verdict: Verdict): string {
  switch (verdict) {
    case 'down':
      return 'down';
    case 'read-only':
      return 'read-only: writes were refused while reads worked';
    case 'degraded':
      return 'degraded';
    default:
      return verdict;
  }
}

/** The segments of an incident that fall inside [fromS, toS), cut at its edges. */
function segmentsWithin(timeline: readonly TimelineSegment[], fromS: number, toS: number): TimelineSegment[] {
  return timeline.filter((s) => s.to > fromS && s.from < toS).map((s) => (s.folded ? s : { ...s, from: Math.max(s.from, fromS), to: Math.min(s.to, toS) }));
}

const isBadVerdict = (v: Verdict) => v === 'down' || v === 'read-only' || v === 'degraded';

/** What happened in an incident during one day, from its segments. */
function dayEvents(incident: IncidentRecord, report: IncidentReport, dayFromS: number, dayToS: number, nowMs: number): RetroEvent[] {
  const events: RetroEvent[] = [];
  const region = REGION(incident.region);
  const segments = segmentsWithin(incident.timeline, dayFromS, dayToS);
  let previousBad: Verdict | undefined;
  for (let n = 0; n < segments.length; n++) {
    const s = segments[n];
    if (!s) continue;
    const at = iso(s.from);
    if (s.folded) {
      const down = whole((s.folded.seconds.down ?? 0) / 60);
      const up = whole((s.folded.seconds.up ?? 0) / 60);
      events.push({ at, until: iso(s.to), kind: 'folded', verdict: s.verdict, text: `${hm(at)}–${hm(iso(s.to))} UTC: the ${region} region fluctuated, going down ${plural(s.folded.flaps, 'time')} (${plural(down, 'minute')} down, ${plural(up, 'minute')} up in between).` });
      previousBad = s.folded.last === 'up' ? undefined : s.folded.last;
      continue;
    }
    if (s.verdict === 'maintenance') {
      events.push({ at, until: iso(s.to), kind: 'maintenance', text: `${hm(at)}–${hm(iso(s.to))} UTC: a maintenance window (not counted as downtime).` });
      continue;
    }
    if (s.verdict === 'unknown') {
      events.push({ at, until: iso(s.to), kind: 'no-verdict', text: `${hm(at)}–${hm(iso(s.to))} UTC: no verdict: too few probe regions had fresh results.` });
      continue;
    }
    if (s.verdict === 'up') {
      // Up, then bad again: a fluctuation. Gather every short up-and-down after it into one line.
      const next = segments[n + 1];
      if (!next || !isBadVerdict(next.verdict)) continue;
      if (s.to - s.from > FLUCTUATION_GAP_SECONDS) {
        events.push({ at, kind: 'recovered-briefly', text: `${hm(at)} UTC: the ${region} region recovered for ${plural(whole((s.to - s.from) / 60), 'minute')}.` });
        continue;
      }
      let drops = 0;
      let downSeconds = 0;
      let m = n + 1;
      let end = s.to;
      for (; m < segments.length; m++) {
        const seg = segments[m];
        if (!seg || seg.folded) break;
        if (seg.verdict === 'up') {
          if (seg.to - seg.from > FLUCTUATION_GAP_SECONDS || !segments[m + 1] || !isBadVerdict(segments[m + 1]?.verdict ?? 'up')) break;
          continue;
        }
        if (!isBadVerdict(seg.verdict)) break;
        if ((segments[m - 1]?.verdict ?? 'up') === 'up') drops++;
        if (seg.verdict === 'down') downSeconds += seg.to - seg.from;
        end = seg.to;
      }
      if (drops >= 2) {
        events.push({
          at,
          until: iso(end),
          kind: 'fluctuated',
          text: `${hm(at)}–${hm(iso(end))} UTC: the ${region} region fluctuated: it went down ${plural(drops, 'more time')} for ${plural(whole(downSeconds / 60), 'minute')} in all, up in between.`,
        });
        previousBad = segments[m - 1]?.verdict;
        n = m - 1;
      } else {
        events.push({ at, kind: 'recovered-briefly', text: `${hm(at)} UTC: the ${region} region recovered for ${plural(Math.max(1, whole((s.to - s.from) / 60)), 'minute')}, then failed again.` });
      }
      continue;
    }
    // A bad verdict.
    if (previousBad === undefined) {
      const started = s.from === incident.startedAt;
      const failing = failingText(s.targets, s.moreTargets, s.probeRegions ? s.probeRegions.fresh.length + s.probeRegions.impaired.length : undefined);
      events.push({
        at,
        kind: started ? 'started' : 'continued',
        verdict: s.verdict,
        text: started
          ? `${hm(at)} UTC: ${failing}: the ${region} region was ${verdictWords(s.verdict)}.`
          : `${hm(at)} UTC: still ${verdictWords(s.verdict)} (incident ${incident.incidentId}, since ${hm(iso(incident.startedAt))} the day before): ${failing}.`,
      });
      if (started) {
        const detected = iso(incident.startedAt + report.detectSeconds);
        const notified = report.notifySeconds === null ? 'on-call has not been notified yet' : `on-call was notified ${report.notifySeconds} s after it`;
        events.push({ at: detected, kind: 'detected', text: `${hm(detected)} UTC: regionwatch detected it ${report.detectSeconds} s after the first failing check (incident ${incident.incidentId}); ${notified}.` });
      }
    } else if (s.verdict !== previousBad) {
      const what = s.verdict === 'read-only' ? `the ${region} region became read-only: ${failingText(s.targets, s.moreTargets, undefined)} while reads worked` : `the ${region} region became ${verdictWords(s.verdict)}: ${failingText(s.targets, s.moreTargets, undefined)}`;
      events.push({ at, kind: 'changed', verdict: s.verdict, text: `${hm(at)} UTC: ${what}.` });
    } else if (segments[n - 1]?.verdict === 'up') {
      events.push({ at, kind: 'changed', verdict: s.verdict, text: `${hm(at)} UTC: the ${region} region was ${verdictWords(s.verdict)} again.` });
    }
    previousBad = s.verdict;
  }
  if (incident.endedAt !== null && incident.endedAt >= dayFromS && incident.endedAt < dayToS) {
    const recovered = iso(incident.endedAt);
    events.push({ at: recovered, kind: 'recovered', verdict: 'up', text: `${hm(recovered)} UTC: the ${region} region recovered.` });
  }
  if (incident.resolvedAt !== null) {
    const resolvedS = Date.parse(incident.resolvedAt) / 1000;
    if (resolvedS >= dayFromS && resolvedS < dayToS) {
      const up = incident.endedAt !== null ? resolvedS - incident.endedAt : null;
      const held = up === null ? '' : up < 60 ? ` after ${plural(Math.round(up), 'second')} up` : ` after ${plural(whole(up / 60), 'minute')} up`;
      events.push({ at: incident.resolvedAt, kind: 'resolved', text: `${hms(incident.resolvedAt)} UTC: incident ${incident.incidentId} resolved${held}, and on-call was told.` });
    }
  } else if (nowMs / 1000 < dayToS) {
    events.push({ at: new Date(nowMs).toISOString(), kind: 'still-open', text: `${hm(new Date(nowMs).toISOString())} UTC: incident ${incident.incidentId} is still open.` });
  }
  return events.sort((a, b) => a.at.localeCompare(b.at));
}

export function buildRetro(input: RetroInput): RetroFacts {
  const fromMs = Date.parse(input.from);
  const toMs = Date.parse(input.to);
  const only = input.only ? new Set(input.only) : null;
  const chosen = input.incidents.filter((i) => only === null || only.has(i.incidentId));
  const period = buildReport({ from: input.from, to: input.to, regions: input.regions, incidents: chosen, maintenance: input.maintenance });
  // Unaffected means no incident at all in the period, whichever incidents the draft is about.
  const everything = only === null ? period : buildReport({ from: input.from, to: input.to, regions: input.regions, incidents: input.incidents, maintenance: input.maintenance });
  // A refusal that began before a span's end left its target unprobed in it (refusals are known while in force).
  const refusedBefore = (endMs: number) => (input.refused ?? []).filter((r) => Date.parse(r.since) < endMs && input.regions.includes(r.region));
  const notProbed = refusedBefore(toMs);
  const days: RetroDay[] = [];
  // Bounded: the period's days (a retro of years is a different document).
  for (let day = Math.floor(fromMs / DAY_MS) * DAY_MS; day < toMs && days.length < 400; day += DAY_MS) {
    const dayFrom = Math.max(day, fromMs);
    const dayTo = Math.min(day + DAY_MS, toMs);
    const report = buildReport({ from: new Date(dayFrom).toISOString(), to: new Date(dayTo).toISOString(), regions: input.regions, incidents: chosen, maintenance: input.maintenance });
    const incidents: RetroIncident[] = [];
    for (const region of input.regions) {
      for (const r of report.regions[region]?.incidents ?? []) {
        const record = chosen.find((i) => i.incidentId === r.incidentId);
        if (!record) continue;
        const events = dayEvents(record, r, dayFrom / 1000, dayTo / 1000, input.nowMs);
        if (events.length === 0) continue;
        incidents.push({
          incidentId: record.incidentId,
          region,
          status: record.status,
          severity: record.severity,
          startedAt: iso(record.startedAt),
          endedAt: record.endedAt === null ? null : iso(record.endedAt),
          openedAt: record.openedAt,
          resolvedAt: record.resolvedAt,
          detectSeconds: r.detectSeconds,
          notifySeconds: r.notifySeconds,
          ...minutesOf(r),
          events,
        });
      }
    }
    if (incidents.length === 0) continue;
    const regions = Object.fromEntries(input.regions.map((r) => [r, minutesOf(report.regions[r])]));
    const touched = new Set([...incidents.map((i) => i.region), ...refusedBefore(dayTo).map((r) => r.region)]);
    days.push({ date: new Date(day).toISOString().slice(0, 10), regions, incidents, unaffected: input.regions.filter((r) => !touched.has(r)) });
  }
  const totals = Object.fromEntries(
    input.regions.map((r) => [r, { ...minutesOf(period.regions[r]), incidents: (period.regions[r]?.incidents ?? []).map((i) => i.incidentId) }]),
  );
  return {
    platform: input.platform,
    from: input.from,
    to: input.to,
    generatedAt: new Date(input.nowMs).toISOString(),
    incidentIds: only ? [...only] : null,
    days,
    totals,
    unaffected: input.regions.filter((r) => (everything.regions[r]?.incidents.length ?? 0) === 0 && !notProbed.some((n) => n.region === r)),
    notProbed,
  };
}

const DATE = new Intl.DateTimeFormat('en-US', { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' });
const SHORT = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });

/** `Not probed on the US server since Apr 14 14:03 UTC: internal (regionwatch refused to connect to …); …`. */
function notProbedLines(refused: readonly RetroRefusal[], untilMs: number): string[] {
  const lines: string[] = [];
  for (const region of [...new Set(refused.map((r) => r.region))]) {
    const mine = refused.filter((r) => r.region === region && Date.parse(r.since) < untilMs);
    if (mine.length === 0) continue;
    const since = mine.map((r) => r.since).sort()[0] ?? '';
    const [reason] = splitDetail(mine[0]?.detail ?? '');
    const why = reason ? ` (regionwatch ${reason})` : '';
    lines.push(`Not probed on the ${REGION(region)} server since ${SHORT.format(new Date(since))} ${hm(since)} UTC: ${list(mine.map((r) => r.target))}${why}; regionwatch has no figures for ${mine.length === 1 ? 'it' : 'them'}`);
  }
  return lines;
}

/** The totals in the words the story's post used: one region affected reads like it, several name each. */
function totalLines(regions: Record<string, RegionMinutes>, affected: readonly string[], unaffected: readonly string[], notProbed: readonly string[] = []): string[] {
  const lines: string[] = [];
  for (const region of affected) {
    const m = regions[region];
    if (!m) continue;
    lines.push(`Total downtime on the ${REGION(region)} server: ${plural(whole(m.downMinutes), 'minute')}`);
    const on = affected.length > 1 ? ` on the ${REGION(region)} server` : '';
    const ro = whole(m.readOnlyMinutes) > 0 ? ` (${plural(whole(m.readOnlyMinutes), 'minute')} of it read-only)` : '';
    lines.push(`Total time of degraded performance${on}: ${plural(whole(m.degradedMinutes), 'minute')}${ro}`);
  }
  if (unaffected.length > 0) lines.push(`No service interruption to ${list(unaffected.map(REGION))}`);
  lines.push(...notProbed);
  // Two spaces end each line but the last: Markdown keeps them as separate lines of one paragraph.
  return lines.map((l, n) => (n < lines.length - 1 ? `${l}  ` : l));
}

export function renderRetroMarkdown(facts: RetroFacts): string {
  const span = facts.days.length > 0 ? `${SHORT.format(new Date(`${facts.days[0]?.date}T00:00:00Z`))}${facts.days.length > 1 ? ` – ${SHORT.format(new Date(`${facts.days[facts.days.length - 1]?.date}T00:00:00Z`))}` : ''}, ${facts.days[0]?.date.slice(0, 4)}` : `${facts.from.slice(0, 10)} – ${facts.to.slice(0, 10)}`;
  const out: string[] = [
    `# ${facts.platform}: post-incident update, ${span}`,
    '',
    `*A draft written by regionwatch from its incident table on ${facts.generatedAt.slice(0, 16).replace('T', ' ')} UTC; every time is UTC. Add what caused it and what you will change, then publish it.*`,
  ];
  if (facts.days.length === 0) {
    out.push('', `No incidents between ${facts.from} and ${facts.to}.`, '', ...totalLines(facts.totals, [], facts.unaffected, notProbedLines(facts.notProbed, Date.parse(facts.to))));
    return `${out.join('\n')}\n`;
  }
  for (const day of facts.days) {
    out.push('', `## ${DATE.format(new Date(`${day.date}T00:00:00Z`))}`);
    for (const incident of day.incidents) {
      const until = incident.endedAt ? hm(incident.endedAt) : 'ongoing';
      out.push('', `### ${REGION(incident.region)}: incident ${incident.incidentId} (${hm(incident.startedAt)} – ${until} UTC)`, '');
      for (const e of incident.events) out.push(`- ${e.text}`);
    }
    // A region only refused that day is named as not probed, not with zero minutes.
    const dayEnd = Date.parse(`${day.date}T00:00:00Z`) + DAY_MS;
    const affected = Object.keys(day.regions).filter((r) => day.incidents.some((i) => i.region === r));
    out.push('', ...totalLines(day.regions, affected, day.unaffected, notProbedLines(facts.notProbed, dayEnd)));
  }
  if (facts.days.length > 1) {
    const affected = Object.keys(facts.totals).filter((r) => (facts.totals[r]?.incidents.length ?? 0) > 0);
    out.push('', `## In all, ${span}`, '', ...totalLines(facts.totals, affected, facts.unaffected, notProbedLines(facts.notProbed, Date.parse(facts.to))));
    for (const region of affected) {
      const ids = facts.totals[region]?.incidents ?? [];
      out.push('', `${REGION(region)}: ${plural(ids.length, 'incident')} (${ids.join(', ')}).`);
    }
  }
  return `${out.join('\n')}\n`;
}
