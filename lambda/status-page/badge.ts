// A status badge per platform region (`badge/us.svg`), in the familiar two-part shape: the region, then its verdict now.
import type { Verdict } from '../core/notification';
import { notProbedOnly, type RegionStatus } from './model';
import { xmlEscape } from './feed';

const COLOUR: Record<Verdict, string> = {
  up: '#1f9d55',
  degraded: '#d99a00',
  'read-only': '#e8590c',
  down: '#d64545',
  maintenance: '#3b82f6',
  unknown: '#8a94a3',
};

const WORD: Record<Verdict, string> = {
  up: 'operational',
  degraded: 'degraded',
  'read-only': 'read-only',
  down: 'down',
  maintenance: 'maintenance',
  unknown: 'unknown',
};

/** Width of text in the badge's 11 px sans-serif, near enough for the box (no font metrics in a Lambda). */
function textWidth(text: string): number {
  let width = 0;
  for (const c of text) width += /[il.:|'!]/.test(c) ? 3.5 : /[mwMW]/.test(c) ? 10 : /[A-Z0-9]/.test(c) ? 7.5 : 6.5;
  return Math.ceil(width);
}

/**
 * The badge's words: `us` and `operational`, `recovering` while up inside an open incident, `not probed` while
 * regionwatch refuses every target of the region.
 */
export function badgeWords(status: RegionStatus): { left: string; right: string } {
  const right = status.verdict === 'up' && status.recovering ? 'recovering' : notProbedOnly(status) ? 'not probed' : WORD[status.verdict];
  return { left: status.region, right };
}

export function renderBadge(status: RegionStatus): string {
  const { left, right } = badgeWords(status);
  // The colour is the verdict now (green while recovering: the region is up); the word says the incident is still open.
  const colour = COLOUR[status.verdict];
  const lw = textWidth(left) + 12;
  const rw = textWidth(right) + 12;
  const w = lw + rw;
  const label = `${left}: ${right}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" role="img" aria-label="${xmlEscape(label)}">
<title>${xmlEscape(label)}</title>
<clipPath id="r"><rect width="${w}" height="20" rx="3"/></clipPath>
<g clip-path="url(#r)"><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${rw}" height="20" fill="${colour}"/></g>
<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">
<text x="${lw / 2}" y="14">${xmlEscape(left)}</text><text x="${lw + rw / 2}" y="14">${xmlEscape(right)}</text></g>
</svg>
`;
}
