// Wan 480p has 32,760 tokens: the full 32,760² self-attention (549 GFLOP, one head of 128) is the
// point of an O(N)-memory kernel, and takes ~1–2 min on lavapipe (2 cores), so it runs in the
// integration project. TESSERA_ATTN_QUICK=1 (local iteration) runs the first 8,192 queries
// against all 32,760 keys instead.
import '../helpers/optimised-compile.js'; // first: the optimised lavapipe compile (run time dominates here)
import { describe, it } from 'vitest';
import { hasGpu, runOnce } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { TOL } from '../tolerances.js';
import { attention } from '../../src/ops/attention.js';
import { attentionRef, type AttentionRefArgs } from '../../src/ref/attention.js';
import { randn, uniform } from '../../src/random.js';

describe.skipIf(!hasGpu)('attention at Wan 480p sequence length', () => {
  const full = !process.env.TESSERA_ATTN_QUICK;
  it(`${full ? 32760 : 8192} queries × 32,760 keys × 1 head × 128, checked on sampled rows`, async () => {
    const L = 32760, D = 128;
    const Lq = full ? L : 8192;
    const q = randn(Lq * D, 41, 1.5);
    const k = randn(L * D, 42, 1.5);
    const v = uniform(L * D, 43);
    const rows = [0, 1, 63, 64, 4097, Lq - 65, Lq - 64, Lq - 1, ...(full ? [16380, 32640] : [])];
    const r: AttentionRefArgs = { batch: 1, lq: Lq, lk: L, heads: 1, headDim: D, rows };
    const got = await runOnce((plan, alloc) =>
      attention(plan, {
        q: alloc.upload(q, [1, Lq, D], 'f32', 'q'),
        k: alloc.upload(k, [1, L, D], 'f32', 'k'),
        v: alloc.upload(v, [1, L, D], 'f32', 'v'),
        out: alloc.tensor([1, Lq, D], 'f32', 'out'),
        heads: 1,
        headDim: D,
      }),
    );
    const ref = attentionRef(q, k, v, r);
    const pick = (a: ArrayLike<number>) => Float64Array.from(rows.flatMap((i) => Array.from({ length: D }, (_, d) => a[i * D + d]!)));
    expectClose(pick(got), pick(ref), [rows.length, D], TOL.attention!.f32, 'attention 32760 keys');
  }, 600_000);
});
