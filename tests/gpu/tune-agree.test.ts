// The tuner's cross-check (tuneRequest: each candidate's output against the reference candidate's,
// max|a − b| ≤ atol + rtol·max|b|; f32 rtol 1e-3, f16 2e-2) at the size of a realistic tiling bug:
// one output column off by a few 1e-3 of the output's max (a tile edge or the last K element read
// wrong) must be rejected, while another GEMM kernel of the same product (f32 rounding noise only)
// and an error well under the tolerance are accepted. The wrong candidates scale one weight row
// (= one output column) by 1 + δ, in the column that holds max|y|, so they err by δ·max|y|.
import { describe, expect, it, vi } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { tuneRequest } from '../../src/gpu/tune.js';
import { gemm, gemmHeuristic, gemmStrategiesFor } from '../../src/ops/gemm.js';
import { gemmRef } from '../../src/ref/gemm.js';
import { roundF16 } from '../../src/gpu/half.js';
import { randn } from '../../src/random.js';
import type { Plan } from '../../src/gpu/plan.js';
import type { DType, Tensor } from '../../src/gpu/tensor.js';

const [M, K, N] = [12, 64, 40];

describe.skipIf(!hasGpu)('tuner cross-check tolerance', () => {
  const cases: [DType, Record<string, number>, string[]][] = [
    // δ: 3e-4 (accepted, under rtol 1e-3), 3e-3 and 1e-2 (rejected: a few 1e-3 of max)
    ['f32', { near: 3e-4, off3e3: 3e-3, off1e2: 1e-2 }, ['off3e3', 'off1e2']],
    // f16 (output rounding 2^-11 ≈ 4.9e-4): δ 5e-3 accepted, 5e-2 rejected (rtol 2e-2)
    ['f16', { near: 5e-3, off5e2: 5e-2 }, ['off5e2']],
  ];
  for (const [dtype, deltas, wantRejected] of cases) {
    it.skipIf(dtype === 'f16' && !gpu?.f16)(`${dtype}: a candidate off by ${Object.entries(deltas).filter(([n]) => wantRejected.includes(n)).map(([, d]) => d).join(', ')} of max|y| is rejected; another kernel and δ ${deltas.near} pass`, async () => {
      const round = (a: Float32Array) => (dtype === 'f16' ? a.map(roundF16) : a);
      const x = round(randn(M * K, 11));
      const w = round(randn(N * K, 12, 1 / 8));
      const y = gemmRef(x, w, { M, K, N });
      let n0 = 0;
      y.forEach((v, i) => Math.abs(v) > Math.abs(y[n0]!) && (n0 = i));
      n0 %= N; // the column of max|y|
      const heuristic = gemmHeuristic(gpu!, M, N);
      const other = gemmStrategiesFor(gpu!).find((s) => s !== heuristic && s !== 'gemv')!; // another tiling of the same product
      expect(other).toBeTruthy();
      const bench = (p: Plan, name: string): Tensor => {
        const d = deltas[name] ?? 0;
        const wc = Float32Array.from(w);
        for (let k = 0; k < K; k++) wc[n0 * K + k]! *= 1 + d;
        const out = p.alloc.tensor([M, N], dtype, 'y');
        gemm(p, { x: p.alloc.upload(x, [M, K], dtype, 'x'), w: p.alloc.upload(wc, [N, K], dtype, 'w'), out, strategy: name === 'other' ? other : heuristic });
        return out;
      };
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      try {
        const entry = await tuneRequest(gpu!, { family: 'test', bucket: dtype, candidates: ['right', 'other', ...Object.keys(deltas)], heuristic: 'right', flops: 2 * M * N * K, args: () => { throw new Error('unused'); }, bench }, { rounds: 1 });
        expect(entry.rejected ?? []).toEqual(wantRejected);
        expect(Object.keys(entry.ms).sort()).toEqual(['right', 'other', 'near'].sort());
        expect(warn.mock.calls.map((c) => String(c[0]).replace(/max \|diff\| [^)]*/, 'max |diff| …'))).toEqual(
          wantRejected.map((n) => `[tessera] tuning test ${dtype}: candidate ${n} disagrees with right (max |diff| …); not used`),
        );
      } finally {
        warn.mockRestore();
      }
    });
  }
});
