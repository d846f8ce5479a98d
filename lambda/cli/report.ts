// `regionwatch report`: per platform region and period, down/degraded/read-only minutes, availability, detect and notify times.
import { EXIT, UsageError, type Command } from './command';
import { formatReport } from '../local/format';
import { READ_OPTIONS, READ_USAGE, withReadSource } from '../local/read-source';
import { parseTime } from './incidents';
import { readFlags } from './status';

export const reportCommand: Command = {
  name: 'report',
  summary: 'minutes down and degraded, availability, time to detect and notify, per platform region (local data dir or AWS)',
  usage: `regionwatch report [--from T] [--to T] ${READ_USAGE}`,
  options: { ...READ_OPTIONS, from: { type: 'string' }, to: { type: 'string' } },
  async run({ values }, io) {
    const fromFlag = parseTime('from', values.from);
    const toFlag = parseTime('to', values.to);
    if (fromFlag !== undefined && toFlag !== undefined && toFlag <= fromFlag) throw new UsageError('--to must be after --from');
    const outcome = await withReadSource(readFlags(values, io.cwd), async (source) => {
      // Without flags: the demo's scenario period, or the last 7 days up to the data's "now".
      const period = source.runInfo?.period;
      const to = toFlag ?? (period && fromFlag === undefined ? Date.parse(period.to) : source.nowMs);
      const from = fromFlag ?? (period && toFlag === undefined ? Date.parse(period.from) : to - 7 * 24 * 3600_000);
      return source.reader.report(from, to);
    });
    if (!outcome.ok) {
      io.err(`regionwatch report: ${outcome.message}`);
      return EXIT.finding;
    }
    if (values.json) io.out(JSON.stringify(outcome.value, null, 2));
    else for (const line of formatReport(outcome.value)) io.out(line);
    return EXIT.ok;
  },
};
