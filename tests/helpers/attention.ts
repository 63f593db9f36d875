// Runs the attention op once on host arrays (uploaded in `dtype`) and reads the output back:
// shared by the attention kernel tests.
import { attention, type AttentionArgs } from '../../src/ops/attention.js';
import type { AttentionRefArgs } from '../../src/ref/attention.js';
import type { DType } from '../../src/gpu/tensor.js';
import { runOnce } from './gpu.js';
import { randn, rng, uniform } from '../../src/random.js';
import { biasAttentionRef, relativeBucketTable } from '../../src/ref/umt5.js';

/** `o.keyFold`: the AttentionArgs.keyFold table as numbers (uploaded as u32). */
export function runAttention(q: Float32Array, k: Float32Array, v: Float32Array, r: AttentionRefArgs, dtype: DType, o: Pick<AttentionArgs, 'tile' | 'strategy'> & { keyFold?: number[] } = {}): Promise<Float32Array> {
  const W = r.heads * r.headDim;
  const { keyFold, ...knobs } = o;
  return runOnce((plan, alloc) =>
    attention(plan, {
      q: alloc.upload(q, [r.batch, r.lq, W], dtype, 'q'),
      k: alloc.upload(k, [r.batch, r.lk, W], dtype, 'k'),
      v: alloc.upload(v, [r.batch, r.lk, W], dtype, 'v'),
      out: alloc.tensor([r.batch, r.lq, W], dtype, 'out'),
      heads: r.heads,
      headDim: r.headDim,
      scale: r.scale,
      ...(keyFold ? { keyFold: alloc.uploadU32(Uint32Array.from(keyFold), 'key_fold') } : {}),
      ...knobs,
    }),
  );
}

/**
 * One key dominating: q·k = 1234·scale⁻¹ for key 5 and 0 for the others (orthogonal to q), so each row's softmax is
 * one-hot at key 5 and the output is v[5]. `suppress()` flips key 5 far below the rest, where it must contribute
 * nothing. D 16, Lk 37, Lq 3, one head, batch 1.
 */
export function dominantKeyCase() {
  const D = 16, Lk = 37, Lq = 3;
  const scale = 1 / Math.sqrt(D);
  const q = new Float32Array(Lq * D);
  const k = new Float32Array(Lk * D);
  for (let i = 0; i < Lq; i++) q[i * D] = 1;
  k[5 * D] = 1234 / scale;
  for (let j = 0; j < Lk; j++) if (j !== 5) k[j * D + 1] = 1;
  const v = uniform(Lk * D, 9);
  const r: AttentionRefArgs = { batch: 1, lq: Lq, lk: Lk, heads: 1, headDim: D, scale };
  return { D, Lq, q, k, v, r, suppress: () => { k[5 * D] = -1234 / scale; } };
}

/**
 * UMT5's options on seeded f32 inputs (seeds from `i`): a relative position bias ([nb, H] table,
 * buckets of relativeBucketTable(Lq, Lk, nb, md)), a right-padded key mask (item 0 at full length,
 * the others seeded shorter) and scale 1. Returns the kernel's output (tile or strategy `o`) and
 * the float64 reference. Case: [B, Lq, Lk, heads, headDim, numBuckets, maxDistance].
 */
export async function biasMaskCase(i: number, [B, Lq, Lk, H, D, nb, md]: readonly number[], o: Pick<AttentionArgs, 'tile' | 'strategy'>) {
  const W = H * D;
  const q = randn(B * Lq * W, 10 + i, 1 / Math.sqrt(D) ** 0.5);
  const k = randn(B * Lk * W, 20 + i, 1 / Math.sqrt(D) ** 0.5);
  const v = randn(B * Lk * W, 30 + i);
  const bias = randn(nb * H, 40 + i, 2);
  const r = rng(50 + i);
  const lens = Array.from({ length: B }, (_, b) => (b === 0 ? Lk : 1 + Math.floor(r() * Lk)));
  const buckets = relativeBucketTable(Lq, Lk, nb, md);
  const got = await runOnce((plan, alloc) =>
    attention(plan, {
      q: alloc.upload(q, [B, Lq, W], 'f32', 'q'),
      k: alloc.upload(k, [B, Lk, W], 'f32', 'k'),
      v: alloc.upload(v, [B, Lk, W], 'f32', 'v'),
      out: alloc.tensor([B, Lq, W], 'f32', 'out'),
      heads: H,
      headDim: D,
      scale: 1,
      positionBias: { bias: alloc.upload(bias, [nb, H], 'f32', 'bias'), buckets: alloc.uploadU32(buckets, 'buckets') },
      keyLengths: alloc.uploadU32(Uint32Array.from(lens), 'key_lengths'),
      ...o,
    }),
  );
  const want = biasAttentionRef(q, k, v, { batch: B, lq: Lq, lk: Lk, heads: H, headDim: D, scale: 1, buckets, bias, keyLengths: lens });
  return { got, want };
}
