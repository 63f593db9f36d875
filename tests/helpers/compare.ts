// |gpu − ref| ≤ atol + rtol·|ref|, element-wise; on failure, the worst element with its
// multi-index and both values, plus the count of failures.
import { expect } from 'vitest';

export interface Tol {
  atol: number;
  rtol: number;
}

function multiIndex(flat: number, shape: readonly number[]): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(flat % shape[d]!);
    flat = Math.floor(flat / shape[d]!);
  }
  return `[${idx.join(',')}]`;
}

export function compare(got: ArrayLike<number>, ref: ArrayLike<number>, shape: readonly number[], tol: Tol) {
  let fails = 0;
  let worst = -1;
  let worstExcess = -Infinity;
  let maxAbs = 0;
  for (let i = 0; i < ref.length; i++) {
    const g = got[i]!;
    const r = ref[i]!;
    const err = Math.abs(g - r);
    const allowed = tol.atol + tol.rtol * Math.abs(r);
    const excess = Number.isFinite(g) ? err - allowed : Infinity;
    if (err > maxAbs || !Number.isFinite(g)) maxAbs = Number.isFinite(g) ? Math.max(maxAbs, err) : Infinity;
    if (excess > 0) fails++;
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  return { fails, worst, maxAbs, worstAt: worst >= 0 ? multiIndex(worst, shape) : '' };
}

/** Asserts closeness; `what` names the case in the failure message. */
export function expectClose(got: ArrayLike<number>, ref: ArrayLike<number>, shape: readonly number[], tol: Tol, what: string): void {
  expect(got.length, `${what}: length`).toBe(ref.length);
  const c = compare(got, ref, shape, tol);
  if (c.fails > 0) {
    const w = c.worst;
    const first = Array.from({ length: Math.min(5, ref.length) }, (_, i) => `(${got[i]}, ${ref[i]})`).join(' ');
    expect.fail(
      `${what}: ${c.fails}/${ref.length} elements out of tolerance (atol ${tol.atol}, rtol ${tol.rtol}); ` +
        `worst at ${c.worstAt}: gpu ${got[w]} vs ref ${ref[w]} (|diff| ${Math.abs(got[w]! - ref[w]!)}); first pairs ${first}`,
    );
  }
}

/** The golden cases' metric: max|got − want| / max|want| (a NaN in `got` makes it Infinity). */
export function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let e = 0;
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    e = Number.isNaN(d) ? Infinity : Math.max(e, d);
    m = Math.max(m, Math.abs(want[i]!));
  }
  return e / m;
}
