// `regionwatch schema`: the config's JSON Schema, derived from the zod schema.
import { EXIT, type Command } from './command';
import { configJsonSchema } from '../config/schema';

export const schemaCommand: Command = {
  name: 'schema',
  summary: "print the config's JSON Schema",
  usage: 'regionwatch schema',
  options: {},
  async run(_args, io) {
    io.out(JSON.stringify(configJsonSchema(), null, 2));
    return EXIT.ok;
  },
};
