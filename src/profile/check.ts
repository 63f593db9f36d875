// Checking a kernel's output against its float64 reference before anything is timed.
import type { DType } from '../gpu/tensor.js';

/** An acceptance band: |gpu − ref| ≤ atol + rtol·|ref|. */
export interface Tol {
  /** Absolute tolerance. */
  atol: number;
  /** Relative tolerance (of |ref|). */
  rtol: number;
}

/**
 * Acceptance bands for the pre-timing check: |gpu − ref| ≤ atol + rtol·|ref|. A little looser
 * than tests/tolerances.ts (the tests sweep shapes; here any size may be asked for), still far
 * below the O(1) errors an indexing or formula bug produces.
 */
export const BENCH_TOL: Record<'gemm' | 'attention' | 'layernorm' | 'block' | 'conv', Record<DType, Tol>> = {
  gemm: { f32: { atol: 2e-4, rtol: 1e-3 }, f16: { atol: 2e-2, rtol: 1e-2 } },
  // an implicit GEMM over taps·cin products with weights scaled by 1/sqrt(fan-in): gemm's band
  conv: { f32: { atol: 2e-4, rtol: 1e-3 }, f16: { atol: 2e-2, rtol: 1e-2 } },
  attention: { f32: { atol: 1e-4, rtol: 1e-3 }, f16: { atol: 1e-2, rtol: 1e-2 } },
  layernorm: { f32: { atol: 1e-4, rtol: 1e-4 }, f16: { atol: 8e-3, rtol: 8e-3 } },
  // A whole DiT block: two LNs, six GEMMs and attention in sequence; f16 stores every
  // intermediate in f16 (the reference does not), so its band is wider.
  block: { f32: { atol: 5e-4, rtol: 1e-3 }, f16: { atol: 2e-2, rtol: 1e-2 } },
};

/** The outcome of compareRows: a GPU result against its float64 reference on some rows. */
export interface Check {
  /** No element out of tolerance (a non-finite GPU value always is). */
  ok: boolean;
  /** Rows compared (of `totalRows`). */
  rows: number;
  /** Rows of the whole result. */
  totalRows: number;
  /** Elements compared: rows × cols. */
  elements: number;
  /** Elements out of tolerance. */
  fails: number;
  /** The largest |gpu − ref| over the compared elements (Infinity when one is not finite). */
  maxAbsErr: number;
  /** The worst element when something failed: "row r, col c: gpu g vs ref r". */
  worst?: string;
  /** The band it was held to. */
  tol: Tol;
}

/**
 * A GPU result that does not match its reference (a kernel or model check, the ceiling kernels): the
 * message names what was checked and the worst element; nothing is timed or reported for it.
 */
export class WrongResultError extends Error {
  override name = 'WrongResultError';
  /** Stable, for a switch (the README's error table); `name` is the class's. */
  readonly code: string = 'ERR_WRONG_RESULT';
}

/** Compare rows `rows` of got [*, cols] with ref (ref row i ↔ rows[i]). */
export function compareRows(got: Float32Array, ref: ArrayLike<number>, rows: readonly number[], cols: number, totalRows: number, tol: Tol): Check {
  let fails = 0;
  let maxAbsErr = 0;
  let worstExcess = -Infinity;
  let worst = '';
  rows.forEach((r, i) => {
    for (let c = 0; c < cols; c++) {
      const g = got[r * cols + c]!;
      const e = ref[i * cols + c]!;
      const err = Math.abs(g - e);
      const excess = Number.isFinite(g) ? err - (tol.atol + tol.rtol * Math.abs(e)) : Infinity;
      if (Number.isFinite(err)) maxAbsErr = Math.max(maxAbsErr, err);
      else maxAbsErr = Infinity;
      if (excess > 0) fails++;
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = `row ${r}, col ${c}: gpu ${g} vs ref ${e}`;
      }
    }
  });
  return { ok: fails === 0, rows: rows.length, totalRows, elements: rows.length * cols, fails, maxAbsErr, ...(fails ? { worst } : {}), tol };
}

/** Throws WrongResultError (naming the worst element) unless the check passed. */
export function assertCheck(label: string, c: Check): void {
  if (c.ok) return;
  throw new WrongResultError(
    `${label}: result is WRONG — ${c.fails}/${c.elements} checked elements out of tolerance (atol ${c.tol.atol}, rtol ${c.tol.rtol}) ` +
      `over ${c.rows}/${c.totalRows} rows; worst at ${c.worst}. Refusing to report a time for a wrong kernel.`,
  );
}

