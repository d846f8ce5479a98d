// Seeded randomness for the simulator. Every draw is a pure function of (seed, key), not of a shared stream, so a
// scenario's draws do not shift when an unrelated event is added, and the same seed always gives the same run.

/** cyrb53: a fast, well-mixed 53-bit string hash. */
function hash53(text: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** murmur3's finaliser over (h, x): a well-spread 32-bit result. */
function mix32(h: number, x: number): number {
  let k = Math.imul(h ^ (x | 0), 0x9e3779b1);
  k ^= k >>> 16;
  k = Math.imul(k, 0x85ebca6b);
  k ^= k >>> 13;
  k = Math.imul(k, 0xc2b2ae35);
  return k ^ (k >>> 16);
}

/** Draws in [0, 1) keyed by a string: the same seed and key give the same number. */
export class Draws {
  constructor(readonly seed: number) {}

  /** A number in [0, 1). */
  unit(key: string): number {
    return hash53(key, this.seed) / 2 ** 53;
  }

  /** An integer in [min, max]. */
  int(key: string, min: number, max: number): number {
    return min + Math.floor(this.unit(key) * (max - min + 1));
  }

  /** A stable 32-bit hash of a key, for the hot-path draws below (hash once, draw per slot). */
  keyHash(key: string): number {
    return hash53(key, this.seed) % 4294967296;
  }

  /** A number in [0, 1) from a key hash and two integers (say a slot and a salt), without building strings. */
  unitAt(keyHash: number, a: number, b: number): number {
    let h = mix32(keyHash ^ this.seed, a);
    h = mix32(h, b);
    return (h >>> 0) / 4294967296;
  }

  /** True with probability `p`. */
  chance(key: string, p: number): boolean {
    return p > 0 && this.unit(key) < p;
  }
}

/** mulberry32: a small sequential PRNG for generating randomised scenarios (benchmarks, property tests). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
