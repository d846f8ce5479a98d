// Structural equality of stored values: how the lifecycle tells an unchanged incident or status from a changed one.

/**
 * Whether `a` and `b` hold the same JSON value (`undefined` properties left out), without serialising them: object
 * keys compare as a set, not in order, because DynamoDB returns an item's attributes and a map's entries in no
 * particular order (FAULTS row 21): an item read back unchanged must compare equal to what the lifecycle derives, or
 * every stream batch rewrites it. decideRegion's copy shares every untouched segment and log entry with the stored
 * incident, so most of a long (flapping) incident compares by reference.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return typeof a === 'number' && typeof b === 'number' ? JSON.stringify(a) === JSON.stringify(b) : false;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let n = 0; n < a.length; n++) {
      // JSON writes an undefined element as null.
      if (!sameJson(a[n] === undefined ? null : a[n], b[n] === undefined ? null : b[n])) return false;
    }
    return true;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  let defined = 0;
  for (const k of Object.keys(ra)) {
    const va = ra[k];
    if (va === undefined) continue;
    defined++;
    const vb = rb[k];
    if (vb === undefined || !Object.hasOwn(rb, k) || !sameJson(va, vb)) return false;
  }
  for (const k of Object.keys(rb)) if (rb[k] !== undefined) defined--;
  return defined === 0;
}
