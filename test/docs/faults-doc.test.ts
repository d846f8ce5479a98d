// docs/faults.md cannot rot: every file it names exists, every test title it quotes is in that file, every scenario
// it names is a described scenario with expectations, and every row of the fault matrix has its line.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const doc = readFileSync(join(ROOT, 'docs', 'faults.md'), 'utf8');

/** `\'` in a title (as in a single-quoted source string) is the same title. */
const unescape = (text: string) => text.replace(/\\'/g, "'");

/** A backticked repository path, optionally followed by › "a test title". */
const REFERENCE = /`((?:test|scenarios|lib|lambda|bin|docs)\/[^`\s]+)`(?:\s*›\s*"([^"]+)")?/g;

function references(text: string): { file: string; title?: string }[] {
  return [...text.matchAll(REFERENCE)].map((m) => ({ file: m[1] ?? '', ...(m[2] !== undefined ? { title: unescape(m[2]) } : {}) }));
}

/** The table's lines: `| n | …`, one per row of the fault matrix. */
function rows(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    const m = /^\| (\d+) \|/.exec(line);
    if (m) out.set(Number(m[1]), line);
  }
  return out;
}

/** The rows of FAULTS.md that docs/faults.md maps, in order. */
const MAPPED_ROWS = Array.from({ length: 21 }, (_, n) => n + 1);

describe('docs/faults.md', () => {
  it('has one line for each row of the fault matrix, each with its five columns and a verdict, and a test named in each row', () => {
    const table = rows(doc);
    expect([...table.keys()]).toEqual(MAPPED_ROWS);
    for (const [n, line] of table) {
      const cells = line.split(' | ');
      expect(cells, `row ${n}`).toHaveLength(6);
      expect(references(line).length, `row ${n}`).toBeGreaterThan(0);
      // "must happen" always names where it is tested.
      expect(references(cells[2] ?? '').length, `row ${n} must happen`).toBeGreaterThan(0);
    }
  });

  it('names only files that exist, and quotes only test titles that are in those files', () => {
    const refs = references(doc);
    expect(refs.length).toBeGreaterThan(50);
    const missing: string[] = [];
    for (const { file, title } of refs) {
      const path = join(ROOT, file);
      if (!existsSync(path)) {
        missing.push(`${file}: no such file`);
        continue;
      }
      if (title === undefined) continue;
      const source = unescape(readFileSync(path, 'utf8'));
      if (!["'", '"', '`'].some((q) => source.includes(`${q}${title}${q}`))) missing.push(`${file}: no test titled "${title}"`);
    }
    expect(missing).toEqual([]);
  });

  it('names scenarios that the simulate test runs: described, with an expect block', () => {
    const scenarios = [...new Set(references(doc).map((r) => r.file).filter((f) => f.startsWith('scenarios/')))];
    expect(scenarios.length).toBeGreaterThan(10);
    for (const file of scenarios) {
      expect(file, file).toMatch(/^scenarios\/[^/]+\.json$/);
      const scenario = JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as { description?: unknown; expect?: unknown };
      expect(typeof scenario.description, file).toBe('string');
      expect(scenario.expect, file).toBeTypeOf('object');
    }
  });
});
