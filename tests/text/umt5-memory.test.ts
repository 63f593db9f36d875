// Planning UMT5-XXL (Wan2.1's text encoder, google/umt5-xxl: 24 layers, d_model 4096, 64 heads of
// 64, d_ff 10240, 256384 tokens) on lavapipe's limits: it cannot be resident under the default
// budget, streams one layer at a time, and every buffer fits the 128 MiB storage binding. Figures
// are printed. No GPU needed: the plan is made from the config and limits alone.
import { describe, expect, it } from 'vitest';
import { fmtBytes } from '../../src/gpu/tensor.js';
import { LimitError } from '../../src/model/memory.js';
import { parseUmt5Config } from '../../src/text/config.js';
import { checkUmt5Fits, DEFAULT_RESIDENT_BYTES, planUmt5 } from '../../src/text/memory.js';

const XXL = parseUmt5Config({
  architectures: ['UMT5EncoderModel'], model_type: 'umt5', d_model: 4096, d_kv: 64, num_heads: 64, d_ff: 10240, num_layers: 24,
  vocab_size: 256384, relative_attention_num_buckets: 32, relative_attention_max_distance: 128, feed_forward_proj: 'gated-gelu', dense_act_fn: 'gelu_new', layer_norm_epsilon: 1e-6,
});
const LAVAPIPE = { maxStorageBufferBindingSize: 134217728, maxBufferSize: 4294967295 };

describe('UMT5-XXL encode plan on lavapipe limits', () => {
  it('streams layer by layer within the 128 MiB binding and a small peak (figures printed)', () => {
    for (const [B, L] of [[1, 512], [2, 512]] as const) {
      const p = checkUmt5Fits(XXL, B, L, LAVAPIPE);
      console.log(
        `UMT5-XXL ${B}×${L} on lavapipe limits: mode ${p.mode}, FFN in ${p.ffnChunks} chunks; all weights ${fmtBytes(p.allWeights)} (f32, embedding on the host), ` +
          `one layer ${fmtBytes(p.layerWeights)}; peak on the GPU ${fmtBytes(p.peak)} = weights ${fmtBytes(p.weights)} + activations ${fmtBytes(p.activations)} + workspace ${fmtBytes(p.workspace)}; ` +
          `largest buffer ${p.largestName} ${fmtBytes(p.largestTensor)} ≤ ${fmtBytes(LAVAPIPE.maxStorageBufferBindingSize)}`,
      );
      expect(p.mode).toBe('stream');
      expect(p.allWeights).toBeGreaterThan(DEFAULT_RESIDENT_BYTES);
      expect(p.ffnChunks).toBe(2); // wi_0 [10240, 4096] f32 is 160 MiB: two [5120, 4096] chunks of 80 MiB
      expect(p.largestTensor).toBeLessThanOrEqual(LAVAPIPE.maxStorageBufferBindingSize);
      // one layer: q,k,v,o 4·64 MiB + FFN 3·160 MiB + norms/bias ≈ 736 MiB
      expect(p.layerWeights).toBeGreaterThan(700 * 2 ** 20);
      expect(p.layerWeights).toBeLessThan(760 * 2 ** 20);
      expect(p.peak).toBeLessThan(1 * 2 ** 30);
      // fits a 1 GiB budget too
      expect(checkUmt5Fits(XXL, B, L, LAVAPIPE, { maxMemory: 2 ** 30 }).mode).toBe('stream');
    }
  });

  it('refuses with the numbers when even one layer exceeds the budget', () => {
    expect(() => checkUmt5Fits(XXL, 1, 512, LAVAPIPE, { maxMemory: 512 * 2 ** 20 })).toThrow(LimitError);
    try {
      checkUmt5Fits(XXL, 1, 512, LAVAPIPE, { maxMemory: 512 * 2 ** 20 });
    } catch (e) {
      expect((e as Error).message).toMatch(/streamed layer by layer.*needs .*MiB.*above the budget of 512.0 MiB/);
    }
  });

  it('refuses a resident encoder over the budget when streaming is turned off', () => {
    expect(() => checkUmt5Fits(XXL, 1, 512, LAVAPIPE, { maxMemory: 4 * 2 ** 30, stream: false })).toThrow(/resident.*let it stream/);
  });

  it('keeps a small encoder resident and unsplit', () => {
    const small = { ...XXL, dModel: 32, dKv: 8, heads: 4, dFf: 64, layers: 2, vocab: 101 };
    const p = planUmt5(small, 2, 16, LAVAPIPE);
    expect(p.mode).toBe('resident');
    expect(p.ffnChunks).toBe(1);
  });

  it('refuses a sequence whose activations exceed a binding', () => {
    expect(() => checkUmt5Fits(XXL, 2, 4096, LAVAPIPE)).toThrow(/largest tensor.*above the adapter's per-buffer limit/);
  });
});
