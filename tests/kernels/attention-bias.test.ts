// The attention kernel's T5 options (RELBIAS, KEYMASK): a relative-position bias looked up per
// (bucket of key − query, head) inside the kernel, a key-padding mask from per-item key lengths,
// and an explicit scale (UMT5: 1, no 1/√d), against the float64 textbook reference
// (src/ref/umt5.ts biasAttentionRef). Odd lengths, Lq ≠ Lk, batch > 1, one to 64 heads, head dims
// 8–128, bucket settings with log-spaced buckets inside the sequence, f32 and f16.
// And the key fold (KEYFOLD, Wan's cross-attention to zero-padded text): each item's trailing run
// of equal keys taken as one key with + log2(run length), against float64 attention over every
// key of the run (src/ref/attention.ts unfoldRows + attentionNaiveRef), rows and FA2 kernels.
import { beforeAll, describe, it, expect } from 'vitest';
import { dtypes, gpu, hasGpu, runOnce } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { TOL } from '../tolerances.js';
import { attention, attentionFa2Kernel, attentionFa2Variant, attentionKernel, attentionStrategiesFor, attentionVariant, keyFoldLengths, type AttentionStrategy } from '../../src/ops/attention.js';
import { attentionNaiveRef, unfoldRows } from '../../src/ref/attention.js';
import { runAttention } from '../helpers/attention.js';
import { compileKernels } from '../../src/gpu/kernel.js';
import { biasAttentionRef, relativeBucketTable } from '../../src/ref/umt5.js';
import { randn, rng } from '../../src/random.js';
import { roundF16 } from '../../src/gpu/half.js';
import type { DType } from '../../src/gpu/tensor.js';

// [B, Lq, Lk, heads, headDim, numBuckets, maxDistance]
const CASES: [number, number, number, number, number, number, number][] = [
  [1, 1, 1, 1, 8, 4, 4], [2, 5, 5, 2, 8, 32, 20], [1, 17, 17, 3, 12, 8, 12], [2, 33, 33, 4, 16, 32, 128],
  [1, 100, 100, 4, 16, 32, 64], [2, 70, 70, 2, 64, 16, 32], [1, 128, 128, 1, 72, 32, 128], [3, 9, 31, 2, 8, 6, 7],
  [2, 31, 9, 2, 8, 12, 50], [1, 16, 16, 64, 64, 32, 128], [2, 24, 24, 2, 128, 32, 128], [1, 64, 300, 1, 8, 32, 128],
  [2, 12, 12, 5, 20, 20, 1000], [1, 65, 40, 3, 32, 40, 100],
];

const round = (a: Float32Array, d: DType) => (d === 'f16' ? a.map(roundF16) : a);

