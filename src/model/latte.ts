// LatteTransformer3DModel: factorized spatial/temporal blocks, as diffusers' latte_transformer_3d.py
// computes them. Frames are folded into the batch for spatial blocks ((B·F), S, D) and patches for
// temporal blocks ((B·S), F, D); both layouts keep batch item b contiguous, so adaLN vectors are
// per batch item over F·S rows. Cross-attention (spatial blocks only) is un-normed and un-gated;
// the temporal sincos embedding is added only before temporal block 0.
import type { Plan } from '../gpu/plan.js';
import type { Tensor } from '../gpu/tensor.js';
import { adaln } from '../ops/adaln.js';
import { add, permute, silu } from '../ops/elementwise.js';
import { norm } from '../ops/norm.js';
import { patchify, unpatchify } from '../ops/patchify.js';
import { timestepEmbedding } from '../ops/timestep.js';
import { adaLnZeroBlock, crossAttentionKV, type CrossKV } from './block.js';
import type { LatteConfig } from './config.js';
import { linear, Scratch, view } from './layers.js';
import { sincos1d, sincos2d } from './posembed.js';
import type { Weights } from './weights.js';

export interface LatteInputs {
  latents: Tensor; // [B, C, F, H, W]
  timestep: Tensor; // f32 [B]
  text: Tensor; // [B, L, caption_channels]
}

/**
 * Records one forward pass into `plan`, and what depends on the text alone (the caption projection
 * and every spatial block's cross-attention K/V) into `prepare`, which must run before `plan`
 * whenever the text changes (once per generation). Returns the output [B, Cout, F, H, W].
 */
export function recordLatte(plan: Plan, c: LatteConfig, w: Weights, io: LatteInputs, prepare: Plan): Tensor {
  const s = new Scratch(plan, w.dtype);
  const [B, , F, H, W] = io.latents.shape as [number, number, number, number, number];
  const p = c.patch;
  const gh = H / p;
  const gw = W / p;
  const S = gh * gw; // tokens per frame
  const T = F * S; // tokens per batch item
  const D = c.dim;
  const L = io.text.shape[1]!;
  const K = c.inChannels * p * p;

  // 1. per-frame patch embedding + 2D sincos: [B, F·S, D] is the memory of diffusers' [(B·F), S, D]
  plan.layer = 'pos_embed';
  const patches = patchify(plan, { x: io.latents, out: s.get('patches', [B * F, S, K]), patch: [1, p, p], layer: 'patchify' });
  const x0 = linear(plan, patches, { w: view(w.get('pos_embed.proj.weight'), [D, K]), b: w.get('pos_embed.proj.bias'), key: 'pos_embed.proj' }, s.get('x0', [B * F, S, D]));
  // a dry run (memory planning) sizes the tables without building them: [S, D] floats on the host
  const pos = plan.alloc.upload(plan.alloc.dry ? [] : sincos2d(D, gh, gw, Math.floor(c.sampleSize / p), c.interpolationScale), [S, D], w.dtype, 'pos_embed');
  const x = add(plan, { a: x0, b: pos, out: s.get('x', [B * F, S, D]), layer: 'add' });

  // 2. adaln_single: emb = MLP(sinusoid(t)); t6 = Linear(SiLU(emb)) → [B, 6D]
  plan.layer = 'adaln_single';
  const tfreq = timestepEmbedding(plan, { t: io.timestep, out: s.get('t_freq', [B, 256]), flipSinToCos: true, downscaleFreqShift: 0, layer: 'emb.time_proj' });
  const th = linear(plan, tfreq, w.linear('adaln_single.emb.timestep_embedder.linear_1'), s.get('t_hidden', [B, D]), 'silu');
  const emb = linear(plan, th, w.linear('adaln_single.emb.timestep_embedder.linear_2'), s.get('embedded_timestep', [B, D]));
  const embAct = silu(plan, { x: emb, out: s.get('emb_silu', [B, D]), layer: 'silu' });
  const t6 = linear(plan, embAct, w.linear('adaln_single.linear'), s.get('t6', [B, 6 * D]));

  // caption projection: Linear → GELU(tanh) → Linear; the same text for every frame of an item
  prepare.layer = 'caption_projection';
  const c1 = linear(prepare, io.text, w.linear('caption_projection.linear_1'), s.get('cap_hidden', [B, L, D]), 'gelu');
  const cap = linear(prepare, c1, w.linear('caption_projection.linear_2'), s.get('caption', [B, L, D]));

  const xt = s.get('x_temporal', [B * S, F, D]);
  const tpos = F > 1 ? plan.alloc.upload(plan.alloc.dry ? [] : Float32Array.from(sincos1d(D, Array.from({ length: F }, (_, i) => i))), [F, D], w.dtype, 'temp_pos_embed') : null;
  // BasicTransformerBlock with norm_type ada_norm_single: modulation = scale_shift_table + t6, both
  // LayerNorms eps config.norm_eps, no q/k norm, no RoPE; the cross-attention is un-normed
  const block = (prefix: string, xs: Tensor, kv?: CrossKV) =>
    adaLnZeroBlock(plan, s, w, {
      prefix,
      x: xs,
      tokens: T,
      modulation: { table: 'scale_shift_table', emb: t6 },
      heads: c.heads,
      headDim: c.headDim,
      eps: { attn: c.normEps, ffn: c.normEps },
      names: { ffn: 'ff', ffnNorm: 'norm2' },
      cross: kv ? { kv } : undefined,
    });

  for (let i = 0; i < c.layers; i++) {
    const kv = crossAttentionKV(prepare, s, w, { prefix: `transformer_blocks.${i}`, context: cap }); // [B, L, D] each
    block(`transformer_blocks.${i}`, x, kv); // [(B·F), S, D]
    // '(b f) s d -> (b s) f d', temporal block, and back
    plan.layer = `temporal_transformer_blocks.${i}`;
    permute(plan, { x, out: xt, shape: [B, F, S, D], layer: 'to_temporal' });
    const xin = i === 0 && tpos ? add(plan, { a: xt, b: tpos, out: s.get('x_temporal_pos', [B * S, F, D]), layer: 'temp_pos_embed' }) : xt;
    // the temporal block works in place on xin; copy it back to x in spatial order afterwards
    block(`temporal_transformer_blocks.${i}`, xin); // [(B·S), F, D]
    permute(plan, { x: xin, out: x, shape: [B, S, F, D], layer: 'to_spatial' });
  }

  // 3. head: shift, scale = scale_shift_table[2, D] + embedded_timestep; LN → modulate → proj_out
  plan.layer = '';
  const n = view(s.get('n', [B, T, D]), [B * F, S, D]);
  const headMod = adaln(plan, { table: w.get('scale_shift_table'), emb, out: s.get('head_mod', [B, 2 * D]), batch: B, perItem: true, layer: 'scale_shift_table' });
  norm(plan, { x, out: n, eps: 1e-6, modulate: { mod: headMod, stride: 2 * D, shiftOffset: 0, scaleOffset: D }, tokens: T, layer: 'norm_out' });
  const Kout = p * p * c.outChannels;
  const o = linear(plan, n, w.linear('proj_out'), s.get('proj_out', [B * F, S, Kout]));

  // 4. unpatchify per frame ('nhwpqc->nchpwq') and back to [B, C, F, H, W]
  const out = plan.alloc.tensor([B, c.outChannels, F, H, W], w.dtype, 'sample');
  unpatchify(plan, { x: view(o, [B, T, Kout]), out, patch: [1, p, p], grid: [F, gh, gw], channels: c.outChannels, order: 'c-last', layer: 'unpatchify' });
  return out;
}
