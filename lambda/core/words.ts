// How regionwatch writes counts and durations in sentences people read (pages, the terminal, error messages):
// one place, so "1 targets" or "3m" cannot creep back in one corner.

/** `1 target`, `3 targets`, `0 targets`; `plural` for nouns that do not just take an s (`1 key`, `2 keys` need none). */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

/** The noun alone, agreeing with `n` (for `from 1/3 probe regions`, where the count is written another way). */
export function noun(n: number, singular: string, plural = `${singular}s`): string {
  return n === 1 ? singular : plural;
}

/**
 * A duration as a sentence says it: `45 s`, `3 min`, `1 h 2 min`, `2 h`, `3 days 4 h`. Minutes are whole (rounded down:
 * an incident open 3 min 50 s has not been open 4 min); seconds show only under a minute.
 */
export function spokenDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const days = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (days > 0) return h > 0 ? `${count(days, 'day')} ${h} h` : count(days, 'day');
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  return `${m} min`;
}

/** `api`, `api and cert`, `api, cert and db`; past `max` names, `a, b, c and 4 more`. */
export function listOf(names: readonly string[], max = Number.POSITIVE_INFINITY): string {
  const shown = names.slice(0, max);
  const rest = names.length - shown.length;
  if (rest > 0) return `${shown.join(', ')} and ${rest} more`;
  if (shown.length <= 1) return shown[0] ?? '';
  return `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1] ?? ''}`;
}
