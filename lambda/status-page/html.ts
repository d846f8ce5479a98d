// The status page's HTML (no framework): one StatusSnapshot in, the page out, for the hosted files and local mode alike.
// Everything that came from config, results or incidents goes through esc() before it reaches the page.
import { createHash } from 'node:crypto';
import type { FoldedSegments } from '../core/incident-record';
import { formatDuration } from '../core/incident-text';
import { spokenDuration } from '../core/words';
import type { Verdict } from '../core/notification';
import { notProbedOnly, type IncidentView, type MaintenanceView, type RegionStatus, type StatusSnapshot } from './model';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** A CSS class for a verdict; only known words reach the class attribute. */
function tone(verdict: string): string {
  switch (verdict) {
    case 'up':
    case 'degraded':
    case 'read-only':
    case 'down':
    case 'maintenance':
    case 'unknown':
    case 'stale':
    case 'none':
    case 'no-data':
    case 'impaired':
      return `v-${verdict}`;
    default:
      return 'v-unknown';
  }
}

const LABEL: Record<string, string> = {
  up: 'Operational',
  degraded: 'Degraded',
  'read-only': 'Read-only',
  down: 'Down',
  maintenance: 'Maintenance',
  unknown: 'Unknown',
  stale: 'No fresh data',
  none: 'No targets',
  'no-data': 'No data',
  impaired: 'Impaired',
};

function label(verdict: string): string {
  return LABEL[verdict] ?? verdict;
}

/** Worst first, as a summary segment's line lists its time per verdict. */
const FOLDED_ORDER: readonly Verdict[] = ['down', 'read-only', 'degraded', 'maintenance', 'unknown', 'up'];

/** `37 flaps folded: 1h 02m down, 2h 58m up`: what a summary segment knows (no times inside it). */
export function foldedSummary(folded: Pick<FoldedSegments, 'segments' | 'seconds' | 'flaps'>): string {
  const what = folded.flaps > 0 ? `${folded.flaps} flap${folded.flaps === 1 ? '' : 's'}` : `${folded.segments} segment${folded.segments === 1 ? '' : 's'}`;
  const times = FOLDED_ORDER.filter((v) => (folded.seconds[v] ?? 0) > 0).map((v) => `${formatDuration(folded.seconds[v] ?? 0)} ${v}`);
  return `${what} folded: ${times.join(', ')}`;
}

/** `14:03` or `Apr 14 14:03` (UTC) for an ISO time. */
export function shortTime(iso: string | null | undefined, withDate = false): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return String(iso);
  const d = new Date(t);
  const hm = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  if (!withDate) return hm;
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()] ?? '';
  return `${month} ${d.getUTCDate()} ${hm}`;
}

function minutes(value: number): string {
  const rounded = Math.round(value * 10) / 10;
  return `${rounded} min`;
}

function overall(snapshot: StatusSnapshot): { verdict: Verdict; text: string } {
  const order: Verdict[] = ['down', 'read-only', 'degraded', 'unknown', 'maintenance', 'up'];
  for (const verdict of order) {
    const hit = snapshot.regions.filter((r) => r.verdict === verdict);
    if (hit.length === 0) continue;
    if (verdict === 'up') return { verdict, text: 'All regions operational' };
    // Regions regionwatch refuses to probe are said so, apart from those it cannot judge for want of fresh results.
    const names = (rs: RegionStatus[]) => rs.map((r) => r.region.toUpperCase()).join(', ');
    const notProbed = verdict === 'unknown' ? hit.filter(notProbedOnly) : [];
    const rest = hit.filter((r) => !notProbed.includes(r));
    const parts = [...(rest.length > 0 ? [`${names(rest)} ${label(verdict).toLowerCase()}`] : []), ...(notProbed.length > 0 ? [`${names(notProbed)} not probed`] : [])];
    return { verdict, text: parts.join('; ') };
  }
  return { verdict: 'unknown', text: 'No platform regions configured' };
}

