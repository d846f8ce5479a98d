// `regionwatch demo` (`npm start`): the bundled demo platform replays the story while local mode watches it; then the report.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EXIT, type Command } from './command';
import { parsePort, parsePositive } from './local';
import { DEFAULT_DEMO_SPEED, runDemo, type DemoOutcome } from '../local/demo';
import { scriptedMinutes, demoScript } from '../local/demo-script';
import { formatReport } from '../local/format';
import { bar, LiveLine } from '../local/live-line';
import { shortTime } from '../status-page/html';
import { DataDirError } from '../local/data-dir';
import { PortInUseError } from '../local/status-server';
import { formatNotificationLine } from '../notify/local-sinks';
import { count } from '../core/words';

/** How far the report may be from the script and still tell the story right (DESIGN: within two minutes). */
export const DEMO_TOLERANCE_MINUTES = 2;

function duration(seconds: number): string {
  const s = Math.round(seconds);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

/** Lines comparing the report with the script: what a newcomer should check the checker against. */
export function verdictLines(outcome: DemoOutcome): { lines: string[]; ok: boolean } {
  const expected = scriptedMinutes(demoScript());
  const lines: string[] = [];
  let ok = true;
  for (const [region, want] of Object.entries(expected)) {
    const got = outcome.report.regions[region];
    const down = got?.downMinutes ?? 0;
    const readOnly = got?.readOnlyMinutes ?? 0;
    const degraded = got?.degradedMinutes ?? 0;
    const good = Math.abs(down - want.downMinutes) <= DEMO_TOLERANCE_MINUTES && Math.abs(readOnly - want.readOnlyMinutes) <= DEMO_TOLERANCE_MINUTES && Math.abs(degraded - want.readOnlyMinutes) <= DEMO_TOLERANCE_MINUTES;
    ok &&= good;
    const scripted = want.downMinutes === 0 && want.readOnlyMinutes === 0 ? 'healthy throughout' : `${want.downMinutes} min down, ${want.readOnlyMinutes} min read-only`;
    const seen = down === 0 && degraded === 0 ? 'no interruption' : `${down} min down, ${degraded} min degraded (${readOnly} read-only)`;
    lines.push(`  ${region.toUpperCase().padEnd(4)}  script: ${scripted.padEnd(34)} regionwatch: ${seen.padEnd(44)} ${good ? 'ok' : `off by more than ${DEMO_TOLERANCE_MINUTES} min`}`);
  }
  return { lines, ok };
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'replay a scripted two-day incident on a fast clock against the whole pipeline; ends with the report',
  usage: `regionwatch demo [--speed N (default ${DEFAULT_DEMO_SPEED})] [--data-dir D (default a fresh temp dir)] [--port P (default 0: a free one)] [--json]`,
  options: {
    speed: { type: 'string', default: String(DEFAULT_DEMO_SPEED) },
    'data-dir': { type: 'string' },
    port: { type: 'string', default: '0' },
  },
  async run({ values }, io) {
    const speed = parsePositive('speed', values.speed);
    const port = parsePort(values.port);
    const json = values.json === true;
    const dataDir = values['data-dir'] === undefined ? mkdtempSync(join(tmpdir(), 'regionwatch-demo-')) : resolve(io.cwd, String(values['data-dir']));
    // Human output on stdout; with --json stdout carries only the report, everything else goes to stderr.
    const say = json ? io.err : io.out;
    const live = new LiveLine(process.stderr.isTTY ? { write: (text) => process.stderr.write(text) } : undefined, io.err, 0.1);
    let outcome: DemoOutcome;
    try {
      outcome = await runDemo({
        speed,
        dataDir,
        cwd: io.cwd,
        port,
        ...(io.signal ? { signal: io.signal } : {}),
        notificationLine: (line) => live.print(`  ${line}`, say),
        onStart: ({ statusUrl, dataDir: dir, script }) => {
          say(`regionwatch demo: a three-region platform (us, eu, apac) replays two bad days on a clock ×${speed}.`);
          say(`  the script  day 1: US down 20 min, then read-only 62 min after a failover`);
          say(`              day 2: US down 20 min, then an hour of fluctuations adding 19 min down; EU and APAC healthy`);
          say(`  watched by  probers as ${['us-east-1', 'eu-west-1', 'ap-southeast-1'].join(', ')}, quorum 2, rounds every 10 s (scenario time)`);
          say(`  status page ${statusUrl}   (open it while the demo runs)`);
          say(`  data        ${dir}`);
          say(`  scenario    ${script.windows.map((w) => `${w.label} ${shortTime(new Date(w.from).toISOString(), true)}–${shortTime(new Date(w.to).toISOString())}`).join(', ')} UTC (quiet time between is skipped)`);
          say('');
          say('notifications as they are sent:');
        },
        onProgress: (p) => {
          const regions = p.regions.map((r) => `${r.region.toUpperCase()} ${r.verdict}`).join(' · ') || 'starting';
          live.update(`  ${p.label} ${shortTime(new Date(p.slotMs).toISOString())} UTC ${bar(p.fraction)}  ${regions}  | ${count(p.openIncidents, 'open incident')} · ${count(p.notifications, 'notification')} sent`, p.fraction);
        },
      });
    } catch (error: unknown) {
      live.done();
      if (error instanceof DataDirError || error instanceof PortInUseError) {
        io.err(`regionwatch demo: ${error.message}`);
        return EXIT.usage;
      }
      throw error;
    }
    live.done();
    if (json) {
      io.out(JSON.stringify(outcome.report, null, 2));
      return outcome.completed ? EXIT.ok : EXIT.finding;
    }
    io.out('');
    io.out(`regionwatch demo: ${outcome.completed ? 'done' : 'interrupted'} in ${duration(outcome.wallSeconds)} (${outcome.scenarioMinutes} scenario minutes on a clock ×${speed})`);
    io.out('');
    for (const line of formatReport(outcome.report)) io.out(line);
    io.out('');
    io.out('what regionwatch saw against the script:');
    const verdict = verdictLines(outcome);
    for (const line of verdict.lines) io.out(line);
    io.out('');
    io.out(`${count(outcome.notifications.length, 'notification')} sent, each also in ${join(dataDir, 'notifications.jsonl')}:`);
    for (const n of outcome.notifications) io.out(`  ${formatNotificationLine(n)}`);
    const { fluctuations } = outcome;
    io.out(
      `day 2's hour of fluctuations (${shortTime(fluctuations.from)}–${shortTime(fluctuations.to)} UTC) sent ${count(fluctuations.pages, 'page')}: ${fluctuations.pages <= 3 ? 'one incident, no page storm' : 'too many'}`,
    );
    io.out('');
    io.out(`look again: regionwatch report --data-dir ${dataDir}   (also status, incidents)`);
    io.out(`the post-incident update, drafted: regionwatch retro --data-dir ${dataDir}`);
    return outcome.completed && verdict.ok ? EXIT.ok : EXIT.finding;
  },
};
