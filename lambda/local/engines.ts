// The real engines local mode runs: the probe engine's round runner, the aggregator engine over the same
// DynamoDB store code as on AWS, and a reader of the incident table for the status page and the read commands.
import type { RegionwatchConfig } from '../config/schema';
import { AggregatorEngine, type EngineLog } from '../aggregator/engine';
import type { IncidentRecord } from '../core/incident-record';
import { buildReport, type Report } from '../core/report';
import type { NotificationPublisher } from '../core/notification';
import type { ConfirmationRequest } from '../core/confirmation';
import { confirmsFailures, staggerOffsetMs } from '../core/stagger';
import type { HostLookup, ProbeLogger } from '../probe/context';
import { ConfirmationRequester, runConfirmation, type ConfirmationSummary, type ConfirmationTransport } from '../probe/confirmations';
import { dynamoConfirmationClaim } from '../probe/dynamo-claims';
import { runRound } from '../probe/round';
import type { TableClients } from '../store/local-store';
import { DynamoIncidentStore, type IncidentStore } from '../store/incident-store';
import { ResultsStore } from '../store/results-store';
import type { Clock } from './clock';
import type { Round } from './slot-loop';
import { incidentsOverlapping } from '../store/incident-history';
import type { IncidentView, RegionStatus } from '../status-page/model';
import { incidentView, regionStatusView } from '../status-page/views';

/**
 * Table names as the infrastructure derives them from the platform name (lib/names.ts `resourceNames`;
 * a test keeps the two equal). Repeated here so the CLI does not load aws-cdk-lib.
 */
export function localTableNames(platform: string): { resultsTable: string; incidentsTable: string } {
  return { resultsTable: `${platform}-regionwatch-results`, incidentsTable: `${platform}-regionwatch-incidents` };
}

/** Reads the incident table for people: the status page, `status`, `incidents`, `report`. */
export class IncidentReader {
  private readonly platformRegions: string[];

  constructor(
    readonly store: IncidentStore,
    private readonly config: RegionwatchConfig,
  ) {
    this.platformRegions = Object.keys(config.regions);
  }

  /** DESIGN.md's report over [fromMs, toMs): every incident that overlaps it, however long before it opened, clipped. */
  async report(fromMs: number, toMs: number): Promise<Report> {
    const incidents = await this.incidentRecordsBetween(fromMs, toMs);
    return buildReport({
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      regions: this.platformRegions,
      incidents,
      maintenance: this.config.maintenance.map((m) => ({ region: m.region, startMs: Date.parse(m.start), endMs: Date.parse(m.end) })),
    });
  }

  async currentStatus(): Promise<RegionStatus[]> {
    const records = await this.store.statuses(this.platformRegions);
    return this.platformRegions.map((region) => regionStatusView(region, records.find((r) => r.region === region)));
  }

  /** Probe regions the aggregator last left out of the quorum as impaired (from the status items). */
  async impairedProbeRegions(): Promise<Set<string>> {
    const records = await this.store.statuses(this.platformRegions);
    return new Set(records.flatMap((r) => r.probeRegions?.impaired ?? []));
  }

  async openIncidentRecords(): Promise<IncidentRecord[]> {
    return this.store.openIncidents();
  }

  async openIncidents(): Promise<IncidentView[]> {
    return (await this.openIncidentRecords()).map(incidentView);
  }

  /** Incidents of every platform region that overlap [fromMs, toMs], oldest first (exact, without a scan). */
  async incidentRecordsBetween(fromMs: number, toMs: number): Promise<IncidentRecord[]> {
    return incidentsOverlapping(this.store, this.platformRegions, fromMs, toMs);
  }

  /** Incidents that overlap [fromMs, toMs] (including ones opened before it and still open or resolved inside it). */
  async incidentsBetween(fromMs: number, toMs: number): Promise<IncidentView[]> {
    return (await this.incidentRecordsBetween(fromMs, toMs)).map(incidentView);
  }

