// What the word tests look for in any text regionwatch prints.

/** `1 targets`, `1 probe regions`, `1/1 probe regions`, `1 days`: a one with a plural noun after it (units and "1 of N" aside). */
export function wrongPlurals(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?<![\d.,/])1(?:\/1)? ((?:[a-z-]+ )?[a-z-]*[a-z]s)\b/g)) {
    const phrase = m[1] ?? '';
    if (/^(ms|s|is|was|has)$/.test(phrase) || /^(of|and|min|h|s|ms|day|in|from|at|to|for) /.test(phrase)) continue;
    found.push(m[0]);
  }
  return found;
}
