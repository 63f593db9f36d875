import { describe, expect, it } from 'vitest';
import { dtypes, hasGpu, runOnce } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { TOL } from '../tolerances.js';
import { patchify, unpatchify, type PatchOrder } from '../../src/ops/patchify.js';
import { patchifyRef, unpatchifyRef } from '../../src/ref/patchify.js';
import { randn } from '../../src/random.js';
import { roundF16 } from '../../src/gpu/half.js';
import type { DType } from '../../src/gpu/tensor.js';

// [B, C, F, H, W, pt, ph, pw]: Wan (1,2,2) with 16 channels, DiT/Latte 2D (pt=1, F=1 or frames
// folded), odd sizes, size-1 dims and patches, batch > 1, temporal patches.
const SHAPES: [number, number, number, number, number, number, number, number][] = [
  [1, 1, 1, 1, 1, 1, 1, 1], [1, 16, 3, 6, 10, 1, 2, 2], [2, 16, 2, 4, 4, 1, 2, 2], [1, 4, 1, 8, 8, 1, 2, 2],
  [3, 4, 1, 6, 2, 1, 2, 2], [2, 4, 5, 4, 6, 1, 2, 2], [1, 3, 4, 9, 15, 2, 3, 5], [2, 5, 6, 7, 3, 3, 7, 1],
  [1, 1, 7, 5, 9, 1, 1, 1], [1, 2, 2, 2, 2, 2, 2, 2], [4, 8, 1, 2, 4, 1, 1, 4], [1, 16, 1, 12, 14, 1, 2, 2],
  [2, 3, 3, 3, 3, 3, 1, 3], [1, 7, 2, 10, 6, 2, 5, 3], [1, 16, 4, 2, 2, 4, 2, 2], [5, 1, 1, 4, 4, 1, 4, 4],
  [1, 8, 9, 2, 4, 1, 2, 2], [2, 16, 1, 16, 16, 1, 2, 2], [1, 6, 3, 1, 5, 1, 1, 5], [3, 2, 2, 6, 6, 1, 3, 2],
  [1, 4, 8, 4, 4, 1, 2, 2],
];

const round = (a: Float32Array, d: DType) => (d === 'f16' ? a.map(roundF16) : a);

