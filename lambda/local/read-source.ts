// Where `status`, `incidents` and `report` read the incident table: a local data directory (the running local
// mode's store when one is running, else the directory's own) or the real table on AWS.
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RegionwatchConfig } from '../config/schema';
import { DynamoIncidentStore } from '../store/incident-store';
import { startEmbeddedStore } from '../store/embedded';
import { awsClient, endpointClients, StoreError } from '../store/local-store';
import { hasStore, isAlive, openDataDir, readRunInfo, type RunInfo } from './data-dir';
import { IncidentReader, localTableNames } from './engines';

/** The data or the table cannot be read (a runtime failure, not a usage mistake): one clear line for the user, exit 1. */
export class ReadSourceError extends Error {
  override readonly name = 'ReadSourceError';
}

export interface ReadSource {
  reader: IncidentReader;
  config: RegionwatchConfig;
  /** Where the data came from, for the first line of human output. */
  description: string;
  /** The "now" of the data: the last slot local mode ran (the demo's clock), or the wall clock. */
  nowMs: number;
  runInfo?: RunInfo;
  close(): Promise<void>;
}

/**
 * Opens a local data directory for reading; while local mode runs there, reads through its store instead, and after a
 * run on a DynamoDB endpoint (`local --endpoint`) reads that endpoint's tables.
 */
export async function openLocalSource(dataDir: string, cwd: string): Promise<ReadSource> {
  const info = readRunInfo(dataDir, cwd);
  if (info?.store?.kind === 'aws') {
    throw new ReadSourceError(`local mode in ${dataDir} ran on the real tables in ${info.store.region}; read them with --aws --region ${info.store.region}`);
  }
  if (!info || (info.store === undefined && !hasStore(dataDir, cwd))) {
    throw new ReadSourceError(`no regionwatch data in ${dataDir}; run \`regionwatch local --data-dir ${dataDir}\` or \`regionwatch demo --data-dir ${dataDir}\` first, or pass --aws --region R`);
  }
  const tables = localTableNames(info.config.platform);
  const nowMs = info.lastSlotAt ? Date.parse(info.lastSlotAt) : Date.now();
  const running = info.live !== undefined && info.live.pid !== process.pid && isAlive(info.live.pid);
  const endpoint = info.store?.kind === 'endpoint' ? info.store.url : running ? info.live?.storeEndpoint : undefined;
  if (endpoint !== undefined) {
    const { client, documentClient } = endpointClients(endpoint);
    const store = new DynamoIncidentStore({ client: documentClient, tableName: tables.incidentsTable });
    const through = running ? ` (through the running local mode, pid ${info.live?.pid ?? ''})` : info.store ? ` (tables at ${endpoint})` : '';
    return {
      reader: new IncidentReader(store, info.config),
      config: info.config,
      description: `${dataDir}${through}`,
      nowMs: running && Date.now() > nowMs && info.speed === 1 ? Date.now() : nowMs,
      runInfo: info,
      close: async () => client.destroy(),
    };
  }
  const dir = openDataDir(dataDir, cwd);
  try {
    const embedded = await startEmbeddedStore({ path: dir.storePath });
    const store = new DynamoIncidentStore({ client: embedded.documentClient, tableName: tables.incidentsTable });
    return {
      reader: new IncidentReader(store, info.config),
      config: info.config,
      description: dataDir,
      nowMs,
      runInfo: info,
      close: async () => {
        await embedded.close();
        dir.release();
      },
    };
  } catch (error: unknown) {
    dir.release();
    throw error;
  }
}

/** The incident table name the infrastructure gives a platform (lib/names.ts). */
export function awsIncidentsTable(config: RegionwatchConfig): string {
  return localTableNames(config.platform).incidentsTable;
}

/**
 * Opens the real incident table. Credentials come from the default chain, resolved up front with a time
 * limit so a machine without any fails at once with a clear line instead of a stack trace or a hang.
 */
export async function openAwsSource(options: { config: RegionwatchConfig; region: string; table?: string; timeoutMs?: number }): Promise<ReadSource> {
  let client;
  try {
    client = await awsClient(options.region, options.timeoutMs);
  } catch (error: unknown) {
    if (error instanceof StoreError) throw new ReadSourceError(error.message);
    throw error;
  }
  const tableName = options.table ?? awsIncidentsTable(options.config);
  const store = new DynamoIncidentStore({ client: DynamoDBDocumentClient.from(client), tableName });
  return {
    reader: new IncidentReader(store, options.config),
    config: options.config,
    description: `DynamoDB table ${tableName} in ${options.region}`,
    nowMs: Date.now(),
    close: async () => client.destroy(),
  };
}

/** Turns an AWS error from a read into one line (missing table, access denied, throttling). */
export function explainAwsError(error: unknown, table: string, region: string): string | undefined {
  if (!(error instanceof Error)) return undefined;
  switch (error.name) {
    case 'ResourceNotFoundException':
      return `table ${table} not found in ${region}; deploy regionwatch there or pass --table NAME`;
    case 'AccessDeniedException':
    case 'UnrecognizedClientException':
    case 'ExpiredTokenException':
      return `AWS refused the read of ${table} in ${region} (${error.name}); check the credentials and that they allow dynamodb:Query and dynamodb:GetItem`;
    default:
      return undefined;
  }
}

/** Flags every read command takes (DESIGN: local `--data-dir`, or AWS `--aws --region R`). */
export const READ_OPTIONS = {
  'data-dir': { type: 'string', default: '.regionwatch' },
  aws: { type: 'boolean', default: false },
  region: { type: 'string' },
  table: { type: 'string' },
} as const;

export const READ_USAGE = '[--data-dir D | --aws --region R [--table NAME] [--config FILE]] [--json]';

export interface ReadFlags {
  dataDir: string;
  /** `--aws --region R [--table NAME]`: read the real incident table in that AWS region instead of the data directory. */
  aws?: { region: string; table?: string };
  /** Loads the config for --aws (platform name, platform regions). */
  loadConfig(): RegionwatchConfig;
  cwd: string;
}

/**
 * Opens the source the flags name, runs `use`, and closes it. Returns the line to print and exit 1 with when the
 * source cannot be read (no data, a data directory in use, no credentials, no table, access denied), or the result of
 * `use`. A bad config (ConfigError) is not caught: the command line reports it with exit 2.
 */
export async function withReadSource<T>(flags: ReadFlags, use: (source: ReadSource) => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; message: string }> {
  let source: ReadSource;
  try {
    if (flags.aws) {
      source = await openAwsSource({ config: flags.loadConfig(), ...flags.aws });
    } else {
      source = await openLocalSource(flags.dataDir, flags.cwd);
    }
  } catch (error: unknown) {
    if (error instanceof ReadSourceError) return { ok: false, message: error.message };
    if (error instanceof Error && error.name === 'DataDirError') return { ok: false, message: error.message };
    throw error;
  }
  try {
    return { ok: true, value: await use(source) };
  } catch (error: unknown) {
    const explained = flags.aws ? explainAwsError(error, flags.aws.table ?? awsIncidentsTable(source.config), flags.aws.region) : undefined;
    if (explained) return { ok: false, message: explained };
    throw error;
  } finally {
    await source.close();
  }
}
