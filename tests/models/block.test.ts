// One adaLN-Zero block (src/model/block.ts) builds Wan, DiT and Latte: the dispatches each block
// records, in order, with layer labels that are the weight keys. (Numerics: the golden tests.)
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { loadModel } from '../../src/model/model.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { FIXTURES, fixtureInputs } from '../helpers/golden.js';

/** [layer below the block prefix, kernel family] of every dispatch of block `prefix`. */
async function blockDispatches(name: string, prefix: string) {
  const model = await loadModel(join(FIXTURES, name, 'model'), { gpu: gpu! });
  const plan = model.planFor(await fixtureInputs(name));
  const rows = plan.dispatches.filter((d) => d.layer.startsWith(`${prefix}.`)).map((d) => [d.layer.slice(prefix.length + 1), d.family.replace(/_.*/, '')]);
  return { model, plan, rows };
}

// q, k and v in one GEMM, labelled with diffusers' fused name (fuse_projections: to_qkv)
const selfAttn = [['norm1', 'norm'], ['attn1.to_qkv', 'gemm']];

describe.skipIf(!hasGpu)('the adaLN-Zero block', () => {
  it('Wan: modulation table, q/k RMSNorm fused with RoPE, normed cross-attention, ffn/norm3', async () => {
    const { model, plan, rows } = await blockDispatches('wan_small', 'blocks.1');
    expect(rows).toEqual([
      ['scale_shift_table', 'adaln'], ...selfAttn, ['attn1.norm_q', 'norm'], ['attn1.norm_k', 'norm'], ['attn1', 'attention'], ['attn1.to_out.0', 'gemm'],
      // attn2's K/V (to_k, norm_k, to_v) are in the prepare plan (tests/models/cross-kv.test.ts)
      ['norm2', 'norm'], ['attn2.to_q', 'gemm'], ['attn2.norm_q', 'norm'], ['attn2', 'attention'], ['attn2.to_out.0', 'gemm'],
      ['norm3', 'norm'], ['ffn.net.0.proj', 'gemm'], ['ffn.net.2', 'gemm'],
    ]);
    // self-attention's q/k RMSNorm and RoPE are one dispatch each (norm_rope), attn2's q has the plain norm
    const kernel = (layer: string) => plan.dispatches.find((d) => d.layer === `blocks.1.${layer}`)!.kernel.replace(/[[{].*/, '');
    expect(['attn1.norm_q', 'attn1.norm_k', 'attn2.norm_q'].map(kernel)).toEqual(['norm_rope', 'norm_rope', 'norm']);
    model.destroy();
  });

  it('DiT: modulation from its own conditioning, no q/k norm, no RoPE, no cross-attention, ff/norm3', async () => {
    const { model, rows } = await blockDispatches('dit_small', 'transformer_blocks.1');
    expect(rows).toEqual([
      ['norm1.emb.timestep_embedder.linear_1', 'gemm'], ['norm1.emb.timestep_embedder.linear_2', 'gemm'], ['norm1.emb.class_embedder', 'gather'], ['norm1.emb', 'elementwise'], ['norm1.silu', 'elementwise'], ['norm1.linear', 'gemm'],
      ...selfAttn, ['attn1', 'attention'], ['attn1.to_out.0', 'gemm'],
      ['norm3', 'norm'], ['ff.net.0.proj', 'gemm'], ['ff.net.2', 'gemm'],
    ]);
    model.destroy();
  });

  it('Latte: spatial blocks with un-normed cross-attention, temporal blocks without, ff/norm2', async () => {
    const spatial = await blockDispatches('latte_small', 'transformer_blocks.0');
    const tail = [['norm2', 'norm'], ['ff.net.0.proj', 'gemm'], ['ff.net.2', 'gemm']];
    expect(spatial.rows).toEqual([
      ['scale_shift_table', 'adaln'], ...selfAttn, ['attn1', 'attention'], ['attn1.to_out.0', 'gemm'],
      ['attn2.to_q', 'gemm'], ['attn2', 'attention'], ['attn2.to_out.0', 'gemm'], ...tail,
    ]);
    spatial.model.destroy();
    const temporal = await blockDispatches('latte_small', 'temporal_transformer_blocks.1');
    expect(temporal.rows).toEqual([['to_temporal', 'strided'], ['scale_shift_table', 'adaln'], ...selfAttn, ['attn1', 'attention'], ['attn1.to_out.0', 'gemm'], ...tail, ['to_spatial', 'strided']]);
    temporal.model.destroy();
  });

  it('every Linear, modulation table and affine norm is labelled with its weight key', async () => {
    for (const name of ['wan_small', 'dit_small', 'latte_small']) {
      const model = await loadModel(join(FIXTURES, name, 'model'), { gpu: gpu! });
      const { plan, prepare } = model.resident(await fixtureInputs(name));
      const keys = new Set(model.weights.tensors.keys());
      for (const d of [...prepare.dispatches, ...plan.dispatches]) {
        const fam = d.family.replace(/_.*/, '');
        // the fused projection stands for the three weight keys it was stacked from
        const parts = d.layer.endsWith('.to_qkv') ? ['to_q', 'to_k', 'to_v'].map((k) => d.layer.replace(/to_qkv$/, k)) : [d.layer];
        for (const l of parts) {
          if (fam === 'gemm' || (fam === 'norm' && /norm_[qk]$|norm2$/.test(l) && name === 'wan_small')) expect(keys, `${name}: ${l} (${d.kernel})`).toContain(`${l}.weight`);
        }
        if (fam === 'adaln') expect(keys, `${name}: ${d.layer}`).toContain(d.layer);
      }
      model.destroy();
    }
  });
});
