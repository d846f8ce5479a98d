// Dispatches `regionwatch <command>`: exit 0 on success, 1 on a finding, 2 on bad usage or bad config.
import { COMMANDS } from './commands';
import { EXIT, UsageError, parseCommandArgs, type CommandIo } from './command';
import { ConfigError } from '../config/load';

export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'regionwatch: a multi-region health checker',
    '',
    'usage: regionwatch <command> [--config FILE] [--json] [options]',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run regionwatch <command> --help for its options.',
  ].join('\n');
}

export async function main(argv: string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(helpText());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`regionwatch: unknown command "${name}"\n\n${helpText()}`);
    return EXIT.usage;
  }
  try {
    const args = parseCommandArgs(command, rest);
    if (args.values.help) {
      io.out(`usage: ${command.usage}\n\n${command.summary}`);
      return EXIT.ok;
    }
    return await command.run(args as { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] }, io);
  } catch (error: unknown) {
    if (error instanceof UsageError) {
      io.err(`regionwatch ${command.name}: ${error.message}\nusage: ${command.usage}`);
      return EXIT.usage;
    }
    if (error instanceof ConfigError) {
      io.err(error.message);
      return EXIT.usage;
    }
    throw error;
  }
}
