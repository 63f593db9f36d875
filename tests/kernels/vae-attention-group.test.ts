// The VAE mid-block attention over several images per dispatch (vaeAttention's `group`, the images along
// the grid's z, attentionImageGroup's choice): each image attends to itself alone, against the float64
// reference per image; groups that do not divide the images (a last, smaller group), one pixel per image,
// query blocks per image, C past the flash kernel's 128, f32 and f16 (tests/tolerances.ts). The decoder
// then dispatches 3 per group instead of 3 per image.
import { describe, expect, it } from 'vitest';
import { dtypes, gpu, hasGpu, runOnce } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { TOL } from '../tolerances.js';
import { ATTENTION_GROUP_BYTES, attentionImageGroup, vaeAttention } from '../../src/ops/vae-attention.js';
import { vaeAttentionRef } from '../../src/ref/vae-attention.js';
import { randn } from '../../src/random.js';
import { roundF16 } from '../../src/gpu/half.js';
import { Allocator, type DType } from '../../src/gpu/tensor.js';
import { Plan } from '../../src/gpu/plan.js';

const round = (a: Float32Array, d: DType) => (d === 'f16' ? a.map(roundF16) : a);
const MiB = 2 ** 20;

describe('attentionImageGroup: images per dispatch', () => {
  it('whole images up to ATTENTION_GROUP_BYTES of probabilities, else one at a time in row blocks', () => {
    expect(ATTENTION_GROUP_BYTES).toBe(64 * 1024);
    expect(attentionImageGroup(16, 12, 128 * MiB)).toEqual({ group: 12, blockRows: 16 }); // a 4×4 latent frame: 1 KiB each
    expect(attentionImageGroup(64, 12, 128 * MiB)).toEqual({ group: 4, blockRows: 64 }); // 16 KiB each
    expect(attentionImageGroup(63, 3, 128 * MiB)).toEqual({ group: 3, blockRows: 63 });
    expect(attentionImageGroup(128, 4, 128 * MiB)).toEqual({ group: 1, blockRows: 128 }); // 64 KiB: one image per dispatch
    expect(attentionImageGroup(1024, 4, 128 * MiB)).toEqual({ group: 1, blockRows: 1024 });
    expect(attentionImageGroup(6240, 2, 128 * MiB)).toEqual({ group: 1, blockRows: 5377 }); // row blocks: one image at a time
    expect(attentionImageGroup(32, 9, 8 * 1024)).toEqual({ group: 2, blockRows: 32 }); // a small binding limits the group too
    expect(attentionImageGroup(1, 100000, 128 * MiB).group).toBe(16384); // one pixel: 4 bytes each
  });
});

// [images, group, L, C, blockRows]
const CASES: [number, number, number, number, number][] = [
  [5, 2, 13, 16, 13], [3, 3, 7, 384, 7], [4, 4, 1, 8, 1], [7, 3, 9, 24, 9], [2, 2, 20, 130, 20], [6, 4, 5, 3, 5],
];

describe.skipIf(!hasGpu)('vae_attention kernel: several images per dispatch vs float64 reference per image', () => {
  for (const dtype of dtypes) {
    CASES.forEach(([N, G, L, C, R], i) => {
      it(`${dtype} ${N} images, ${G} per dispatch, L=${L} C=${C}`, async () => {
        const [q, k, v] = [1, 2, 3].map((s) => round(randn(N * L * C, 40 * i + s, 1), dtype));
        let dispatches: [number, number, number][] = [];
        const got = await runOnce((plan, alloc) => {
          const up = (a: Float32Array, n: string) => alloc.upload(a, [N * L, C], dtype, n);
          const out = alloc.tensor([N * L, C], dtype, 'o');
          vaeAttention(plan, { q: up(q!, 'q'), k: up(k!, 'k'), v: up(v!, 'v'), out, ml: alloc.tensor([G * L, 2], 'f32', 'ml'), probs: alloc.tensor([G * R, L], 'f32', 'p'), blockRows: R, images: N, group: G });
          dispatches = plan.dispatches.map((d) => d.workgroups);
          return out;
        });
        // stats, probs, p·v per group; the last group holds the images left
        const groups = Math.ceil(N / G);
        expect(dispatches).toHaveLength(3 * groups);
        expect(dispatches.map((w) => w[2])).toEqual(Array.from({ length: groups }, (_, g) => Array(3).fill(Math.min(G, N - g * G))).flat());
        for (let m = 0; m < N; m++) {
          const part = (a: Float32Array) => a.subarray(m * L * C, (m + 1) * L * C);
          expectClose(part(got), vaeAttentionRef(part(q!), part(k!), part(v!), L, C), [L, C], TOL.vae_attention![dtype], `vae attention group ${G}, image ${m}`);
        }
      });
    });
  }

  it('refuses a group it cannot run, naming it', () => {
    const alloc = new Allocator(gpu!);
    try {
      const plan = new Plan(gpu!, alloc);
      const [N, L, C] = [4, 6, 8];
      const t = (n: string) => alloc.tensor([N * L, C], 'f32', n);
      const base = { q: t('q'), k: t('k'), v: t('v'), out: t('o'), images: N };
      const ml = (g: number) => alloc.tensor([g * L, 2], 'f32', 'ml');
      const probs = (rows: number) => alloc.tensor([rows, L], 'f32', 'p');
      expect(() => vaeAttention(plan, { ...base, ml: ml(5), probs: probs(5 * L), blockRows: L, group: 5 })).toThrow(/group 5, expected an integer in 1\.\.4/);
      expect(() => vaeAttention(plan, { ...base, ml: ml(2), probs: probs(2 * L), blockRows: 3, group: 2 })).toThrow(/whole images per block \(blockRows 3 < L 6\)/);
      expect(() => vaeAttention(plan, { ...base, ml: ml(1), probs: probs(2 * L), blockRows: L, group: 2 })).toThrow(/ml must be f32 with ≥ 24 elements/);
      expect(() => vaeAttention(plan, { ...base, ml: ml(2), probs: probs(L), blockRows: L, group: 2 })).toThrow(/probs must be f32 with ≥ 72 elements/);
      expect(plan.dispatches).toHaveLength(0);
    } finally {
      alloc.destroyAll();
    }
  });
});
