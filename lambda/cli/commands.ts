// Every `regionwatch` command, in the order `regionwatch --help` lists them.
import type { Command } from './command';
import { costCommand } from './cost';
import { schemaCommand } from './schema';
import { validateCommand } from './validate';

export const COMMANDS: readonly Command[] = [validateCommand, schemaCommand, costCommand];