/** The card's second line: the open incident beside the verdict, and what resolves it while the region recovers. */
function incidentLine(r: RegionStatus): string {
  if (!r.openIncidentId) return '';
  const severity = r.incidentSeverity ? ` (${label(r.incidentSeverity).toLowerCase()})` : '';
  const recovering = r.recovering ? `; up again since ${shortTime(r.recovering.since)}, resolves after ${spokenDuration(r.recovering.resolvesAfterSeconds)} up${r.recovering.flapping ? ' (it flapped)' : ''}` : '';
  return `<div class="incident-line" data-incident-open="${esc(r.openIncidentId)}"><a href="#incident-${esc(r.openIncidentId)}">incident ${esc(r.openIncidentId)} open${esc(severity)}</a>${esc(recovering)}</div>`;
}

/** The targets regionwatch refuses to probe, named on the card: they count as neither down nor up (the summary says why). */
function notProbedLine(r: RegionStatus): string {
  const refused = r.refusedTargets ?? [];
  if (refused.length === 0) return '';
  const names = refused.map((t) => t.target);
  return `<div class="not-probed" data-not-probed="${esc(names.join(','))}">Not probed: ${esc(names.join(', '))}, refused by regionwatch itself, not down</div>`;
}

function renderRegions(snapshot: StatusSnapshot): string {
  const cards = snapshot.regions.map((r) => {
    const since = r.since && r.verdict !== 'up' ? `<div class="since">since ${esc(shortTime(r.since, true))}</div>` : '';
    const summary = r.summary ? `<div class="summary">${esc(r.summary)}</div>` : '';
    const pill = notProbedOnly(r) ? 'Not probed' : label(r.verdict);
    return `<div class="card region ${tone(r.verdict)}" data-region="${esc(r.region)}" data-verdict="${esc(r.verdict)}"${r.openIncidentId ? ` data-incident="${esc(r.openIncidentId)}"` : ''}>
  <div class="region-name">${esc(r.region.toUpperCase())}</div>
  <div class="pill ${tone(r.verdict)}">${esc(pill)}</div>${since}${incidentLine(r)}${notProbedLine(r)}${summary}
</div>`;
  });
  return `<section aria-labelledby="h-regions"><h2 id="h-regions">Platform regions</h2><div class="regions">${cards.join('')}</div></section>`;
}

const PROBE_STATE: Record<string, string> = { ok: 'counted', silent: 'silent: no results', impaired: 'impaired: left out of the quorum', unknown: 'not seen yet' };

