// The status page as files (DESIGN: index.html, status.json, incidents.json, feed.atom, badge/<region>.svg): the one
// renderer behind both the hosted page (written to S3) and local mode's page (served from memory).
import { renderBadge } from './badge';
import { renderAtomFeed } from './feed';
import { renderStatusPage, type PageOptions } from './html';
import type { StatusSnapshot } from './model';
import type { RegionwatchConfig } from '../config/schema';

export interface StatusFile {
  /** Path relative to the page's root, such as `index.html` or `badge/us.svg`. */
  path: string;
  body: string;
  contentType: string;
  cacheControl: string;
}

export interface RenderOptions extends PageOptions {
  /** The page's public address ending in `/`, for absolute links in the feed; relative links without it. */
  baseUrl?: string;
}

/**
 * Whether the files are encrypted with the region's key (CT.S3.PR.10). Not for a private page read through VPC
 * endpoints: those readers are anonymous (the endpoint policy and the bucket policy let them in), and S3 refuses every
 * unsigned request for an SSE-KMS object, so their files keep SSE-S3 and the control is acknowledged.
 */
export function filesEncryptedWithKey(page: Pick<RegionwatchConfig['statusPage'], 'mode' | 'vpcEndpointIds'>): boolean {
  return !(page.mode === 'private' && page.vpcEndpointIds.length > 0);
}

/** Version of the JSON documents' shape; a change that removes or renames a key bumps it. */
export const STATUS_JSON_VERSION = 1;

/**
 * `status.json`: the current verdict per platform region, with the open incident beside it rather than instead of it,
 * which probe regions see what, maintenance, and the uptime bars.
 */
export function statusDocument(snapshot: StatusSnapshot) {
  return {
    version: STATUS_JSON_VERSION,
    platform: snapshot.platform,
    title: snapshot.title,
    generatedAt: snapshot.now,
    checkedAt: snapshot.checkedAt,
    stale: snapshot.stale,
    watchedSince: snapshot.watchedSince,
    regions: snapshot.regions.map((r) => ({
      region: r.region,
      verdict: r.verdict,
      since: r.since ?? null,
      summary: r.summary ?? null,
      incident: r.openIncidentId
        ? { incidentId: r.openIncidentId, status: 'open' as const, severity: r.incidentSeverity ?? null, recovering: r.recovering ?? null }
        : null,
      probeViews: r.probeViews ?? {},
      // Targets regionwatch refuses to probe (its own guard): not probed, so neither down nor up.
      refusedTargets: r.refusedTargets ?? [],
    })),
    probeRegions: snapshot.probeRegions,
    maintenance: snapshot.maintenance,
    history: snapshot.history,
  };
}

/** `incidents.json`: open incidents and the newest resolved ones, with their timelines and the updates sent. */
export function incidentsDocument(snapshot: StatusSnapshot) {
  return { version: STATUS_JSON_VERSION, platform: snapshot.platform, generatedAt: snapshot.now, open: snapshot.openIncidents, recent: snapshot.recentIncidents };
}

/**
 * Short client caching: a reader sees a change within about a refresh, and a CDN that cannot reach its origin keeps
 * serving the last copy for a day (`stale-if-error`) instead of an error.
 */
const CACHE = 'public, max-age=15, stale-while-revalidate=15, stale-if-error=86400';

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** The paths of the page's files for these platform regions: what the renderer may write, and nothing else. */
export function statusFilePaths(platformRegions: readonly string[]): string[] {
  return ['index.html', 'status.json', 'incidents.json', 'feed.atom', ...platformRegions.map((r) => `badge/${r}.svg`)];
}

/** Every file of the status page, rendered from one snapshot. */
export function renderStatusFiles(snapshot: StatusSnapshot, options: RenderOptions = {}): StatusFile[] {
  const files: StatusFile[] = [
    { path: 'index.html', body: renderStatusPage(snapshot, options), contentType: 'text/html; charset=utf-8', cacheControl: CACHE },
    { path: 'status.json', body: json(statusDocument(snapshot)), contentType: 'application/json; charset=utf-8', cacheControl: CACHE },
    { path: 'incidents.json', body: json(incidentsDocument(snapshot)), contentType: 'application/json; charset=utf-8', cacheControl: CACHE },
    { path: 'feed.atom', body: renderAtomFeed(snapshot, options.baseUrl), contentType: 'application/atom+xml; charset=utf-8', cacheControl: CACHE },
  ];
  for (const region of snapshot.regions) {
    files.push({ path: `badge/${region.region}.svg`, body: renderBadge(region), contentType: 'image/svg+xml; charset=utf-8', cacheControl: CACHE });
  }
  return files;
}