describe.skipIf(!hasGpu)('attention with relative position bias, key mask and scale vs float64', () => {
  // The variants (dtype × rows per invocation by query length, RELBIAS+KEYMASK; KEYMASK alone),
  // five in all, compiled once before the first test.
  beforeAll(async () => {
    const v = (lq: number, dtype: DType, relBias: boolean) => ({ spec: attentionKernel, variant: attentionVariant(gpu!, { lq, dtype, relBias, keyMask: true }).variant });
    await compileKernels(gpu!, [...dtypes.flatMap((dtype) => CASES.map(([, Lq]) => v(Lq, dtype, true))), v(7, 'f32', false)]);
  }, 900_000);

  for (const dtype of dtypes) {
    CASES.forEach(([B, Lq, Lk, H, D, nb, md], i) => {
      it(`${dtype} B${B} q${Lq} k${Lk} ${H}×${D} buckets ${nb}/${md}`, async () => {
        const W = H * D;
        // unscaled scores: keep q·k O(1..5) so the softmax is neither flat nor one-hot
        const q = round(randn(B * Lq * W, 10 + i, 1 / Math.sqrt(D) ** 0.5), dtype);
        const k = round(randn(B * Lk * W, 20 + i, 1 / Math.sqrt(D) ** 0.5), dtype);
        const v = round(randn(B * Lk * W, 30 + i), dtype);
        const bias = round(randn(nb * H, 40 + i, 2), dtype);
        const r = rng(50 + i);
        // key lengths: full on item 0 (and on odd cases everywhere), 1..Lk elsewhere
        const lens = Array.from({ length: B }, (_, b) => (b === 0 || i % 2 ? Lk : 1 + Math.floor(r() * Lk)));
        const buckets = relativeBucketTable(Lq, Lk, nb, md);
        const got = await runOnce((plan, alloc) =>
          attention(plan, {
            q: alloc.upload(q, [B, Lq, W], dtype, 'q'),
            k: alloc.upload(k, [B, Lk, W], dtype, 'k'),
            v: alloc.upload(v, [B, Lk, W], dtype, 'v'),
            out: alloc.tensor([B, Lq, W], dtype, 'out'),
            heads: H,
            headDim: D,
            scale: 1,
            positionBias: { bias: alloc.upload(bias, [nb, H], dtype, 'bias'), buckets: alloc.uploadU32(buckets, 'buckets') },
            keyLengths: alloc.uploadU32(Uint32Array.from(lens), 'key_lengths'),
          }),
        );
        const want = biasAttentionRef(q, k, v, { batch: B, lq: Lq, lk: Lk, heads: H, headDim: D, scale: 1, buckets, bias, keyLengths: lens });
        expectClose(got, want, [B, Lq, H, D], TOL.attention![dtype], `bias attention ${dtype}`);
      });
    });
  }

  it('key mask alone (no bias) with the default 1/√d scale equals attention over the unpadded keys', async () => {
    const [B, Lq, Lk, H, D] = [2, 7, 19, 2, 16];
    const W = H * D;
    const q = randn(B * Lq * W, 1), k = randn(B * Lk * W, 2), v = randn(B * Lk * W, 3);
    const lens = [19, 6];
    const got = await runOnce((plan, alloc) =>
      attention(plan, {
        q: alloc.upload(q, [B, Lq, W], 'f32', 'q'), k: alloc.upload(k, [B, Lk, W], 'f32', 'k'), v: alloc.upload(v, [B, Lk, W], 'f32', 'v'),
        out: alloc.tensor([B, Lq, W], 'f32', 'out'), heads: H, headDim: D, keyLengths: alloc.uploadU32(Uint32Array.from(lens), 'key_lengths'),
      }),
    );
    expectClose(got, biasAttentionRef(q, k, v, { batch: B, lq: Lq, lk: Lk, heads: H, headDim: D, scale: 1 / Math.sqrt(D), keyLengths: lens }), [B, Lq, H, D], TOL.attention!.f32, 'key mask');
  });

  it('refuses tables of the wrong size', async () => {
    await expect(
      runOnce((plan, alloc) =>
        attention(plan, {
          q: alloc.tensor([1, 4, 16], 'f32', 'q'), k: alloc.tensor([1, 5, 16], 'f32', 'k'), v: alloc.tensor([1, 5, 16], 'f32', 'v'), out: alloc.tensor([1, 4, 16], 'f32', 'o'),
          heads: 2, headDim: 8, positionBias: { bias: alloc.tensor([8, 2], 'f32', 'bias'), buckets: alloc.uploadU32(new Uint32Array(7), 'buckets') },
        }),
      ),
    ).rejects.toThrow(/buckets .* 7 .* expected Lq \+ Lk − 1 = 8/);
    await expect(
      runOnce((plan, alloc) =>
        attention(plan, {
          q: alloc.tensor([2, 4, 16], 'f32', 'q'), k: alloc.tensor([2, 5, 16], 'f32', 'k'), v: alloc.tensor([2, 5, 16], 'f32', 'v'), out: alloc.tensor([2, 4, 16], 'f32', 'o'),
          heads: 2, headDim: 8, keyLengths: alloc.uploadU32(new Uint32Array(1), 'lens'),
        }),
      ),
    ).rejects.toThrow(/keyLengths .* 1 entries.*batch 2/);
  });
});

// [B, Lq, Lk, heads, headDim, keyFold per item]: odd lengths, Lq ≠ Lk, items folded differently in
// one batch, keyFold = Lk (nothing to fold), Lk − 1 (a run of one: + log2 1), 0 (every key equal),
// and Wan's shape of a short prompt in 512 padded keys (most tiles skipped). Lq ≤ 64 runs the
// rows kernel at one query row per invocation; Lq = 131 at the 2–4 rows real video token counts
// get (rows past Lq clamped): 6 new variants in all (rows at both, fa2 × f32, f16).
const FOLD_CASES: [number, number, number, number, number, number[]][] = [
  [2, 7, 37, 2, 16, [5, 37]],
  [2, 33, 21, 3, 8, [20, 0]],
  [3, 17, 512, 2, 32, [10, 511, 200]],
  [1, 64, 300, 1, 64, [12]],
  [2, 131, 40, 2, 16, [9, 40]],
];

