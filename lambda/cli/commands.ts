// Every `regionwatch` command, in the order `regionwatch --help` lists them.
import type { Command } from './command';
import { costCommand } from './cost';
import { demoCommand } from './demo';
import { incidentsCommand } from './incidents';
import { initCommand } from './init';
import { localCommand } from './local';
import { notifyTestCommand } from './notify';
import { reportCommand } from './report';
import { retroCommand } from './retro';
import { schemaCommand } from './schema';
import { statusCommand } from './status';
import { simulateCommand } from './simulate';
import { validateCommand } from './validate';

export const COMMANDS: readonly Command[] = [initCommand, validateCommand, schemaCommand, costCommand, localCommand, demoCommand, simulateCommand, statusCommand, incidentsCommand, reportCommand, retroCommand, notifyTestCommand];