function renderMatrix(snapshot: StatusSnapshot): string {
  const platformRegions = snapshot.regions.map((r) => r.region);
  const head = platformRegions.map((r) => `<th scope="col">${esc(r.toUpperCase())}</th>`).join('');
  const rows = snapshot.probeRegions.map((p) => {
    const cells = snapshot.regions.map((region) => {
      const view = region.probeViews?.[p.probeRegion] ?? { status: 'stale' as const, failing: [] };
      // A probe region's view is `unknown` only when regionwatch refused to probe every target (core/refusals.ts).
      const more = view.moreFailing ? ` +${view.moreFailing}` : '';
      const failing = view.failing.length > 0 ? `<span class="failing">${esc(view.failing.join(', '))}${esc(more)}</span>` : '';
      const title = view.detail ? ` title="${esc(view.detail)}"` : '';
      return `<td class="cell ${tone(view.status)}" data-probe-region="${esc(p.probeRegion)}" data-region="${esc(region.region)}" data-status="${esc(view.status)}"${view.impaired ? ' data-impaired="true"' : ''}${title}><span class="dot"></span>${esc(view.status === 'unknown' ? 'Not probed' : label(view.status))}${failing}</td>`;
    });
    // The aggregator leaves a probe region out as soon as it is impaired; the checker's state follows after its threshold.
    const impaired = p.state === 'impaired' || snapshot.regions.some((r) => r.probeViews?.[p.probeRegion]?.impaired === true);
    const state = impaired && p.state !== 'impaired' ? 'impaired' : p.state;
    const since = p.since && state === p.state && p.state !== 'ok' ? ` since ${esc(shortTime(p.since, true))}` : '';
    const line = `<b class="${state === 'ok' ? '' : 'impaired'}">${esc(PROBE_STATE[state] ?? state)}</b>${since}`;
    return `<tr data-probe-region="${esc(p.probeRegion)}" data-state="${esc(state)}"${impaired ? ' data-impaired="true"' : ''}><th scope="row">${esc(p.probeRegion)}<div class="muted">${line}</div></th>${cells.join('')}</tr>`;
  });
  return `<section aria-labelledby="h-matrix"><h2 id="h-matrix">Who sees what</h2>
<p class="muted">What each probe region's latest results say of each platform region${platformRegions.length === 0 ? '' : ', before the quorum'}. One row red while the others are green is that prober's own network, not the platform.</p>
<table class="matrix" id="matrix"><thead><tr><th scope="col">probe region ↓ / platform region →</th>${head}</tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function maintenanceItem(m: MaintenanceView, now: boolean): string {
  const span = `${shortTime(m.start, true)} – ${shortTime(m.end, true)} UTC`;
  return `<li data-region="${esc(m.region)}" data-maintenance="${now ? 'current' : 'upcoming'}"><span class="pill small v-maintenance">${now ? 'Now' : 'Planned'}</span> <b>${esc(m.region.toUpperCase())}</b> ${esc(span)}${m.reason ? ` <span class="muted">${esc(m.reason)}</span>` : ''}</li>`;
}

function renderMaintenance(snapshot: StatusSnapshot): string {
  const { current, upcoming } = snapshot.maintenance;
  const items = [...current.map((m) => maintenanceItem(m, true)), ...upcoming.map((m) => maintenanceItem(m, false))];
  const body = items.length > 0 ? `<ul class="maintenance">${items.join('')}</ul>` : '<p class="muted empty">No maintenance planned.</p>';
  return `<section aria-labelledby="h-maintenance" id="maintenance"><h2 id="h-maintenance">Maintenance</h2>${body}</section>`;
}

/** A timeline bar draws its segments one by one up to this many; a longer one, as this many stretches of time. */
const MAX_BAR_PARTS = 60;

const BAR_RANK: Record<string, number> = { 'no-data': -1, up: 0, unknown: 1, maintenance: 2, degraded: 3, 'read-only': 4, down: 5 };

/** A long (flapping) incident's bar: equal stretches of its span, each coloured by the worst verdict in it. */
function bucketedBar(incident: IncidentView, start: number, end: number, nowIso: string): string {
  const size = (end - start) / MAX_BAR_PARTS;
  const worst: string[] = Array.from({ length: MAX_BAR_PARTS }, () => 'no-data');
  for (const s of incident.timeline) {
    const from = Date.parse(s.from);
    const to = Date.parse(s.to ?? nowIso);
    const verdicts = s.folded ? FOLDED_ORDER.filter((v) => (s.folded?.seconds[v] ?? 0) > 0) : [s.verdict];
    const first = Math.max(0, Math.floor((from - start) / size));
    const last = Math.min(MAX_BAR_PARTS - 1, Math.floor((Math.max(from, to - 1) - start) / size));
    for (let b = first; b <= last; b++) for (const v of verdicts) if ((BAR_RANK[v] ?? -1) > (BAR_RANK[worst[b] ?? 'no-data'] ?? -1)) worst[b] = v;
  }
  // Neighbouring stretches of the same verdict are drawn as one.
  const parts: string[] = [];
  for (let b = 0; b < MAX_BAR_PARTS; ) {
    const v = worst[b] ?? 'no-data';
    let e = b;
    while (e + 1 < MAX_BAR_PARTS && worst[e + 1] === v) e++;
    const title = `${shortTime(new Date(start + b * size).toISOString())}–${shortTime(new Date(start + (e + 1) * size).toISOString())}: worst ${label(v).toLowerCase()}`;
    parts.push(`<span class="seg ${tone(v)}" style="width:${(((e - b + 1) * 100) / MAX_BAR_PARTS).toFixed(3)}%" title="${esc(title)}"></span>`);
    b = e + 1;
  }
  return `<div class="timeline-bar" data-bucketed="true">${parts.join('')}</div>`;
}

function renderTimelineBar(incident: IncidentView, nowIso: string): string {
  const start = Date.parse(incident.openedAt);
  const end = Date.parse(incident.resolvedAt ?? nowIso);
  const span = Math.max(1, end - start);
  if (incident.timeline.length > MAX_BAR_PARTS) return bucketedBar(incident, Math.min(start, Date.parse(incident.timeline[0]?.from ?? incident.openedAt)), end, nowIso);
  const parts = incident.timeline.map((s) => {
    const from = Date.parse(s.from);
    const to = Date.parse(s.to ?? nowIso);
    const folded = s.folded;
    if (folded) {
      // A summary segment: its verdicts' shares of its span, worst first (their times inside it are not kept).
      const title = esc(`${shortTime(s.from)}–${s.to ? shortTime(s.to) : 'now'}: ${foldedSummary(folded)}`);
      const total = FOLDED_ORDER.reduce((sum, v) => sum + (folded.seconds[v] ?? 0), 0);
      return FOLDED_ORDER.filter((v) => (folded.seconds[v] ?? 0) > 0)
        .map((v) => {
          const width = Math.max(0.4, (((to - from) * ((folded.seconds[v] ?? 0) / total)) / span) * 100);
          return `<span class="seg ${tone(v)} folded" style="width:${width.toFixed(2)}%" title="${title}"></span>`;
        })
        .join('');
    }
    const width = Math.max(0.4, ((to - from) / span) * 100);
    const title = `${label(s.verdict)} ${shortTime(s.from)}–${s.to ? shortTime(s.to) : 'now'}${s.summary ? `: ${s.summary}` : ''}`;
    return `<span class="seg ${tone(s.verdict)}" style="width:${width.toFixed(2)}%" title="${esc(title)}"></span>`;
  });
  return `<div class="timeline-bar">${parts.join('')}</div>`;
}

function renderIncident(incident: IncidentView, nowIso: string): string {
  const rows = incident.timeline
    .slice(-12)
    .map((s) =>
      s.folded
        ? `<li class="folded"><span class="pill small folded">Folded</span> ${esc(shortTime(s.from, true))} → ${s.to ? esc(shortTime(s.to)) : 'now'} · ${esc(foldedSummary(s.folded))}</li>`
        : `<li><span class="pill small ${tone(s.verdict)}">${esc(label(s.verdict))}</span> ${esc(shortTime(s.from, true))} → ${s.to ? esc(shortTime(s.to)) : 'now'}${s.summary ? ` <span class="muted">${esc(s.summary)}</span>` : ''}</li>`,
    );
  const hidden = incident.timeline.length > 12 ? `<li class="muted">… ${incident.timeline.length - 12} earlier segments</li>` : '';
  const sent = incident.notifications.map((n) => `${esc(n.event)} ${esc(shortTime(n.at))}`).join(' · ');
  const when = incident.resolvedAt
    ? `${esc(shortTime(incident.openedAt, true))} – ${esc(shortTime(incident.resolvedAt, true))}`
    : `open since ${esc(shortTime(incident.openedAt, true))}`;
  return `<article class="card incident ${tone(incident.severity)}" id="incident-${esc(incident.incidentId)}" data-incident-id="${esc(incident.incidentId)}" data-status="${esc(incident.status)}">
  <header><span class="region-name">${esc(incident.region.toUpperCase())}</span> <span class="muted">worst</span> <span class="pill small ${tone(incident.severity)}">${esc(label(incident.severity))}</span> <span class="muted">${when}</span></header>
  <div class="figures"><b>${esc(minutes(incident.downMinutes))}</b> down · <b>${esc(minutes(incident.degradedMinutes))}</b> degraded (${esc(minutes(incident.readOnlyMinutes))} read-only)</div>
  ${renderTimelineBar(incident, nowIso)}
  <ul class="segments">${hidden}${rows.join('')}</ul>
  ${sent ? `<div class="muted sent">notified: ${sent}</div>` : ''}
  <div class="muted id">${esc(incident.incidentId)}</div>
</article>`;
}

function renderIncidents(snapshot: StatusSnapshot): string {
  const open =
    snapshot.openIncidents.length > 0
      ? snapshot.openIncidents.map((i) => renderIncident(i, snapshot.now)).join('')
      : '<p class="muted empty">No open incidents.</p>';
  const recent =
    snapshot.recentIncidents.length > 0
      ? `<h3>Recently resolved</h3>${snapshot.recentIncidents.map((i) => renderIncident(i, snapshot.now)).join('')}`
      : '';
  return `<section aria-labelledby="h-incidents" id="incidents"><h2 id="h-incidents">Open incidents</h2>${open}${recent}</section>`;
}

function renderHistory(snapshot: StatusSnapshot): string {
  const { history } = snapshot;
  const rows = history.regions.map((r) => {
    const bars = r.bars.map((b) => {
      const what = b.worst === 'no-data' ? 'no data' : b.worst === 'up' ? 'no incidents' : `${minutes(b.downMinutes)} down, ${minutes(b.degradedMinutes)} degraded`;
      return `<span class="bar ${tone(b.worst)}" title="${esc(`${shortTime(b.from, true)}–${shortTime(b.to)}: ${what}`)}"></span>`;
    });
    const uptime = r.uptime === null ? '–' : `${(Math.floor(r.uptime * 10000) / 100).toFixed(2)}% uptime`;
    return `<div class="history-row" data-region="${esc(r.region)}"><div class="history-head"><b>${esc(r.region.toUpperCase())}</b><span class="muted">${esc(uptime)}</span></div><div class="bars">${bars.join('')}</div></div>`;
  });
  return `<section aria-labelledby="h-history"><h2 id="h-history">History</h2>
<p class="muted">${esc(shortTime(history.from, true))} – ${esc(shortTime(history.to, true))} UTC, one bar per ${history.bucketMinutes === 1 ? 'minute' : `${esc(history.bucketMinutes)} minutes`}.</p>
${rows.join('')}
<div class="legend">${(['up', 'degraded', 'read-only', 'down', 'maintenance', 'no-data'] as const).map((v) => `<span><span class="dot ${tone(v)}"></span>${esc(label(v))}</span>`).join('')}</div></section>`;
}

/** The part of the page the refresh script swaps in (everything inside `#status`). */
export function renderStatusFragment(snapshot: StatusSnapshot): string {
  const head = overall(snapshot);
  const clock = `${shortTime(snapshot.now, true)} UTC${snapshot.speed && snapshot.speed !== 1 ? ` · clock ×${snapshot.speed}` : ''}`;
  const banner = snapshot.banner ? `<div class="banner">${esc(snapshot.banner)}</div>` : '';
  const stale = snapshot.stale
    ? `<div class="banner stale" id="stale">${esc(snapshot.checkedAt ? `regionwatch last reported at ${shortTime(snapshot.checkedAt, true)} UTC: what follows may be out of date.` : 'regionwatch has not reported yet: what follows may be out of date.')}</div>`
    : '';
  return `<div class="overall ${tone(head.verdict)}" id="overall" data-verdict="${esc(head.verdict)}"><span class="dot"></span>${esc(head.text)}<span class="clock">${esc(clock)}</span></div>
${stale}${banner}
${renderRegions(snapshot)}
${renderIncidents(snapshot)}
${renderMaintenance(snapshot)}
${renderHistory(snapshot)}
${renderMatrix(snapshot)}`;
}

const STYLE = `
:root{--up:#1f9d55;--degraded:#d99a00;--ro:#e8590c;--down:#d64545;--maint:#3b82f6;--unknown:#8a94a3;--bg:#f5f7fa;--card:#fff;--ink:#1d2430;--muted:#6b7585;--line:#e3e7ee}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--ink)}
header.top{background:#111827;color:#fff;padding:18px 0}header.top .wrap{display:flex;align-items:baseline;gap:12px}
header.top h1{font-size:20px;margin:0}header.top .muted{color:#9ca3af}
.wrap{max-width:1040px;margin:0 auto;padding:0 20px}main.wrap{padding-bottom:40px}
h2{font-size:17px;margin:28px 0 10px}h3{font-size:15px;margin:18px 0 8px;color:var(--muted)}
.muted{color:var(--muted);font-size:13px}.empty{padding:8px 0}
.overall{margin-top:20px;padding:16px 18px;border-radius:10px;color:#fff;font-weight:600;font-size:17px;display:flex;align-items:center;gap:10px}
.overall .clock{margin-left:auto;font-weight:400;font-size:13px;opacity:.9}.overall .dot{background:#fff}
.overall.v-up{background:var(--up)}.overall.v-degraded{background:var(--degraded)}.overall.v-read-only{background:var(--ro)}.overall.v-down{background:var(--down)}.overall.v-maintenance{background:var(--maint)}.overall.v-unknown{background:var(--unknown)}
.banner{margin-top:10px;padding:10px 14px;border-radius:8px;background:#eef2ff;color:#3730a3;font-size:14px}.banner.stale{background:#fff4e5;color:#8a4b00}
.incident-line,.not-probed{font-size:13px;margin-top:6px}.incident-line a{color:inherit}.maintenance{list-style:none;margin:0;padding:0}.maintenance li{padding:4px 0}
.regions{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:12px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px;box-shadow:0 1px 2px rgba(16,24,40,.04)}
.card.region{border-top:4px solid var(--unknown)}.card.region.v-up{border-top-color:var(--up)}.card.region.v-degraded{border-top-color:var(--degraded)}.card.region.v-read-only{border-top-color:var(--ro)}.card.region.v-down{border-top-color:var(--down)}.card.region.v-maintenance{border-top-color:var(--maint)}
.region-name{font-weight:700;letter-spacing:.04em}.since,.summary{font-size:13px;color:var(--muted);margin-top:6px}
.pill{display:inline-block;margin-top:6px;padding:2px 10px;border-radius:999px;color:#fff;font-size:13px;font-weight:600;background:var(--unknown)}.pill.small{margin:0;font-size:12px;padding:1px 8px}
.v-up.pill,.v-up .dot,.dot.v-up,.seg.v-up,.bar.v-up{background:var(--up)}.v-degraded.pill,.dot.v-degraded,.seg.v-degraded,.bar.v-degraded{background:var(--degraded)}
.v-read-only.pill,.dot.v-read-only,.seg.v-read-only,.bar.v-read-only{background:var(--ro)}.v-down.pill,.dot.v-down,.seg.v-down,.bar.v-down{background:var(--down)}
.v-maintenance.pill,.dot.v-maintenance,.seg.v-maintenance,.bar.v-maintenance{background:var(--maint)}.bar.v-no-data,.dot.v-no-data{background:#d7dce4}
.seg.folded{opacity:.65}.pill.folded{background:#7a8596}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;background:var(--unknown);flex:none}
.incident{margin-bottom:12px;border-left:4px solid var(--unknown)}.incident.v-down{border-left-color:var(--down)}.incident.v-read-only{border-left-color:var(--ro)}.incident.v-degraded{border-left-color:var(--degraded)}
.incident header{display:flex;align-items:center;gap:8px;flex-wrap:wrap}.figures{margin:8px 0}
.timeline-bar{display:flex;height:12px;border-radius:6px;overflow:hidden;background:#eef1f5;margin:6px 0 8px}.seg{display:block;height:100%;background:var(--unknown)}
.segments{list-style:none;margin:0;padding:0;font-size:13px}.segments li{padding:2px 0}.sent,.id{margin-top:6px}
table.matrix{border-collapse:separate;border-spacing:0;width:100%;background:var(--card);border:1px solid var(--line);border-radius:10px;overflow:hidden}
.matrix th,.matrix td{padding:10px 12px;text-align:left;border-bottom:1px solid var(--line);font-size:14px}.matrix thead th{background:#f0f3f7;font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.matrix tr:last-child th,.matrix tr:last-child td{border-bottom:none}.matrix th[scope=row]{font-weight:600;width:30%}
.cell .dot{margin-right:8px;vertical-align:-1px}.cell.v-up .dot{background:var(--up)}.cell.v-degraded .dot{background:var(--degraded)}.cell.v-read-only .dot{background:var(--ro)}.cell.v-down .dot{background:var(--down)}
.cell.v-down{background:#fdecec}.cell.v-read-only{background:#fff1e6}.cell.v-degraded{background:#fff8e1}.cell.v-stale{background:#f3f4f6;color:var(--muted)}
.impaired{color:var(--down)}.failing{display:block;font-size:12px;color:var(--muted);margin-left:18px}
.history-row{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 14px;margin-bottom:8px}
.history-head{display:flex;justify-content:space-between;margin-bottom:6px}.bars{display:flex;gap:2px;height:30px}.bar{flex:1;border-radius:2px;background:var(--up);min-width:2px}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:12px;color:var(--muted);margin-top:6px}.legend .dot{margin-right:5px;vertical-align:-1px}
footer{margin-top:30px;font-size:12px;color:var(--muted)}footer a{color:inherit}
`;

/**
 * Refreshes the page in place: fetches this same page again and swaps in its `#status`. The same script works on the
 * hosted files and in local mode (no endpoint of its own), and its hash goes into the Content-Security-Policy.
 */
export const REFRESH_SCRIPT = `
(function(){
  var main=document.getElementById('status');var every=Number(main.getAttribute('data-refresh-ms'))||30000;var busy=false;
  var conn=document.getElementById('conn');
  function tick(){
    if(busy||document.hidden)return;busy=true;
    fetch(location.pathname,{cache:'no-store'}).then(function(r){if(!r.ok)throw new Error(String(r.status));return r.text();})
      .then(function(html){var next=new DOMParser().parseFromString(html,'text/html').getElementById('status');if(!next)throw new Error('no status');main.innerHTML=next.innerHTML;main.setAttribute('data-refreshed',String(Date.now()));conn.textContent='live';})
      .catch(function(){conn.textContent='not reachable; retrying';})
      .then(function(){busy=false;});
  }
  setInterval(tick,every);
})();
`;

/** The CSP source for REFRESH_SCRIPT: `'sha256-…'`. */
export const REFRESH_SCRIPT_HASH = `'sha256-${createHash('sha256').update(REFRESH_SCRIPT).digest('base64')}'`;

/**
 * The page's Content-Security-Policy, served as a header (local mode, CloudFront) and repeated in a meta tag for the
 * private variant, which S3 serves without one. Inline styles only (the bars' widths); the one script by its hash.
 */
export const STATUS_PAGE_CSP = `default-src 'none'; style-src 'unsafe-inline'; script-src ${REFRESH_SCRIPT_HASH}; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

export interface PageOptions {
  /** Real milliseconds between refreshes. Default 30000. */
  refreshMs?: number;
  /** `local`: local mode's page (says so); `hosted`: the deployed page. */
  variant?: 'local' | 'hosted';
}

/** The whole page: the fragment inside a shell with its style and refresh script. */
export function renderStatusPage(snapshot: StatusSnapshot, options: PageOptions = {}): string {
  const refreshMs = Math.max(500, Math.round(options.refreshMs ?? 30_000));
  const where = options.variant === 'local' ? 'regionwatch · local mode' : 'regionwatch';
  const badges = snapshot.regions.map((r) => `<a href="badge/${esc(r.region)}.svg">${esc(r.region)}</a>`).join(' ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${esc(STATUS_PAGE_CSP.replace(/; frame-ancestors 'none'$/, ''))}">
<title>${esc(snapshot.title)} · regionwatch</title><link rel="icon" href="data:,"><link rel="alternate" type="application/atom+xml" title="${esc(snapshot.title)}: incidents" href="feed.atom"><style>${STYLE}</style></head>
<body><header class="top"><div class="wrap"><h1>${esc(snapshot.title)}</h1><span class="muted">${esc(where)}</span></div></header>
<main class="wrap" id="status" data-refresh-ms="${refreshMs}">${renderStatusFragment(snapshot)}</main>
<footer class="wrap">Refreshes itself (<span id="conn">live</span>). Data: <a href="status.json">status.json</a> · <a href="incidents.json">incidents.json</a> · <a href="feed.atom">Atom feed</a> · badges: ${badges}</footer>
<script>${REFRESH_SCRIPT}</script></body></html>`;
}