describe.skipIf(!hasGpu)('attention with the key fold (KEYFOLD) vs float64 attention over every padded key', () => {
  const strategies: AttentionStrategy[] = hasGpu ? ['rows', attentionStrategiesFor(gpu!).includes('fa2') ? 'fa2' : 'fa2-wg'] : [];
  beforeAll(async () => {
    await compileKernels(gpu!, dtypes.flatMap((dtype) => [
      { spec: attentionKernel, variant: attentionVariant(gpu!, { lq: 64, dtype, keyFold: true }).variant },
      { spec: attentionKernel, variant: attentionVariant(gpu!, { lq: 131, dtype, keyFold: true }).variant },
      { spec: attentionFa2Kernel, variant: attentionFa2Variant(gpu!, { dtype, sg: strategies[1] === 'fa2', keyFold: true }).variant },
    ]));
  }, 900_000);

  for (const dtype of dtypes) {
    for (const strategy of strategies) {
      FOLD_CASES.forEach(([B, Lq, Lk, H, D, fold], i) => {
        it(`${dtype} ${strategy} B${B} q${Lq} k${Lk} ${H}×${D} keyFold [${fold}]`, async () => {
          const W = H * D;
          const q = round(randn(B * Lq * W, 60 + i, 1 / Math.sqrt(D) ** 0.5), dtype);
          // keys/values: seeded rows, then each item's run of copies of its row keyFold[b] (the pad row)
          const k = unfoldRows(round(randn(B * Lk * W, 70 + i, 1 / Math.sqrt(D) ** 0.5), dtype), B, Lk, W, fold);
          const v = unfoldRows(round(randn(B * Lk * W, 80 + i), dtype), B, Lk, W, fold);
          // the host scan finds exactly the runs built here (Lk − 1 where there is none)
          expect([...keyFoldLengths(k, B, Lk, W)]).toEqual(fold.map((f) => Math.min(f, Lk - 1)));
          const r = { batch: B, lq: Lq, lk: Lk, heads: H, headDim: D };
          const got = await runAttention(q, k, v, r, dtype, { strategy, keyFold: fold });
          const want = attentionNaiveRef(q, k, v, r);
          expectClose(got, want, [B, Lq, H, D], TOL.attention![dtype], `folded attention ${dtype} ${strategy}`);
        });
      });
    }
  }

  it('without the log2(run) term the fold would be wrong: the run of 488 pad keys carries weight', () => {
    // guards the cases above against a pad row too weak to matter: folding to one plain key differs
    const [B, Lq, Lk, H, D] = [1, 3, 512, 1, 16];
    const q = randn(Lq * D, 1, 0.5), k = unfoldRows(randn(Lk * D, 2, 0.5), B, Lk, D, [24]), v = unfoldRows(randn(Lk * D, 3), B, Lk, D, [24]);
    const full = attentionNaiveRef(q, k, v, { batch: B, lq: Lq, lk: Lk, heads: H, headDim: D });
    const cut = (x: Float32Array) => x.slice(0, 25 * D);
    const one = attentionNaiveRef(q, cut(k), cut(v), { batch: B, lq: Lq, lk: 25, heads: H, headDim: D });
    expect(Math.max(...full.map((x, j) => Math.abs(x - one[j]!)))).toBeGreaterThan(0.05);
  });

  it('keyFoldLengths: trailing rows bitwise equal to the last row, per item', () => {
    const z = new Float32Array(4 * 5 * 2); // [4, 5, 2]
    z.set([1, 2, 3, 4, 0, 0, 0, 0, 0, 0], 0); // item 0: 2 rows, 3 zero rows
    z.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 9], 10); // item 1: no run (the last row alone)
    // item 2: all zero rows
    z.set([1, 1, 0, 0, -0, 0, 0, 0, 0, 0], 30); // item 3: −0 is not bitwise 0
    expect([...keyFoldLengths(z, 4, 5, 2)]).toEqual([2, 4, 0, 3]);
    expect(() => keyFoldLengths(z, 4, 4, 2)).toThrow(/40 values for \[4, 4, 2\]/);
  });

  it('refuses a fold table of the wrong size and a fold with a key mask or a position bias', async () => {
    const base = (alloc: import('../../src/gpu/tensor.js').Allocator) => ({
      q: alloc.tensor([2, 4, 16], 'f32', 'q'), k: alloc.tensor([2, 5, 16], 'f32', 'k'), v: alloc.tensor([2, 5, 16], 'f32', 'v'), out: alloc.tensor([2, 4, 16], 'f32', 'o'), heads: 2, headDim: 8,
    });
    await expect(runOnce((plan, alloc) => attention(plan, { ...base(alloc), keyFold: alloc.uploadU32(new Uint32Array(3), 'fold') }))).rejects.toThrow(/keyFold fold has 3 entries.*batch 2/);
    await expect(runOnce((plan, alloc) => attention(plan, { ...base(alloc), keyFold: alloc.uploadU32(new Uint32Array(2), 'fold'), keyLengths: alloc.uploadU32(new Uint32Array(2), 'lens') }))).rejects.toThrow(/keyFold fold cannot be combined with keyLengths/);
  });
});