  /** The newest resolved incidents (resolved in the last 30 days), newest first. */
  async recentIncidents(nowMs: number, limit: number): Promise<IncidentView[]> {
    const records = await this.incidentRecordsBetween(nowMs - 30 * 24 * 3600_000, nowMs);
    return records
      .filter((r) => r.status === 'resolved')
      .sort((a, b) => (b.resolvedAt ?? '').localeCompare(a.resolvedAt ?? ''))
      .slice(0, limit)
      .map(incidentView);
  }
}

export interface LocalEngines {
  /** One probe region's round of `slot`, ended by `deadlineAt`; with confirm on failure it asks the others as it goes. */
  probe(probeRegion: string, slot: number, deadlineAt: number): Promise<Round>;
  /** Serves a confirmation request as `probeRegion`'s prober would (claim, wait, check, write). */
  confirm(probeRegion: string, request: ConfirmationRequest): Promise<ConfirmationSummary>;
  /** Where each probe region's rounds start in their slots, ms. */
  offsetMs(probeRegion: string): number;
  aggregate(now: number): Promise<void>;
  reader: IncidentReader;
  close(): Promise<void>;
}

export interface LocalEnginesOptions {
  config: RegionwatchConfig;
  /** The store's clients; its tables exist (local-store.ts `openStore`). */
  store: TableClients;
  clock: Clock;
  publisher: NotificationPublisher;
  /** Aggregator log lines worth a person's attention (warnings and errors). */
  log?: EngineLog;
  /** The probers' hostname resolution; the system resolver by default. */
  lookup?: HostLookup;
  /** The probers' log (the SSRF guard's security lines among it); silent by default. */
  probeLogger?: ProbeLogger;
  /** How the probers reach each other with confirmation requests (local-mode.ts: a task on the same clock). */
  transport?: ConfirmationTransport;
}

export async function createLocalEngines(options: LocalEnginesOptions): Promise<LocalEngines> {
  const { config, store, clock } = options;
  const tables = localTableNames(config.platform);
  const incidents = new DynamoIncidentStore({ client: store.documentClient, tableName: tables.incidentsTable });
  const rounds = new ResultsStore({ client: store.documentClient, tableName: tables.resultsTable, retentionHours: config.probing.resultRetentionHours });
  // One aggregator, in the home region: it always holds the lease, as the home region's does on AWS.
  const aggregator = new AggregatorEngine({
    config,
    probeRegion: config.homeRegion,
    rounds,
    incidents,
    publisher: options.publisher,
    clock,
    ...(options.log ? { log: options.log } : {}),
  });
  const deps = {
    now: () => clock.now(),
    sleep: (ms: number, signal?: AbortSignal) => clock.sleep(ms, signal),
    ...(options.lookup ? { lookup: options.lookup } : {}),
    ...(options.probeLogger ? { logger: options.probeLogger } : {}),
  };
  const transport = confirmsFailures(config) ? options.transport : undefined;
  const claim = dynamoConfirmationClaim({ client: store.documentClient, tableName: tables.resultsTable });
  const interval = config.defaults.intervalSeconds;
  return {
    probe: async (probeRegion, slot, deadlineAt) => {
      if (!transport) return runRound({ config, probeRegion, slot, deadlineAt }, deps);
      const requester = new ConfirmationRequester({ config, probeRegion, slot, transport, previous: (p, s, before) => rounds.newestChecks(p, [s - interval, s], before) });
      const round = await runRound({ config, probeRegion, slot, deadlineAt, watch: requester }, deps);
      await requester.drain();
      return round;
    },
    confirm: (probeRegion, request) => runConfirmation({ config, probeRegion, request, store: rounds, claim }, deps),
    offsetMs: (probeRegion) => staggerOffsetMs(config, probeRegion),
    aggregate: async () => {
      await aggregator.run();
    },
    reader: new IncidentReader(incidents, config),
    close: async () => undefined,
  };
}
