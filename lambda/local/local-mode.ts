// Local mode: the real pipeline on one machine. Probers → results table → aggregator (run after each slot's rounds,
// the stand-in for the table's stream) → incident table and notifications → status page, on dynalite under the data dir.
import type { RegionwatchConfig } from '../config/schema';
import type { Notification, NotificationPublisher } from '../core/notification';
import type { RoundRecord } from '../core/results';
import { ConsolePublisher, FanOutPublisher, JsonlFilePublisher, SlackWebhookPublisher } from '../notify/local-sinks';
import { createResultsTable } from '../store/create-tables';
import { startEmbeddedStore, type EmbeddedStore } from '../store/embedded';
import { ResultsStore } from '../store/results-store';
import type { Clock } from './clock';
import { addObserved, openDataDir, readRunInfo, writeRunInfo, type DataDir, type RunInfo } from './data-dir';
import { createLocalEngines, localTableNames, type LocalEngines } from './engines';
import { runSlots, type SlotReport } from './slot-loop';
import { buildHistory, buildMatrix } from './status-model';
import type { StatusSnapshot } from './status-page';
import { startStatusServer, type StatusServer } from './status-server';

export interface LocalModeOptions {
  config: RegionwatchConfig;
  /** The data directory (relative to cwd or absolute). */
  dataDir: string;
  cwd: string;
  /** Status page port on 127.0.0.1; 0 picks a free one. */
  port: number;
  clock: Clock & { holdAt?(epochMs: number): void };
  /** How much faster than real time the clock runs (1 for `local`). */
  speed: number;
  /** One readable line per notification goes here. */
  notificationLine(line: string): void;
  /** Posts every notification to this Slack webhook too (local mode has no Secrets Manager). */
  slackWebhookUrl?: string;
  /** Real milliseconds between the status page's refreshes. */
  refreshMs?: number;
  /** An extra line on the status page (the demo's progress). */
  banner?(): string | undefined;
  /** The demo's report period, recorded for `report` without flags. */
  period?: { from: string; to: string };
}

export interface LocalRunOptions {
  /** First slot, epoch ms; the current one when omitted. */
  fromMs?: number;
  /** Stop before this clock time, epoch ms. */
  untilMs?: number;
  signal?: AbortSignal;
  catchUp: 'skip' | 'replay';
  onSlot?(report: SlotReport): void | Promise<void>;
}

export interface LocalMode {
  statusUrl: string;
  dataDir: DataDir;
  engines: LocalEngines;
  /** Notifications published during this run, in order. */
  readonly sent: Notification[];
  run(options: LocalRunOptions): Promise<number>;
  snapshot(): Promise<StatusSnapshot>;
  close(): Promise<void>;
}

/** Records every notification the sinks accepted, for the demo's ending and the tests. */
class RecordingPublisher implements NotificationPublisher {
  readonly sent: Notification[] = [];
  constructor(private readonly inner: NotificationPublisher) {}
  async publish(notification: Notification): Promise<void> {
    await this.inner.publish(notification);
    this.sent.push(notification);
  }
}

/**
 * Opens the data directory, the embedded store and the status page. Fails with DataDirError or
 * PortInUseError (and leaves nothing running) when the directory or the port cannot be used.
 */
