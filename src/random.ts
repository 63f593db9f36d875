// Seeded PRNG (mulberry32) and Gaussian samples: the initial noise of `generate` (seed), random-weight
// presets, benchmark workloads and test data. Not a kernel reference, so not in src/ref.

/** The largest seed: the generator's state is 32 bits, so seeds are the integers 0..2^32 − 1. */
export const SEED_MAX = 0xffffffff;

/**
 * Whether `v` is a seed the generator tells apart from every other: an integer in 0..SEED_MAX.
 * `rng` reads `seed >>> 0`, so anything else aliases one of those (−1 is 2^32 − 1, 2^32 is 0, 1.5 is 1):
 * user-facing seeds (generate, Pipeline.generate, --seed) are refused unless this holds.
 */
export function isSeed(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= SEED_MAX;
}

/** Why `v` is not a seed (for an error message after the option's name), or undefined when it is one. */
export function seedProblem(v: unknown): string | undefined {
  if (isSeed(v)) return undefined;
  // a bigint is not a seed (a number is), and JSON.stringify throws on one
  const got = typeof v === 'number' ? String(v) : typeof v === 'bigint' ? `the bigint ${v}n` : (JSON.stringify(v) ?? String(v));
  return `an integer in 0..${SEED_MAX} (the noise generator's seed is 32 bits), got ${got}`;
}

/** Uniform values in [0, 1) from a 32-bit seed (the seed is taken modulo 2^32: check user seeds with isSeed). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` uniform values in [-scale, scale). */
export function uniform(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 2 - 1) * scale;
  return out;
}

/** `n` standard-normal values (Box–Muller) times `scale`. */
export function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(r(), 1e-12);
    const v = r();
    const m = Math.sqrt(-2 * Math.log(u)) * scale;
    out[i] = m * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = m * Math.sin(2 * Math.PI * v);
  }
  return out;
}
