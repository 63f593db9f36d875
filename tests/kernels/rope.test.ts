import { describe, expect, it } from 'vitest';
import { dtypes, hasGpu, runOnce } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { TOL } from '../tolerances.js';
import { rope, ropeSplit, ropeTable } from '../../src/ops/rope.js';
import { ropeRef } from '../../src/ref/rope.js';
import { randn } from '../../src/random.js';
import { roundF16 } from '../../src/gpu/half.js';
import type { DType } from '../../src/gpu/tensor.js';

// [B, F', H', W', heads, headDim]: Wan 12×128 and the diffusers test config 2×12, DiT/Latte head
// dims 64/72, odd grids, size-1 axes, Dh < 6 (temporal only), large positions (angles ~ 1000 rad).
const SHAPES: [number, number, number, number, number, number][] = [
  [1, 1, 1, 1, 1, 2], [1, 2, 3, 4, 2, 12], [2, 3, 2, 5, 12, 128], [1, 21, 1, 2, 1, 128], [2, 1, 7, 3, 3, 64],
  [1, 4, 4, 4, 16, 72], [3, 2, 2, 2, 6, 64], [1, 1, 1, 9, 5, 18], [1, 5, 3, 1, 2, 20], [2, 2, 5, 3, 1, 4],
  [1, 3, 3, 3, 4, 36], [1, 1, 30, 1, 1, 128], [1, 1, 1, 52, 2, 128], [2, 6, 1, 1, 3, 30], [1, 2, 2, 7, 7, 14],
  [4, 1, 2, 2, 2, 128], [1, 7, 5, 3, 1, 96], [1, 2, 9, 2, 12, 128], [1, 1, 3, 11, 2, 60], [2, 3, 1, 4, 5, 8],
  [1, 81, 1, 1, 1, 128],
];

const round = (a: Float32Array, d: DType) => (d === 'f16' ? a.map(roundF16) : a);

describe.skipIf(!hasGpu)('rope kernel vs float64 reference', () => {
  it("splits the head dim like diffusers' WanRotaryPosEmbed (t = Dh − 4⌊Dh/6⌋, h = w = 2⌊Dh/6⌋)", () => {
    expect(ropeSplit(128)).toEqual([22, 21, 21]);
    expect(ropeSplit(12)).toEqual([2, 2, 2]);
    expect(ropeSplit(72)).toEqual([12, 12, 12]);
    expect(ropeSplit(4)).toEqual([2, 0, 0]);
    expect(() => ropeSplit(7)).toThrow(/even/);
  });

  it('table matches float64 cos/sin of pos·θ^(−2j/d) rounded to f32', () => {
    const tab = ropeTable([3, 4, 5], 128);
    // token (f=2, h=3, w=4), pair 22 = first h pair (freq 1), pair 43 = first w pair, pair 1 = second t pair
    const l = (2 * 4 + 3) * 5 + 4;
    expect(tab[(l * 64 + 22) * 2]).toBe(Math.fround(Math.cos(3)));
    expect(tab[(l * 64 + 43) * 2 + 1]).toBe(Math.fround(Math.sin(4)));
    expect(tab[(l * 64 + 1) * 2 + 1]).toBe(Math.fround(Math.sin(2 * 10000 ** (-2 / 44))));
  });

  for (const dtype of dtypes) {
    SHAPES.forEach(([B, Fp, Hp, Wp, H, Dh], i) => {
      const fused = i % 4 === 2; // rotate k inside a fused [q|k|v] row
      // the GPU layout (one invocation per vec4 of pairs) on every head dim that allows it, forced
      // here (a CPU adapter's default is the per-head loop, which the other half runs)
      const vec4 = Dh % 4 === 0 && (i % 2 === 1 || i % 8 === 2);
      it(`${dtype} B=${B} grid[${Fp},${Hp},${Wp}] ${H}x${Dh}${fused ? ' fused-qkv' : ''}${vec4 ? ' vec4' : ''}`, async () => {
        const L = Fp * Hp * Wp, D = H * Dh;
        const theta = i === 5 ? 500 : 10000;
        const x = round(randn(B * L * D, 20 + i), dtype);
        const row = fused ? 3 * D : D;
        // fused: x sits in the k section; q/v sections hold other data that must stay untouched
        const full = fused ? round(randn(B * L * row, 70 + i), dtype) : x;
        if (fused) for (let r = 0; r < B * L; r++) full.set(x.subarray(r * D, (r + 1) * D), r * row + D);
        const got = await runOnce((plan, alloc) => {
          const xt = alloc.upload(full, [B, L, row], dtype, 'x');
          const table = alloc.upload(ropeTable([Fp, Hp, Wp], Dh, theta), [L, Dh / 2, 2], 'f32', 'rope');
          return rope(plan, { x: xt, table, heads: H, headDim: Dh, vec4, ...(fused ? { rowStride: row, offset: D } : {}) });
        });
        const ref = ropeRef(x, { grid: [Fp, Hp, Wp], heads: H, headDim: Dh, theta });
        const want = Float64Array.from(full);
        for (let r = 0; r < B * L; r++) want.set(ref.subarray(r * D, (r + 1) * D), r * row + (fused ? D : 0));
        expectClose(got, want, [B, L, row], TOL.rope![dtype], `rope ${dtype}`);
      });
    });
  }

  it('vec4 on a head dim, stride or offset not a multiple of 4 is refused naming them', async () => {
    await expect(
      runOnce((plan, alloc) => rope(plan, { x: alloc.tensor([1, 4, 36], 'f32', 'q'), table: alloc.tensor([4, 9, 2], 'f32', 'rope'), heads: 2, headDim: 18, vec4: true })),
    ).rejects.toThrow(/vec4 needs headDim \(18\)/);
  });

  it('rejects a table whose token count does not divide x', async () => {
    await expect(
      runOnce((plan, alloc) => rope(plan, { x: alloc.tensor([1, 6, 24], 'f32', 'q'), table: alloc.tensor([4, 6, 2], 'f32', 'rope'), heads: 2, headDim: 12 })),
    ).rejects.toThrow(/6 tokens, not a multiple of the table's L=4/);
  });

});
