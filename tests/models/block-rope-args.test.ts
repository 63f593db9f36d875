// adaLnZeroBlock applies RoPE only fused with the q/k RMSNorm (norm_rope); a rope table without
// qkNormEps is refused on entry instead of taking a second, unused code path.
import { describe, expect, it } from 'vitest';
import { adaLnZeroBlock, type AdaLnZeroBlockArgs } from '../../src/model/block.js';
import type { Plan } from '../../src/gpu/plan.js';
import type { Tensor } from '../../src/gpu/tensor.js';
import type { Scratch } from '../../src/model/layers.js';
import type { Weights } from '../../src/model/weights.js';

describe('adaLnZeroBlock arguments', () => {
  it('refuses a RoPE table without qkNormEps before recording anything', () => {
    const plan = { dispatches: [] } as unknown as Plan;
    const args = {
      prefix: 'blocks.0', x: { shape: [1, 4, 8] } as unknown as Tensor, tokens: 4, heads: 2, headDim: 4,
      modulation: { table: 'scale_shift_table', emb: {} as Tensor }, eps: { attn: 1e-6, ffn: 1e-6 },
      names: { ffn: 'ffn', ffnNorm: 'norm3' }, rope: { shape: [4, 2, 2] } as unknown as Tensor,
    } as unknown as AdaLnZeroBlockArgs;
    expect(() => adaLnZeroBlock(plan, {} as Scratch, {} as Weights, args))
      .toThrow(/^blocks\.0: a RoPE table needs qkNormEps \(RoPE is applied fused with the q\/k RMSNorm\)$/);
    expect((plan as unknown as { dispatches: unknown[] }).dispatches).toEqual([]);
  });
});
