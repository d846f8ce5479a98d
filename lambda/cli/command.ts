// What every `regionwatch` command is: a name, a one-line summary, and a run function over parsed flags.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export const EXIT = { ok: 0, finding: 1, usage: 2 } as const;

/** Where a command writes; tests pass their own to capture output. */
export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
  /** Current working directory, for relative paths. */
  cwd: string;
  /** Cancels long-running commands (Ctrl-C). */
  signal?: AbortSignal;
  /** Where a command that asks questions (init) reads the answers, one per line; tests pass a stream they write to. */
  input?: NodeJS.ReadableStream;
  /** Writes a prompt without a line break (the terminal's own write); `out` when absent. */
  write?(text: string): void;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(args: { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] }, io: CommandIo): Promise<number>;
}

/** Options every command takes (DESIGN.md): the config file and machine-readable output. */
export const COMMON_OPTIONS = {
  config: { type: 'string', default: 'regionwatch.config.json' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** A usage mistake: exit 2 with the message and the command's usage line. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseCommandArgs(command: Command, argv: string[]) {
  try {
    return parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...command.options }, allowPositionals: true, strict: true });
  } catch (error: unknown) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}
