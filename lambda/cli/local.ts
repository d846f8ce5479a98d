// `regionwatch local`: the whole pipeline on this machine against the configured targets, until Ctrl-C or --for.
import { resolve } from 'node:path';
import { EXIT, UsageError, type Command, type CommandIo } from './command';
import { loadConfigFile } from '../config/load';
import { count } from '../core/words';
import { systemClock } from '../local/clock';
import { DataDirError, DEFAULT_DATA_DIR } from '../local/data-dir';
import { startLocalMode, type LocalMode, type LocalModeOptions } from '../local/local-mode';
import { PortInUseError } from '../local/status-server';
import { StoreError, type StoreChoice } from '../store/local-store';
import { ChannelSecretError, LocalSecretsFile } from '../notify/channel-secret';

/** Local mode's stand-in for Secrets Manager: secret names to values (keep it out of version control). */
export const DEFAULT_SECRETS_FILE = 'regionwatch.secrets.json';

export const DEFAULT_PORT = 8787;
/** Local mode has no Secrets Manager: the Slack webhook URL itself comes from this variable. */
export const SLACK_WEBHOOK_ENV = 'REGIONWATCH_SLACK_WEBHOOK_URL';

export function parsePort(value: unknown): number {
  const text = String(value);
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new UsageError(`--port must be a port number from 0 to 65535 (0 picks a free one), got "${text}"`);
  return port;
}

export function parsePositive(flag: string, value: unknown): number {
  const text = String(value);
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`--${flag} must be a positive number, got "${text}"`);
  return n;
}

/**
 * Starts local mode, turning a data directory or port that cannot be used into one line and exit 2, and tables that
 * cannot be used (no credentials, a table missing, an endpoint that does not answer) into one line and exit 1, as the
 * read commands do. Returns the exit code instead of a LocalMode when it could not start.
 */
export async function startOrExplain(command: string, options: LocalModeOptions, io: CommandIo): Promise<LocalMode | number> {
  try {
    return await startLocalMode(options);
  } catch (error: unknown) {
    if (error instanceof DataDirError || error instanceof PortInUseError) {
      io.err(`regionwatch ${command}: ${error.message}`);
      return EXIT.usage;
    }
    if (error instanceof StoreError) {
      io.err(`regionwatch ${command}: ${error.message}`);
      return EXIT.finding;
    }
    throw error;
  }
}

/** `--endpoint URL` or `--aws --region R` (DESIGN); neither: the embedded store. */
export function storeChoice(values: Record<string, string | boolean | string[] | undefined>): StoreChoice {
  const endpoint = typeof values.endpoint === 'string' ? values.endpoint : undefined;
  const region = typeof values.region === 'string' ? values.region : undefined;
  if (endpoint !== undefined && values.aws === true) throw new UsageError('--endpoint and --aws name two stores; pass one');
  if (values.aws === true) {
    if (!region) throw new UsageError('--aws needs --region R, the AWS region whose tables (a probe region with a replica) local mode uses');
    return { kind: 'aws', region };
  }
  if (region !== undefined) throw new UsageError('--region names the AWS region of the real tables and needs --aws');
  if (endpoint === undefined) return { kind: 'embedded' };
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new UsageError(`--endpoint must be the URL of a DynamoDB endpoint, such as http://127.0.0.1:8000; got "${endpoint}"`);
  return { kind: 'endpoint', url: endpoint.replace(/\/+$/, '') };
}

export const localCommand: Command = {
  name: 'local',
  summary: 'run the whole pipeline on this machine: probers, aggregator, notifications, status page',
  usage: `regionwatch local [--config FILE] [--data-dir D (default ${DEFAULT_DATA_DIR})] [--port P (default ${DEFAULT_PORT})] [--for SECONDS] [--endpoint URL | --aws --region R] [--secrets FILE (default ${DEFAULT_SECRETS_FILE})]`,
  options: {
    'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
    secrets: { type: 'string', default: DEFAULT_SECRETS_FILE },
    port: { type: 'string', default: String(DEFAULT_PORT) },
    for: { type: 'string' },
    endpoint: { type: 'string' },
    aws: { type: 'boolean', default: false },
    region: { type: 'string' },
  },
  async run({ values }, io) {
    const port = parsePort(values.port);
    const store = storeChoice(values);
    const forSeconds = values.for === undefined ? undefined : parsePositive('for', values.for);
    const config = loadConfigFile(resolve(io.cwd, String(values.config)));
    const slackWebhookUrl = process.env[SLACK_WEBHOOK_ENV];
    let secrets: LocalSecretsFile;
    try {
      secrets = new LocalSecretsFile(resolve(io.cwd, String(values.secrets)));
    } catch (error: unknown) {
      if (error instanceof ChannelSecretError) throw new UsageError(error.message);
      throw error;
    }
    const started = await startOrExplain(
      'local',
      {
        config,
        dataDir: String(values['data-dir']),
        cwd: io.cwd,
        port,
        clock: systemClock,
        speed: 1,
        notificationLine: (line) => io.out(line),
        refusalLine: (line) => io.err(`regionwatch local: ${line}`),
        store,
        ...(slackWebhookUrl ? { slackWebhookUrl } : {}),
        secrets,
      },
      io,
    );
    if (typeof started === 'number') return started;
    const mode = started;
    try {
      const targets = Object.values(config.regions).reduce((n, r) => n + r.targets.length, 0);
      io.out(`regionwatch local: ${config.platform}, ${count(targets, 'target')} in ${count(Object.keys(config.regions).length, 'platform region')}, probed as ${config.probeRegions.join(', ')}`);
      io.out(`  status page  ${mode.statusUrl}`);
      io.out(`  data         ${mode.dataDir.path}`);
      io.out(`  tables       ${mode.storeDescription}`);
      for (const channel of mode.channels) io.out(`  ${channel.label.padEnd(12)} ${channel.deliver ? 'on' : `off: ${channel.missing ?? ''} (local mode has no Secrets Manager)`}`);
      io.out(forSeconds === undefined ? '  running until Ctrl-C' : `  running for ${forSeconds} s`);
      const untilMs = forSeconds === undefined ? undefined : systemClock.now() + forSeconds * 1000;
      await mode.run({
        catchUp: 'skip',
        ...(untilMs !== undefined ? { untilMs } : {}),
        ...(io.signal ? { signal: io.signal } : {}),
        onSlot: (report) => {
          for (const failure of report.failures) io.err(`regionwatch local: ${failure}`);
        },
      });
    } finally {
      await mode.close();
    }
    io.out(
      store.kind === 'embedded'
        ? `regionwatch local: stopped; incidents and history are kept in ${mode.dataDir.path}`
        : `regionwatch local: stopped; incidents and history are kept in the tables (${mode.storeDescription}), the notifications log in ${mode.dataDir.path}`,
    );
    return EXIT.ok;
  },
};
