// Renders the config reference (docs/config.md) from the JSON Schema, so the documentation cannot drift from the code.
import { configJsonSchema } from './schema';

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  required?: string[];
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
};

interface Row {
  key: string;
  type: string;
  required: boolean;
  defaultValue: string;
  description: string;
}

const BEGIN = '<!-- BEGIN GENERATED: config reference (regenerate: npx tsx bin/config-reference.ts) -->';
const END = '<!-- END GENERATED -->';

function typeOf(schema: JsonSchema): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  const options = schema.anyOf ?? schema.oneOf;
  if (options) return options.map(typeOf).join(' \\| ');
  const type = Array.isArray(schema.type) ? schema.type.join(' \\| ') : (schema.type ?? 'any');
  if (type === 'array' && schema.items) return `array of ${typeOf(schema.items)}`;
  if (schema.format) return `${type} (${schema.format})`;
  return type;
}

function constraints(schema: JsonSchema): string {
  const parts: string[] = [];
  const safe = 9007199254740991;
  if (schema.minimum !== undefined && schema.minimum > -safe) parts.push(`≥ ${schema.minimum}`);
  if (schema.maximum !== undefined && schema.maximum < safe) parts.push(`≤ ${schema.maximum}`);
  if (schema.pattern && !schema.format) parts.push(`pattern \`${schema.pattern}\``);
  return parts.join(', ');
}

function rowsOf(schema: JsonSchema, prefix: string, rows: Row[], requiredHere: boolean): void {
  const objectLike = schema.properties !== undefined;
  if (prefix !== '') {
    const extra = constraints(schema);
    rows.push({
      key: prefix,
      type: objectLike ? 'object' : typeOf(schema),
      required: requiredHere && schema.default === undefined,
      defaultValue: schema.default === undefined ? '' : `\`${JSON.stringify(schema.default)}\``,
      description: [schema.description ?? '', extra].filter(Boolean).join(' '),
    });
  }
  if (schema.properties) {
    for (const [key, child] of Object.entries(schema.properties)) {
      if (key === '$schema') continue;
      rowsOf(child, prefix === '' ? key : `${prefix}.${key}`, rows, schema.required?.includes(key) ?? false);
    }
  }
  if (schema.items?.properties) rowsOf({ ...schema.items, description: undefined, default: undefined }, `${prefix}[]`, rows, false);
  if (typeof schema.additionalProperties === 'object' && schema.additionalProperties.properties) {
    rowsOf(schema.additionalProperties, `${prefix}.<name>`, rows, false);
  }
}

function table(rows: Row[]): string {
  const escape = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    '| key | type | default | meaning |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| \`${r.key}\`${r.required ? ' (required)' : ''} | ${r.type} | ${r.defaultValue} | ${escape(r.description)} |`),
  ].join('\n');
}

/** The generated part of docs/config.md: the top-level keys, then one table per check type. */
export function renderConfigReference(): string {
  const schema = configJsonSchema() as JsonSchema;
  const top: Row[] = [];
  const regions = schema.properties?.regions;
  rowsOf({ ...schema, properties: Object.fromEntries(Object.entries(schema.properties ?? {}).filter(([k]) => k !== 'regions')) }, '', top, true);
  top.push({
    key: 'regions.<name>.targets',
    type: 'array of target',
    required: true,
    defaultValue: '`[]`',
    description: `${regions?.description ?? ''} Platform region names match \`${(regions as { propertyNames?: JsonSchema } | undefined)?.propertyNames?.pattern ?? ''}\`; targets are below, by type.`,
  });
  const sections = ['### Top level', '', table(top)];
  const targetSchema = (regions?.additionalProperties as JsonSchema | undefined)?.properties?.targets?.items;
  for (const option of targetSchema?.oneOf ?? targetSchema?.anyOf ?? []) {
    const rows: Row[] = [];
    rowsOf(option, '', rows, true);
    const type = option.properties?.type;
    const label = type ? typeOf(type).replace(/\\\|/g, '/') : 'target';
    sections.push('', `### Target of type ${label}: \`regions.<name>.targets[]\``, '', option.description ?? '', '', table(rows));
  }
  return `${BEGIN}\n${sections.join('\n')}\n${END}`;
}

/** Replaces the generated block of a markdown document, leaving the hand-written text around it. */
export function spliceReference(document: string, generated: string): string {
  const start = document.indexOf(BEGIN);
  const end = document.indexOf(END);
  if (start === -1 || end === -1) return `${document.trimEnd()}\n\n${generated}\n`;
  return `${document.slice(0, start)}${generated}${document.slice(end + END.length)}`;
}