export async function startLocalMode(options: LocalModeOptions): Promise<LocalMode> {
  const { config, clock } = options;
  const dataDir = openDataDir(options.dataDir, options.cwd);
  let store: EmbeddedStore | undefined;
  let server: StatusServer | undefined;
  try {
    store = await startEmbeddedStore({ path: dataDir.storePath });
    const tables = localTableNames(config.platform);
    await createResultsTable(store.client, tables.resultsTable);
    const results = new ResultsStore({
      client: store.documentClient,
      tableName: tables.resultsTable,
      retentionHours: config.probing.resultRetentionHours,
    });
    const sinks: NotificationPublisher[] = [new ConsolePublisher({ write: options.notificationLine }), new JsonlFilePublisher({ dataDir: dataDir.path })];
    if (options.slackWebhookUrl) sinks.push(new SlackWebhookPublisher({ url: options.slackWebhookUrl, allowLoopback: true }));
    const publisher = new RecordingPublisher(new FanOutPublisher(sinks));
    const engines = await createLocalEngines({ config, store, clock, publisher });
    const intervalSeconds = config.defaults.intervalSeconds;
    const platformRegions = Object.keys(config.regions);
    // A restart keeps the first run's start: history before it is "no data", not "up".
    const previous = readRunInfo(dataDir.path);
    const startedAt = previous?.startedAt ?? new Date(clock.now()).toISOString();
    const period = options.period ?? previous?.period;
    const info: RunInfo = { config, speed: options.speed, startedAt, observed: previous?.observed ?? [], ...(period ? { period } : {}) };

    const snapshot = async (): Promise<StatusSnapshot> => {
      const nowMs = clock.now();
      const rounds: RoundRecord[] = await results.readRounds(Math.floor(nowMs / 1000) - 3 * intervalSeconds, Math.floor(nowMs / 1000));
      const { probeRegions, matrix } = buildMatrix(rounds, config.probeRegions, platformRegions, nowMs, intervalSeconds);
      const [regions, open, recent, impaired] = await Promise.all([
        engines.reader.currentStatus(),
        engines.reader.openIncidents(),
        engines.reader.recentIncidents(nowMs, 5),
        engines.reader.impairedProbeRegions(),
      ]);
      for (const p of probeRegions) if (impaired.has(p.probeRegion)) p.impaired = true;
      const dataFromMs = Date.parse(info.observed?.[0]?.from ?? startedAt);
      const spanMs = Math.min(24 * 3600_000, Math.max(3600_000, nowMs - dataFromMs));
      const observed = (info.observed ?? []).map((o) => ({ fromMs: Date.parse(o.from), toMs: Date.parse(o.to) }));
      const history = buildHistory(await engines.reader.incidentsBetween(nowMs - spanMs, nowMs), platformRegions, {
        fromMs: nowMs - spanMs,
        toMs: nowMs,
        bars: 60,
        nowMs,
        observed,
      });
      const banner = options.banner?.();
      return {
        platform: config.platform,
        now: new Date(nowMs).toISOString(),
        ...(options.speed !== 1 ? { speed: options.speed } : {}),
        ...(banner ? { banner } : {}),
        regions,
        probeRegions,
        matrix,
        openIncidents: open,
        recentIncidents: recent,
        history,
      };
    };

    server = await startStatusServer({
      port: options.port,
      refreshMs: options.refreshMs,
      source: {
        snapshot,
        incidents: async () => {
          const nowMs = clock.now();
          const [open, recent] = await Promise.all([engines.reader.openIncidents(), engines.reader.recentIncidents(nowMs, 50)]);
          return { open, recent };
        },
      },
    });
    const openedServer = server;
    const openedStore = store;
    writeRunInfo(dataDir, { ...info, live: { pid: process.pid, storeEndpoint: store.endpoint, statusUrl: server.url } });
    let closed = false;
    return {
      statusUrl: server.url,
      dataDir,
      engines,
      sent: publisher.sent,
      snapshot,
      run: (run) =>
        runSlots({
          clock,
          intervalSeconds,
          probeRegions: config.probeRegions,
          probe: (probeRegion, slot) => engines.probe(probeRegion, slot),
          write: async (round) => {
            await results.writeRound(round);
          },
          aggregate: (written, now) => engines.aggregate(written, now),
          catchUp: run.catchUp,
          ...(run.fromMs !== undefined ? { fromMs: run.fromMs } : {}),
          ...(run.untilMs !== undefined ? { untilMs: run.untilMs } : {}),
          ...(run.signal ? { signal: run.signal } : {}),
          onSlot: (report) => {
            info.lastSlotAt = new Date(report.slotMs).toISOString();
            info.observed = addObserved(info.observed ?? [], report.slotMs, report.slotMs + intervalSeconds * 1000, 2 * intervalSeconds * 1000);
            return run.onSlot?.(report);
          },
        }).finally(() => writeRunInfo(dataDir, { ...info, live: { pid: process.pid, storeEndpoint: openedStore.endpoint, statusUrl: openedServer.url } })),
      close: async () => {
        if (closed) return;
        closed = true;
        writeRunInfo(dataDir, info);
        await openedServer.close();
        await engines.close();
        await openedStore.close();
        dataDir.release();
      },
    };
  } catch (error: unknown) {
    await server?.close();
    await store?.close();
    dataDir.release();
    throw error;
  }
}
