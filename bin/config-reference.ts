// Regenerates the config reference in docs/config.md from the zod schema: npx tsx bin/config-reference.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { renderConfigReference, spliceReference } from '../lambda/config/reference';

const file = new URL('../docs/config.md', import.meta.url);
writeFileSync(file, spliceReference(readFileSync(file, 'utf8'), renderConfigReference()));