/** Generic permute of a row-major array (what torch.permute(...).contiguous() does). */
function permuteND(x: ArrayLike<number>, shape: number[], perm: number[]): Float64Array {
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(n);
  const idx = new Array(outShape.length).fill(0);
  for (let o = 0; o < n; o++) {
    let src = 0;
    for (let k = 0; k < perm.length; k++) src += idx[k] * inStrides[perm[k]!]!;
    out[o] = x[src]!;
    for (let k = outShape.length - 1; k >= 0; k--) {
      if (++idx[k] < outShape[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}

describe.skipIf(!hasGpu)('patchify / unpatchify vs float64 reference (exact)', () => {
  for (const dtype of dtypes) {
    SHAPES.forEach(([B, C, F, H, W, pt, ph, pw], i) => {
      const order: PatchOrder = i % 2 ? 'c-last' : 'c-first';
      const dims = { B, C, F, H, W, patch: [pt, ph, pw] as [number, number, number] };
      const N = (F / pt) * (H / ph) * (W / pw), K = C * pt * ph * pw;
      it(`${dtype} x[${B},${C},${F},${H},${W}] p[${pt},${ph},${pw}] ${order}`, async () => {
        const x = round(randn(B * C * F * H * W, 10 + i), dtype);
        const tok = await runOnce((plan, alloc) =>
          patchify(plan, { x: alloc.upload(x, [B, C, F, H, W], dtype, 'x'), out: alloc.tensor([B, N, K], dtype, 'tok'), patch: [pt, ph, pw], order }),
        );
        expectClose(tok, patchifyRef(x, { ...dims, order }), [B, N, K], TOL.patchify![dtype], `patchify ${dtype}`);
        // unpatchify with the other order from random tokens, and the round trip with the same order
        const other: PatchOrder = order === 'c-last' ? 'c-first' : 'c-last';
        const t2 = round(randn(B * N * K, 50 + i), dtype);
        const lat = await runOnce((plan, alloc) =>
          unpatchify(plan, { x: alloc.upload(t2, [B, N, K], dtype, 't'), out: alloc.tensor([B, C, F, H, W], dtype, 'y'), patch: [pt, ph, pw], grid: [F / pt, H / ph, W / pw], channels: C, order: other }),
        );
        expectClose(lat, unpatchifyRef(t2, { ...dims, order: other }), [B, C, F, H, W], TOL.patchify![dtype], `unpatchify ${dtype}`);
        const back = await runOnce((plan, alloc) =>
          unpatchify(plan, { x: alloc.upload(tok, [B, N, K], dtype, 't'), out: alloc.tensor([B, C, F, H, W], dtype, 'y'), patch: [pt, ph, pw], grid: [F / pt, H / ph, W / pw], channels: C, order }),
        );
        expectClose(back, x, [B, C, F, H, W], TOL.patchify![dtype], `round trip ${dtype}`);
      });
    });
  }

  it("c-first patchify + GEMM with the Conv3d weight reshaped [D, C·pt·ph·pw] equals the strided Conv3d", async () => {
    const [B, C, F, H, W, pt, ph, pw, D] = [2, 3, 4, 6, 4, 2, 3, 2, 5];
    const [Fp, Hp, Wp] = [F / pt, H / ph, W / pw];
    const N = Fp * Hp * Wp, K = C * pt * ph * pw;
    const x = randn(B * C * F * H * W, 1);
    const wt = randn(D * K, 2); // [D, C, pt, ph, pw]
    const tok = await runOnce((plan, alloc) => patchify(plan, { x: alloc.upload(x, [B, C, F, H, W], 'f32', 'x'), out: alloc.tensor([B, N, K], 'f32', 't'), patch: [pt, ph, pw] }));
    const gemm = new Float64Array(B * N * D);
    const conv = new Float64Array(B * N * D); // Conv3d output [B, D, F', H', W'] flattened + transposed
    for (let b = 0; b < B; b++)
      for (let n = 0; n < N; n++)
        for (let d = 0; d < D; d++) for (let k = 0; k < K; k++) gemm[(b * N + n) * D + d] += tok[(b * N + n) * K + k]! * wt[d * K + k]!;
    for (let b = 0; b < B; b++)
      for (let d = 0; d < D; d++)
        for (let f = 0; f < Fp; f++)
          for (let h = 0; h < Hp; h++)
            for (let w = 0; w < Wp; w++) {
              let s = 0;
              for (let c = 0; c < C; c++)
                for (let kt = 0; kt < pt; kt++)
                  for (let kh = 0; kh < ph; kh++)
                    for (let kw = 0; kw < pw; kw++)
                      s += x[(((b * C + c) * F + f * pt + kt) * H + h * ph + kh) * W + w * pw + kw]! * wt[(((d * C + c) * pt + kt) * ph + kh) * pw + kw]!;
              conv[(b * N + (f * Hp + h) * Wp + w) * D + d] = s;
            }
    expectClose(gemm, conv, [B, N, D], { atol: 1e-9, rtol: 1e-9 }, 'conv3d equivalence');
  });

  it("c-last unpatchify equals Wan's reshape [B,F',H',W',pt,ph,pw,C] + permute(0,7,1,4,2,5,3,6)", async () => {
    const [B, C, Fp, Hp, Wp, pt, ph, pw] = [2, 3, 2, 3, 2, 2, 2, 3];
    const K = pt * ph * pw * C, N = Fp * Hp * Wp;
    const t = randn(B * N * K, 3);
    const got = await runOnce((plan, alloc) =>
      unpatchify(plan, { x: alloc.upload(t, [B, N, K], 'f32', 't'), out: alloc.tensor([B, C, Fp * pt, Hp * ph, Wp * pw], 'f32', 'y'), patch: [pt, ph, pw], grid: [Fp, Hp, Wp], channels: C }),
    );
    const want = permuteND(t, [B, Fp, Hp, Wp, pt, ph, pw, C], [0, 7, 1, 4, 2, 5, 3, 6]);
    expectClose(got, want, [B, C, Fp * pt, Hp * ph, Wp * pw], { atol: 0, rtol: 0 }, 'wan unpatchify');
  });

  it("Latte: per-frame 'nhwpqc->nchpwq' on [(B·F),S,K] then [B,F,C,H,W]→[B,C,F,H,W] equals unpatchify on [B,F·S,K]", async () => {
    const [B, Fr, C, Hp, Wp, p] = [2, 3, 4, 3, 2, 2];
    const K = p * p * C, S = Hp * Wp;
    const t = randn(B * Fr * S * K, 4);
    const got = await runOnce((plan, alloc) =>
      unpatchify(plan, { x: alloc.upload(t, [B * Fr, S, K], 'f32', 't'), out: alloc.tensor([B, C, Fr, Hp * p, Wp * p], 'f32', 'y'), patch: [1, p, p], grid: [Fr, Hp, Wp], channels: C }),
    );
    const frames = permuteND(t, [B * Fr, Hp, Wp, p, p, C], [0, 5, 1, 3, 2, 4]); // nhwpqc->nchpwq
    const want = permuteND(frames, [B, Fr, C, Hp * p, Wp * p], [0, 2, 1, 3, 4]);
    expectClose(got, want, [B, C, Fr, Hp * p, Wp * p], { atol: 0, rtol: 0 }, 'latte unpatchify');
  });

  it('DiT: 4-D latent [B,C,H,W] with patch [1,p,p]', async () => {
    const [B, C, H, W] = [3, 4, 6, 8];
    const t = randn(B * 12 * 16, 5);
    const got = await runOnce((plan, alloc) =>
      unpatchify(plan, { x: alloc.upload(t, [B, 12, 16], 'f32', 't'), out: alloc.tensor([B, C, H, W], 'f32', 'y'), patch: [1, 2, 2], grid: [1, 3, 4], channels: C }),
    );
    const want = permuteND(t, [B, 3, 4, 2, 2, C], [0, 5, 1, 3, 2, 4]);
    expectClose(got, want, [B, C, H, W], { atol: 0, rtol: 0 }, 'dit unpatchify');
  });

  it('rejects indivisible sizes and mismatched grids with clear errors', async () => {
    await expect(runOnce((plan, alloc) => patchify(plan, { x: alloc.tensor([1, 4, 1, 5, 4], 'f32', 'x'), out: alloc.tensor([1, 4, 16], 'f32', 't'), patch: [1, 2, 2] }))).rejects.toThrow(/height H=5 is not divisible by ph=2/);
    await expect(runOnce((plan, alloc) => patchify(plan, { x: alloc.tensor([1, 4, 3, 4, 4], 'f32', 'x'), out: alloc.tensor([1, 4, 16], 'f32', 't'), patch: [2, 2, 2] }))).rejects.toThrow(/frames F=3 is not divisible by pt=2/);
    await expect(runOnce((plan, alloc) => patchify(plan, { x: alloc.tensor([1, 4, 1, 4, 4], 'f32', 'x'), out: alloc.tensor([1, 4, 15], 'f32', 't'), patch: [1, 2, 2] }))).rejects.toThrow(/last dim 15, expected K=16/);
    await expect(runOnce((plan, alloc) => unpatchify(plan, { x: alloc.tensor([1, 4, 16], 'f32', 't'), out: alloc.tensor([1, 4, 1, 4, 4], 'f32', 'y'), patch: [1, 2, 2], grid: [1, 2, 3], channels: 4 }))).rejects.toThrow(/grid \[1,2,3\] does not match/);
    await expect(runOnce((plan, alloc) => unpatchify(plan, { x: alloc.tensor([1, 4, 16], 'f32', 't'), out: alloc.tensor([1, 4, 1, 4, 4], 'f32', 'y'), patch: [1, 2, 2], grid: [1, 2, 2], channels: 8 }))).rejects.toThrow(/channels=8 but out/);
  });

});
