// The hosted page's render: read the incident table, build the snapshot, render the files, write what changed.
// Pure over its reads and writes (the renderer Lambda passes DynamoDB and S3; the tests pass dynalite and fauxqs).
import type { RegionwatchConfig } from '../config/schema';
import type { IncidentStore } from '../store/incident-store';
import { renderStatusFiles } from './files';
import { PublishedFiles, watchedSinceOf, type PublishOutcome, type PutFile } from './publish';
import { readSnapshot } from './source';

const DAY_MS = 24 * 3600_000;

export interface HostedRenderDeps {
  store: IncidentStore;
  config: RegionwatchConfig;
  nowMs: number;
  /** The page's address: `https://status.acme.example/` or `https://<bucket>…/index.html`. */
  pageUrl?: string;
  /** The status.json the last render wrote, if any. */
  readPrevious(): Promise<string | undefined>;
  put: PutFile;
  published: PublishedFiles;
}

export interface HostedRender extends PublishOutcome {
  /** Milliseconds to read, render and write. */
  ms: number;
}

/** The directory of the page's address, for the feed's absolute links. */
export function baseUrlOf(pageUrl: string): string {
  return pageUrl.replace(/[^/]*$/, '');
}

export async function renderHostedPage(deps: HostedRenderDeps): Promise<HostedRender> {
  const started = performance.now();
  const { config, nowMs } = deps;
  const days = config.statusPage.historyDays;
  // One bar per UTC day, today's last.
  const toMs = Math.floor(nowMs / DAY_MS) * DAY_MS + DAY_MS;
  const fromMs = toMs - days * DAY_MS;
  const watchedSince = watchedSinceOf(await deps.readPrevious()) ?? nowMs;
  const snapshot = await readSnapshot(deps.store, {
    config,
    nowMs,
    history: { fromMs, toMs, bars: days, observed: [{ fromMs: watchedSince, toMs: nowMs }] },
    recentLimit: 10,
  });
  const files = renderStatusFiles(snapshot, { variant: 'hosted', ...(deps.pageUrl ? { baseUrl: baseUrlOf(deps.pageUrl) } : {}) });
  const outcome = await deps.published.publish(files, deps.put);
  return { ...outcome, ms: performance.now() - started };
}
