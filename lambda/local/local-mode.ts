// Local mode: the real pipeline on one machine. Probers → results table → aggregator (run after each slot's rounds,
// the stand-in for the table's stream) → incident table and notifications → status page (the hosted page's renderer,
// served from memory), on dynalite under the data dir (or any DynamoDB endpoint, or the real tables on AWS:
// lambda/store/local-store.ts).
import type { RegionwatchConfig } from '../config/schema';
import type { Notification, NotificationPublisher } from '../core/notification';
import { LocalSecretsFile } from '../notify/channel-secret';
import { ChannelPublisher, localChannels, type LocalChannel } from '../notify/local-channels';
import { ConsolePublisher, FanOutPublisher, JsonlFilePublisher } from '../notify/local-sinks';
import { openStore, StoreError, type OpenedStore, type StoreChoice, type StoreRecord } from '../store/local-store';
import { ResultsStore } from '../store/results-store';
import type { Clock } from './clock';
import { addObserved, openDataDir, readRunInfo, writeRunInfo, type DataDir, type RunInfo } from './data-dir';
import { createLocalEngines, localTableNames, type LocalEngines } from './engines';
import { RefusalNotices } from './refusal-notices';
import type { HostLookup } from '../probe/context';
import { systemHostLookup } from '../probe/resolve-host';
import { resolveTargets } from '../config/resolve';
import { ClockHolds, CoalescingRunner, runSlots, workAllowanceMs, type SlotReport } from './slot-loop';
import { confirmationCheckAt, type ConfirmationRequest } from '../core/confirmation';
import type { ConfirmationTransport } from '../probe/confirmations';
import { renderStatusFiles } from '../status-page/files';
import type { StatusSnapshot } from '../status-page/model';
import { readSnapshot } from '../status-page/source';
import { startStatusServer, type StatusServer } from './status-server';

/** How long a confirmation request takes to reach the other probe regions' probers in local mode (the queue's delay on AWS). */
export const LOCAL_CONFIRMATION_DELAY_MS = 300;

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
  /** Where the channels' secrets come from (local mode has no Secrets Manager). @default none: only Slack by URL */
  secrets?: LocalSecretsFile;
  /** Real milliseconds between the status page's refreshes. */
  refreshMs?: number;
  /** An extra line on the status page (the demo's progress). */
  banner?(): string | undefined;
  /** The demo's report period, recorded for `report` without flags. */
  period?: { from: string; to: string };
  /** Where the tables are; the embedded store under the data directory by default. */
  store?: StoreChoice;
  /**
   * One line per target the probers refuse to probe (their SSRF guard), the first time it is refused: the target, the
   * address kind and the key that allows it (refusal-notices.ts). Without it refusals show only as checker alerts.
   */
  refusalLine?(line: string): void;
  /** The probers' hostname resolution; the system resolver by default (tests answer from a table). */
  lookup?: HostLookup;
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
  /** The config's channels and whether each could be set up here (a missing secret says how to add it). */
  channels: LocalChannel[];
  dataDir: DataDir;
  /** Where the tables are (local-store.ts `OpenedStore.description`). */
  storeDescription: string;
  engines: LocalEngines;
  /** The results table the probers write (rounds and confirmations). */
  results: ResultsStore;
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

