// A seeded random source for tests that draw many random cases (the same cases on every run).

/** A seeded LCG in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** `n` random lifetimes (liveness tests): first use below `firstBelow`, lasting under `spanBelow` more dispatches, `bytes()` each. */
export function randomLifetimes(r: () => number, n: number, firstBelow: number, spanBelow: number, bytes: () => number): { bytes: number; first: number; last: number }[] {
  return Array.from({ length: n }, () => {
    const first = Math.floor(r() * firstBelow);
    const b = bytes();
    return { bytes: b, first, last: first + Math.floor(r() * spanBelow) };
  });
}
