// `regionwatch status`: each platform region's verdict now and the open incidents, from a local data dir or AWS.
import { resolve } from 'node:path';
import { EXIT, UsageError, type Command } from './command';
import { loadConfigFile } from '../config/load';
import { count } from '../core/words';
import { formatIncident, formatStatus } from '../local/format';
import { READ_OPTIONS, READ_USAGE, withReadSource, type ReadFlags } from '../local/read-source';

/** The read commands' source flags; `--aws` without `--region` (or `--region`/`--table` without `--aws`) is a usage mistake. */
export function readFlags(values: Record<string, string | boolean | string[] | undefined>, cwd: string): ReadFlags {
  const region = typeof values.region === 'string' ? values.region : undefined;
  const table = typeof values.table === 'string' ? values.table : undefined;
  if (values.aws === true && !region) throw new UsageError('--aws needs --region R, the AWS region whose replica of the incident table to read');
  if (values.aws !== true && (region !== undefined || table !== undefined)) throw new UsageError(`--${region !== undefined ? 'region' : 'table'} reads from AWS and needs --aws`);
  return {
    dataDir: String(values['data-dir'] ?? '.regionwatch'),
    ...(values.aws === true && region ? { aws: { region, ...(table !== undefined ? { table } : {}) } } : {}),
    loadConfig: () => loadConfigFile(resolve(cwd, String(values.config))),
    cwd,
  };
}

export const statusCommand: Command = {
  name: 'status',
  summary: "each platform region's verdict now and the open incidents (local data dir or AWS)",
  usage: `regionwatch status ${READ_USAGE}`,
  options: READ_OPTIONS,
  async run({ values }, io) {
    const outcome = await withReadSource(readFlags(values, io.cwd), async (source) => {
      const [regions, open] = await Promise.all([source.reader.currentStatus(), source.reader.openIncidents()]);
      return { source, regions, open };
    });
    if (!outcome.ok) {
      io.err(`regionwatch status: ${outcome.message}`);
      return EXIT.finding;
    }
    const { source, regions, open } = outcome.value;
    const now = new Date(source.nowMs).toISOString();
    if (values.json) {
      io.out(JSON.stringify({ source: source.description, now, regions, openIncidents: open }, null, 2));
      return EXIT.ok;
    }
    io.out(`regionwatch status: ${source.description}`);
    for (const line of formatStatus(regions, now)) io.out(line);
    io.out(open.length === 0 ? 'no open incidents' : `${count(open.length, 'open incident')}:`);
    for (const incident of open) for (const line of formatIncident(incident)) io.out(`  ${line}`);
    return EXIT.ok;
  },
};
