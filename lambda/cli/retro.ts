// `regionwatch retro`: a Markdown draft of the post-incident update from the incident table, per day, with the totals
// per platform region and the regions not affected; `--json` gives the same facts.
import { EXIT, UsageError, type Command } from './command';
import { buildRetro, refusalsOf, renderRetroMarkdown } from '../core/retro';
import { READ_OPTIONS, READ_USAGE, withReadSource } from '../local/read-source';
import { parseTime } from './incidents';
import { readFlags } from './status';

const INCIDENT_ID = /^[a-z0-9][a-z0-9-]{0,31}-\d{5,}$/;

export const retroCommand: Command = {
  name: 'retro',
  summary: 'a Markdown draft of the post-incident update: per day what happened, downtime per platform region, who was not affected (local data dir or AWS)',
  usage: `regionwatch retro [--from T] [--to T] [--incident ID ...] ${READ_USAGE}`,
  options: { ...READ_OPTIONS, from: { type: 'string' }, to: { type: 'string' }, incident: { type: 'string', multiple: true } },
  async run({ values }, io) {
    const fromFlag = parseTime('from', values.from);
    const toFlag = parseTime('to', values.to);
    if (fromFlag !== undefined && toFlag !== undefined && toFlag <= fromFlag) throw new UsageError('--to must be after --from');
    const ids = (Array.isArray(values.incident) ? values.incident : []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
    for (const id of ids) if (!INCIDENT_ID.test(id)) throw new UsageError(`--incident takes incident ids such as us-00042, got "${id}"`);
    const outcome = await withReadSource(readFlags(values, io.cwd), async (source) => {
      const config = source.config;
      const regions = Object.keys(config.regions);
      const maintenance = config.maintenance.map((m) => ({ region: m.region, startMs: Date.parse(m.start), endMs: Date.parse(m.end) }));
      let from: number;
      let to: number;
      if (ids.length > 0 && fromFlag === undefined && toFlag === undefined) {
        // The period the incidents span, from the first's first failing slot to the last's end (or now).
        const found = (await source.reader.incidentRecordsBetween(0, source.nowMs)).filter((i) => ids.includes(i.incidentId));
        const missing = ids.filter((id) => !found.some((i) => i.incidentId === id));
        if (missing.length > 0) return { missing, facts: null };
        from = Math.min(...found.map((i) => i.startedAt * 1000));
        to = Math.max(...found.map((i) => (i.resolvedAt ? Date.parse(i.resolvedAt) + 1000 : source.nowMs)));
      } else {
        // Without flags: the demo's scenario period, or the last 7 days up to the data's "now" (as `report`).
        const period = source.runInfo?.period;
        to = toFlag ?? (period && fromFlag === undefined ? Date.parse(period.to) : source.nowMs);
        from = fromFlag ?? (period && toFlag === undefined ? Date.parse(period.from) : to - 7 * 24 * 3600_000);
      }
      const [incidents, checker, statuses] = await Promise.all([source.reader.incidentRecordsBetween(from, to), source.reader.store.readChecker(), source.reader.store.statuses(regions)]);
      return {
        missing: [] as string[],
        facts: buildRetro({
          platform: config.platform,
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
          regions,
          incidents,
          maintenance,
          nowMs: source.nowMs,
          ...(ids.length > 0 ? { only: ids } : {}),
          // Targets the guard refuses are "not probed" in the draft, not down and not "no service interruption".
          refused: refusalsOf(checker, statuses),
        }),
      };
    });
    if (!outcome.ok) {
      io.err(`regionwatch retro: ${outcome.message}`);
      return EXIT.finding;
    }
    const { facts, missing } = outcome.value;
    if (facts === null) {
      io.err(`regionwatch retro: no incident ${missing.join(', ')} in the incident table; \`regionwatch incidents\` lists them`);
      return EXIT.finding;
    }
    if (values.json) io.out(JSON.stringify(facts, null, 2));
    else io.out(renderRetroMarkdown(facts).trimEnd());
    return EXIT.ok;
  },
};
