// The JSON Schema printed by `regionwatch schema` comes from the zod schema and agrees with it.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../lambda/config/load';
import { configJsonSchema } from '../../lambda/config/schema';
import { renderConfigReference } from '../../lambda/config/reference';

const example: unknown = JSON.parse(readFileSync(new URL('../../regionwatch.config.json', import.meta.url), 'utf8'));

function compile() {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats.default(ajv);
  return ajv.compile(configJsonSchema());
}

describe('config JSON Schema', () => {
  it('validates the committed example config', () => {
    const validate = compile();
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
  });

  it('rejects an unknown key and a wrong check type, as the CLI does', () => {
    const validate = compile();
    const bad = structuredClone(example) as { defaults: Record<string, unknown>; regions: { us: { targets: Record<string, unknown>[] } } };
    bad.defaults.failureTreshold = 2;
    expect(validate(bad)).toBe(false);
    const badType = structuredClone(example) as typeof bad;
    const first = badType.regions.us.targets[0];
    if (first) first.type = 'smtp';
    expect(validate(badType)).toBe(false);
  });

  it('accepts a $comment note (a string or lines) on every object a person edits; validation drops them all', () => {
    const note = ['why this is here', 'and what to check'];
    const commented = {
      $comment: 'top',
      platform: 'acme',
      probeRegions: ['us-east-1'],
      homeRegion: 'us-east-1',
      defaults: { $comment: note, quorum: 1 },
      regions: { us: { $comment: note, targets: [{ $comment: note, name: 'api', type: 'http', url: 'https://api.example/health', headers: { $comment: 'a header the user named so' } }] } },
      probing: { $comment: note },
      notifications: { $comment: note },
      maintenance: [{ $comment: note, region: 'us', start: '2026-12-01T02:00:00Z', end: '2026-12-01T03:00:00Z' }],
    };
    const validate = compile();
    expect(validate(commented), JSON.stringify(validate.errors)).toBe(true);
    const outcome = validateConfig(commented);
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    // Gone from what is deployed and stored, except inside headers, which are sent as written.
    expect(JSON.stringify(outcome.config).match(/\$comment/g)).toHaveLength(1);
    expect(outcome.config.regions.us?.targets[0]).toMatchObject({ headers: { $comment: 'a header the user named so' } });
    // Still only where the schema says: a typo'd note is an unknown key like any other.
    expect(validateConfig({ ...commented, defaults: { $coment: 'x', quorum: 1 } })).toMatchObject({ ok: false, problems: [{ path: 'defaults.$coment', message: 'unknown key "$coment"; did you mean "$comment"?' }] });
  });

  it('documents the keys DESIGN.md fixes', () => {
    const schema = configJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['platform', 'probeRegions', 'homeRegion', 'defaults', 'regions', 'notifications', 'maintenance']),
    );
    expect(schema.required).toEqual(['platform', 'probeRegions', 'homeRegion', 'regions']);
  });
});

describe('committed regionwatch.schema.json', () => {
  it('is exactly what `regionwatch schema` prints (regenerate: npx regionwatch schema > regionwatch.schema.json)', () => {
    const committed: unknown = JSON.parse(readFileSync(new URL('../../regionwatch.schema.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(configJsonSchema());
  });
});

describe('docs/config.md', () => {
  it('carries the reference generated from the schema (regenerate: npx tsx bin/config-reference.ts)', () => {
    const doc = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');
    expect(doc).toContain(renderConfigReference());
    expect(renderConfigReference()).toContain('| `defaults.quorum` | integer | `2` |');
  });
});
