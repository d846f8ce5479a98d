// The README is the front door: its links lead somewhere, and it names every command the CLI has.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../lambda/cli/commands';

const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');

describe('README', () => {
  it('links only to files that exist, and to headings that exist in them', () => {
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(#[^)\s]+)?\)/g)].filter(([, target]) => !/^[a-z]+:/.test(target ?? ''));
    expect(links.length).toBeGreaterThan(5);
    for (const [, target, anchor] of links) {
      const file = new URL(target ?? '', root);
      expect(existsSync(file), `README links to ${target}`).toBe(true);
      if (anchor) {
        const slugs = readFileSync(file, 'utf8')
          .split('\n')
          .filter((line) => line.startsWith('#'))
          .map((line) => `#${line.replace(/^#+\s*/, '').toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')}`);
        expect(slugs, `README links to ${target}${anchor}`).toContain(anchor);
      }
    }
  });

  it('shows the two commands and lists every regionwatch command', () => {
    expect(readme).toContain('npm start');
    expect(readme).toContain('npm test');
    for (const command of COMMANDS) expect(readme, `README lists \`${command.name}\``).toMatch(new RegExp(`^\\|.*\`${command.name}[ \`]`, 'm'));
  });
});
