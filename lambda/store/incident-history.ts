// Incidents of a period read from the incident table without a scan: what the report, the retro and the status page's
// history read. A region has one incident at a time (seq 1, 2, 3 …), which makes the read exact with no lookback.
import type { IncidentRecord } from '../core/incident-record';
import type { IncidentStore } from './incident-store';

/**
 * Incidents of every platform region that overlap [fromMs, toMs], oldest first. Besides those opened inside the period
 * only two can reach into it: the last one opened before it (open, or resolved inside it, after any length) and the
 * next one after the last (its first failing slot can precede `toMs` by the detection delay).
 */
export async function incidentsOverlapping(
  store: Pick<IncidentStore, 'regionIncidentBefore' | 'regionIncidents' | 'getIncident'>,
  regions: readonly string[],
  fromMs: number,
  toMs: number,
): Promise<IncidentRecord[]> {
  const from = new Date(fromMs).toISOString();
  const to = new Date(toMs).toISOString();
  const lists = await Promise.all(
    regions.map(async (region) => {
      const [before, inside] = await Promise.all([store.regionIncidentBefore(region, from), store.regionIncidents(region, from, to)]);
      const last = inside[inside.length - 1] ?? before;
      const next = await store.getIncident(region, (last?.seq ?? 0) + 1);
      return [...(before ? [before] : []), ...inside, ...(next ? [next] : [])];
    }),
  );
  const byId = new Map(lists.flat().map((r) => [r.incidentId, r]));
  return [...byId.values()].filter((r) => overlaps(r, fromMs, toMs)).sort((a, b) => a.openedAt.localeCompare(b.openedAt));
}

/**
 * Whether an incident's time overlaps [fromMs, toMs]: from its first failing slot (or its opening, if earlier) to its
 * resolution (or the end of its timeline, if later), or on without end while it is open.
 */
function overlaps(incident: IncidentRecord, fromMs: number, toMs: number): boolean {
  const startMs = Math.min(incident.startedAt * 1000, Date.parse(incident.openedAt));
  if (startMs > toMs) return false;
  if (incident.status === 'open') return true;
  const endMs = Math.max(incident.endedAt === null ? 0 : incident.endedAt * 1000, incident.resolvedAt === null ? 0 : Date.parse(incident.resolvedAt));
  return endMs >= fromMs;
}