function sameStore(a: StoreRecord | undefined, b: StoreRecord | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * A shared store (an endpoint, AWS) may have another writer: the deployed probers, or local mode from another data
 * directory. Both would write the same items (one per probe region and slot) and overwrite each other's results, so
 * local mode refuses to start while rounds newer than this directory's own last slot are less than three intervals old.
 */
async function refuseAnotherWriter(results: ResultsStore, store: OpenedStore, resultsTable: string, intervalSeconds: number, nowMs: number, ownLastSlotMs: number | undefined): Promise<void> {
  const nowSlot = Math.floor(nowMs / 1000 / intervalSeconds) * intervalSeconds;
  const span = 3 * intervalSeconds;
  const recent = await results.readRounds(nowSlot - span, nowSlot + intervalSeconds);
  const foreign = recent.filter((r) => ownLastSlotMs === undefined || r.slot * 1000 > ownLastSlotMs);
  if (foreign.length === 0) return;
  const writers = [...new Set(foreign.map((r) => r.probeRegion))].join(', ');
  throw new StoreError(
    `${resultsTable} in ${store.description} has results from the last ${span} s (probe regions ${writers}) that this data directory did not write: the deployed probers or another local mode write there, and two writers of the same slots overwrite each other's results; stop the other writer (or wait ${span} s if it was a local mode you just stopped), or use another store`,
  );
}

/**
 * Opens the data directory, the store and the status page. Fails with DataDirError, PortInUseError or StoreError
 * (and leaves nothing running) when the directory, the port or the tables cannot be used.
 */
export async function startLocalMode(options: LocalModeOptions): Promise<LocalMode> {
  const { config, clock } = options;
  const dataDir = openDataDir(options.dataDir, options.cwd);
  let store: OpenedStore | undefined;
  let server: StatusServer | undefined;
  try {
    const tables = localTableNames(config.platform);
    const choice = options.store ?? { kind: 'embedded' };
    store = await openStore(choice, { storePath: dataDir.storePath, tables, homeRegion: config.homeRegion });
    const storeRecord: StoreRecord | undefined = choice.kind === 'embedded' ? undefined : choice;
    const results = new ResultsStore({
      client: store.documentClient,
      tableName: tables.resultsTable,
      retentionHours: config.probing.resultRetentionHours,
    });
    const sinks: NotificationPublisher[] = [new ConsolePublisher({ write: options.notificationLine }), new JsonlFilePublisher({ dataDir: dataDir.path })];
    // The channels read an incident before a PagerDuty trigger, as their Lambdas do; the store exists once engines do.
    const lookup: { engines?: LocalEngines } = {};
    const channels = localChannels(config, {
      secrets: options.secrets ?? new LocalSecretsFile(null),
      ...(options.slackWebhookUrl ? { slackWebhookUrl: options.slackWebhookUrl } : {}),
      incidents: (region, seq) => lookup.engines?.reader.store.getIncident(region, seq) ?? Promise.resolve(null),
    });
    for (const channel of channels) if (channel.deliver) sinks.push(new ChannelPublisher({ ...channel, deliver: channel.deliver }));
    const publisher = new RecordingPublisher(new FanOutPublisher(sinks));
    // Confirm on failure without a network between regions: a request becomes a task on the same clock, after a
    // delivery delay like the queue's, holding the clock until its checks are written and the aggregator has run.
    const holds = new ClockHolds(clock);
    const tasks = new Set<Promise<void>>();
    // The transport is needed to make the engines, and serves requests with them: filled in once they exist.
    const served: { confirm?: (to: string, request: ConfirmationRequest) => Promise<unknown>; aggregator?: CoalescingRunner } = {};
    const allowance = workAllowanceMs(config.defaults.intervalSeconds);
    const minFault = Math.max(0, ...Object.values(config.regions).flatMap((r) => r.targets.map((t) => t.minFaultSeconds ?? config.defaults.minFaultSeconds)));
    const transport: ConfirmationTransport = {
      send: async (to, request) => {
        const key = Symbol(`confirm ${to}`);
        const arrives = clock.now() + LOCAL_CONFIRMATION_DELAY_MS;
        holds.set(key, confirmationCheckAt(request, arrives, minFault) + allowance);
        const task = (async () => {
          try {
            await clock.sleep(LOCAL_CONFIRMATION_DELAY_MS);
            await served.confirm?.(to, request);
            await served.aggregator?.request();
          } catch (error: unknown) {
            options.notificationLine(`confirmation by ${to} failed: ${error instanceof Error ? error.message : String(error)}`);
          } finally {
            holds.release(key);
          }
        })();
        tasks.add(task);
        void task.finally(() => tasks.delete(task));
      },
    };
    const notices = options.refusalLine ? new RefusalNotices(config, options.refusalLine) : undefined;
    const engines = await createLocalEngines({
      config,
      store,
      clock,
      publisher,
      transport,
      ...(options.lookup ? { lookup: options.lookup } : {}),
      ...(notices ? { probeLogger: notices.logger } : {}),
    });
    const aggregator = new CoalescingRunner(() => engines.aggregate(clock.now()));
    served.confirm = (to, request) => engines.confirm(to, request);
    served.aggregator = aggregator;
    lookup.engines = engines;
    const intervalSeconds = config.defaults.intervalSeconds;
    // A restart keeps the first run's start: history before it is "no data", not "up". History kept in another store
    // is not this store's: a directory moved to another store starts afresh.
    const read = readRunInfo(dataDir.path);
    const previous = read && sameStore(read.store, storeRecord) ? read : undefined;
    if (storeRecord) {
      const ownLastSlotMs = previous?.lastSlotAt ? Date.parse(previous.lastSlotAt) + intervalSeconds * 1000 : undefined;
      await refuseAnotherWriter(results, store, tables.resultsTable, intervalSeconds, clock.now(), ownLastSlotMs);
    }
    const startedAt = previous?.startedAt ?? new Date(clock.now()).toISOString();
    const period = options.period ?? previous?.period;
    const info: RunInfo = { config, speed: options.speed, startedAt, observed: previous?.observed ?? [], ...(period ? { period } : {}), ...(storeRecord ? { store: storeRecord } : {}) };

    // The hosted page's snapshot, from the same reads of the incident table; bars over the watched time, up to a day.
    const snapshot = async (): Promise<StatusSnapshot> => {
      const nowMs = clock.now();
      const dataFromMs = Date.parse(info.observed?.[0]?.from ?? startedAt);
      const spanMs = Math.min(24 * 3600_000, Math.max(3600_000, nowMs - dataFromMs));
      const observed = (info.observed ?? []).map((o) => ({ fromMs: Date.parse(o.from), toMs: Date.parse(o.to) }));
      const banner = options.banner?.();
      return readSnapshot(engines.reader.store, {
        config,
        nowMs,
        history: { fromMs: nowMs - spanMs, toMs: nowMs, bars: 60, observed },
        ...(options.speed !== 1 ? { speed: options.speed } : {}),
        ...(banner ? { banner } : {}),
      });
    };

    const refreshMs = options.refreshMs ?? 5000;
    server = await startStatusServer({
      port: options.port,
      // The feed's links are absolute once the server listens (always, by the time a request arrives).
      source: { files: async () => renderStatusFiles(await snapshot(), { variant: 'local', refreshMs, ...(server ? { baseUrl: `${server.url}/` } : {}) }) },
    });
    const openedServer = server;
    const openedStore = store;
    const live = () => ({ pid: process.pid, ...(openedStore.endpoint ? { storeEndpoint: openedStore.endpoint } : {}), statusUrl: openedServer.url });
    writeRunInfo(dataDir, { ...info, live: live() });
    let closed = false;
    return {
      statusUrl: server.url,
      channels,
      dataDir,
      storeDescription: openedStore.description,
      engines,
      results,
      sent: publisher.sent,
      snapshot,
      run: async (run) => {
        // What the guard refuses is told at start, before the first round (and again only for a new refusal).
        await notices?.atStart(resolveTargets(config), options.lookup ?? systemHostLookup);
        return runSlots({
          clock,
          intervalSeconds,
          probeRegions: config.probeRegions,
          offsetMs: (probeRegion) => engines.offsetMs(probeRegion),
          probe: (probeRegion, slot, deadlineAt) => engines.probe(probeRegion, slot, deadlineAt),
          write: async (round) => {
            await results.writeRound(round);
          },
          aggregate: (now) => engines.aggregate(now),
          holds,
          // A round sleeps its spread of request starts on the clock: the clock must get that far while it works.
          roundHoldMs: config.probing.jitterMs + allowance,
          aggregator,
          catchUp: run.catchUp,
          ...(run.fromMs !== undefined ? { fromMs: run.fromMs } : {}),
          ...(run.untilMs !== undefined ? { untilMs: run.untilMs } : {}),
          ...(run.signal ? { signal: run.signal } : {}),
          onSlot: (report) => {
            info.lastSlotAt = new Date(report.slotMs).toISOString();
            info.observed = addObserved(info.observed ?? [], report.slotMs, report.slotMs + intervalSeconds * 1000, 2 * intervalSeconds * 1000);
            return run.onSlot?.(report);
          },
        })
          // Confirmations still in flight when the run ends are finished, not cut off.
          .finally(() => Promise.allSettled([...tasks]))
          .finally(() => writeRunInfo(dataDir, { ...info, live: live() }));
      },
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
