// Every `regionwatch` command, in the order `regionwatch --help` lists them.
import type { Command } from './command';
import { costCommand } from './cost';
import { demoCommand } from './demo';
import { localCommand } from './local';
import { schemaCommand } from './schema';
import { simulateCommand } from './simulate';
import { validateCommand } from './validate';

export const COMMANDS: readonly Command[] = [validateCommand, schemaCommand, costCommand, localCommand, demoCommand, simulateCommand];
