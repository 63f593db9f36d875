// WanTransformer3DModel's config defaults are diffusers' __init__ defaults (transformer_wan.py): a config.json
// that leaves a key out means the same model in both (audit 13 U 5: text_dim was 512 here, 4096 there).
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/model/config.js';

describe('WanTransformer3DModel config defaults', () => {
  it('a config with only _class_name gets every default of diffusers: patch (1,2,2), 40 heads × 128, in/out 16, text_dim 4096, freq_dim 256, ffn_dim 13824, 40 layers, cross_attn_norm, eps 1e-6, rope_max_seq_len 1024', () => {
    const c = parseConfig({ _class_name: 'WanTransformer3DModel' });
    expect(c).toMatchObject({ family: 'wan', patch: [1, 2, 2], heads: 40, headDim: 128, dim: 5120, inChannels: 16, outChannels: 16, textDim: 4096, freqDim: 256, ffnDim: 13824, layers: 40, crossAttnNorm: true, eps: 1e-6, ropeMaxSeqLen: 1024 });
  });

  it('text_dim left out of a small config is 4096 (the text embedder takes [B, L, 4096])', () => {
    const c = parseConfig({ _class_name: 'WanTransformer3DModel', num_attention_heads: 2, attention_head_dim: 16, ffn_dim: 64, freq_dim: 32, num_layers: 1 });
    expect(c.family === 'wan' && c.textDim).toBe(4096);
  });
});
