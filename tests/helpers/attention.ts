// Runs the attention op once on host arrays (uploaded in `dtype`) and reads the output back:
// shared by the attention kernel tests.
import { attention, type AttentionArgs } from '../../src/ops/attention.js';
import type { AttentionRefArgs } from '../../src/ref/attention.js';
import type { DType } from '../../src/gpu/tensor.js';
import { runOnce } from './gpu.js';

export function runAttention(q: Float32Array, k: Float32Array, v: Float32Array, r: AttentionRefArgs, dtype: DType, o: Pick<AttentionArgs, 'tile' | 'strategy'> = {}): Promise<Float32Array> {
  const W = r.heads * r.headDim;
  return runOnce((plan, alloc) =>
    attention(plan, {
      q: alloc.upload(q, [r.batch, r.lq, W], dtype, 'q'),
      k: alloc.upload(k, [r.batch, r.lk, W], dtype, 'k'),
      v: alloc.upload(v, [r.batch, r.lk, W], dtype, 'v'),
      out: alloc.tensor([r.batch, r.lq, W], dtype, 'out'),
      heads: r.heads,
      headDim: r.headDim,
      scale: r.scale,
      ...o,
    }),
  );
}
