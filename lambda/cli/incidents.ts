// `regionwatch incidents`: incidents with their timelines and notifications, from a local data dir or AWS.
import { EXIT, UsageError, type Command } from './command';
import { formatIncident } from '../local/format';
import { READ_OPTIONS, READ_USAGE, withReadSource } from '../local/read-source';
import { incidentView } from '../status-page/views';
import { readFlags } from './status';

/** `--from`/`--to`: ISO 8601 time or date; undefined when the flag is absent. */
export function parseTime(flag: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(String(value));
  if (!Number.isFinite(ms)) throw new UsageError(`--${flag} must be an ISO 8601 time such as 2026-04-14T00:00:00Z or a date such as 2026-04-14, got "${String(value)}"`);
  return ms;
}

export const incidentsCommand: Command = {
  name: 'incidents',
  summary: 'incidents with their timelines and notifications (local data dir or AWS)',
  usage: `regionwatch incidents [--open] [--from T] [--to T] ${READ_USAGE}`,
  options: { ...READ_OPTIONS, open: { type: 'boolean', default: false }, from: { type: 'string' }, to: { type: 'string' } },
  async run({ values }, io) {
    const fromFlag = parseTime('from', values.from);
    const toFlag = parseTime('to', values.to);
    const outcome = await withReadSource(readFlags(values, io.cwd), async (source) => {
      if (values.open) return source.reader.openIncidentRecords();
      const to = toFlag ?? source.nowMs;
      const from = fromFlag ?? (source.runInfo?.period ? Date.parse(source.runInfo.period.from) : to - 30 * 24 * 3600_000);
      return source.reader.incidentRecordsBetween(from, to);
    });
    if (!outcome.ok) {
      io.err(`regionwatch incidents: ${outcome.message}`);
      return EXIT.finding;
    }
    const records = outcome.value;
    if (values.json) {
      // The incident items as DESIGN describes them; the outbox is the aggregator's own bookkeeping.
      io.out(JSON.stringify(records.map(({ outbox: _outbox, ...rest }) => rest), null, 2));
      return EXIT.ok;
    }
    if (records.length === 0) io.out(values.open ? 'no open incidents' : 'no incidents in this period');
    for (const record of records) for (const line of formatIncident(incidentView(record))) io.out(line);
    return EXIT.ok;
  },
};
