// LatteTransformer3DModel: factorized spatial/temporal blocks, as diffusers' latte_transformer_3d.py
// computes them. Frames are folded into the batch for spatial blocks ((B·F), S, D) and patches for
// temporal blocks ((B·S), F, D); both layouts keep batch item b contiguous, so adaLN vectors are
// per batch item over F·S rows. Cross-attention (spatial blocks only) is un-normed and un-gated;
// the temporal sincos embedding is added only before temporal block 0.
import type { Plan } from '../gpu/plan.js';
import type { Tensor } from '../gpu/tensor.js';
import { adaln } from '../ops/adaln.js';
import { attention } from '../ops/attention.js';
import { add, permute, silu } from '../ops/elementwise.js';
import { norm } from '../ops/norm.js';
import { patchify, unpatchify } from '../ops/patchify.js';
import { timestepEmbedding } from '../ops/timestep.js';
import type { LatteConfig } from './config.js';
import { linear, linearGatedResidual, Scratch, view } from './layers.js';
import { sincos1d, sincos2d } from './posembed.js';
import type { Weights } from './weights.js';

export interface LatteInputs {
  latents: Tensor; // [B, C, F, H, W]
  timestep: Tensor; // f32 [B]
  text: Tensor; // [B, L, caption_channels]
}

export function recordLatte(plan: Plan, c: LatteConfig, w: Weights, io: LatteInputs): Tensor {
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
  const patches = patchify(plan, { x: io.latents, out: s.get('patches', [B * F, S, K]), patch: [1, p, p] });
  const x0 = linear(plan, patches, { w: view(w.get('pos_embed.proj.weight'), [D, K]), b: w.get('pos_embed.proj.bias') }, s.get('x0', [B * F, S, D]), 'proj');
  const pos = plan.alloc.upload(sincos2d(D, gh, gw, c.sampleSize / p, c.interpolationScale), [S, D], w.dtype, 'pos_embed');
  const x = add(plan, { a: x0, b: pos, out: s.get('x', [B * F, S, D]), layer: 'add' });

  // 2. adaln_single: emb = MLP(sinusoid(t)); t6 = Linear(SiLU(emb)) → [B, 6D]
  plan.layer = 'adaln_single';
  const tfreq = timestepEmbedding(plan, { t: io.timestep, out: s.get('t_freq', [B, 256]), flipSinToCos: true, downscaleFreqShift: 0, layer: 'time_proj' });
  const th = linear(plan, tfreq, w.linear('adaln_single.emb.timestep_embedder.linear_1'), s.get('t_hidden', [B, D]), 'linear_1', 'silu');
  const emb = linear(plan, th, w.linear('adaln_single.emb.timestep_embedder.linear_2'), s.get('embedded_timestep', [B, D]), 'linear_2');
  const embAct = silu(plan, { x: emb, out: s.get('emb_silu', [B, D]), layer: 'silu' });
  const t6 = linear(plan, embAct, w.linear('adaln_single.linear'), s.get('t6', [B, 6 * D]), 'linear');

  // caption projection: Linear → GELU(tanh) → Linear; the same text for every frame of an item
  plan.layer = 'caption_projection';
  const c1 = linear(plan, io.text, w.linear('caption_projection.linear_1'), s.get('cap_hidden', [B, L, D]), 'linear_1', 'gelu');
  const cap = linear(plan, c1, w.linear('caption_projection.linear_2'), s.get('caption', [B, L, D]), 'linear_2');

  const mod = s.get('mod', [B, 6 * D]);
  const n = s.get('n', [B, T, D]);
  const q = s.get('q', [B, T, D]);
  const k = s.get('k', [B, T, D]);
  const v = s.get('v', [B, T, D]);
  const a = s.get('attn', [B, T, D]);
  const kc = s.get('k_text', [B, L, D]);
  const vc = s.get('v_text', [B, L, D]);
  const hidden = s.get('ff_hidden', [B, T, c.ffnDim]);
  const xt = s.get('x_temporal', [B * S, F, D]);
  const tpos = F > 1 ? plan.alloc.upload(Float32Array.from(sincos1d(D, Array.from({ length: F }, (_, i) => i))), [F, D], w.dtype, 'temp_pos_embed') : null;
  const gate = (j: number) => ({ mod, stride: 6 * D, offset: j * D, tokens: T });
  const heads = { heads: c.heads, headDim: c.headDim };

  /** BasicTransformerBlock with norm_type ada_norm_single on rows shaped [seqs, len, D]. */
  const block = (prefix: string, xs: Tensor, seqs: number, len: number, cross: boolean) => {
    plan.layer = prefix;
    const v3 = (t: Tensor) => view(t, [seqs, len, D]);
    adaln(plan, { table: w.get(`${prefix}.scale_shift_table`), emb: t6, out: mod, batch: B, layer: 'modulation' });
    norm(plan, { x: xs, out: v3(n), eps: c.normEps, modulate: { mod, stride: 6 * D, shiftOffset: 0, scaleOffset: D }, tokens: T, layer: 'norm1' });
    linear(plan, v3(n), w.linear(`${prefix}.attn1.to_q`), v3(q), 'attn1.to_q');
    linear(plan, v3(n), w.linear(`${prefix}.attn1.to_k`), v3(k), 'attn1.to_k');
    linear(plan, v3(n), w.linear(`${prefix}.attn1.to_v`), v3(v), 'attn1.to_v');
    attention(plan, { q: v3(q), k: v3(k), v: v3(v), out: v3(a), ...heads, layer: 'attn1' });
    linearGatedResidual(plan, v3(a), w.linear(`${prefix}.attn1.to_out.0`), xs, gate(2), 'attn1.to_out');
    if (cross) {
      // queries of all F frames of item b attend to item b's caption: [B, F·S, D] against [B, L, D]
      const xb = view(xs, [B, T, D]);
      linear(plan, xb, w.linear(`${prefix}.attn2.to_q`), q, 'attn2.to_q');
      linear(plan, cap, w.linear(`${prefix}.attn2.to_k`), kc, 'attn2.to_k');
      linear(plan, cap, w.linear(`${prefix}.attn2.to_v`), vc, 'attn2.to_v');
      attention(plan, { q, k: kc, v: vc, out: a, ...heads, layer: 'attn2' });
      linearGatedResidual(plan, a, w.linear(`${prefix}.attn2.to_out.0`), xb, undefined, 'attn2.to_out');
    }
    norm(plan, { x: xs, out: v3(n), eps: c.normEps, modulate: { mod, stride: 6 * D, shiftOffset: 3 * D, scaleOffset: 4 * D }, tokens: T, layer: 'norm2' });
    linear(plan, v3(n), w.linear(`${prefix}.ff.net.0.proj`), view(hidden, [seqs, len, c.ffnDim]), 'ff.net.0', 'gelu');
    linearGatedResidual(plan, view(hidden, [seqs, len, c.ffnDim]), w.linear(`${prefix}.ff.net.2`), xs, gate(5), 'ff.net.2');
  };

  for (let i = 0; i < c.layers; i++) {
    block(`transformer_blocks.${i}`, x, B * F, S, true);
    // '(b f) s d -> (b s) f d', temporal block, and back
    plan.layer = `temporal_transformer_blocks.${i}`;
    permute(plan, { x, out: xt, shape: [B, F, S, D], layer: 'to_temporal' });
    const xin = i === 0 && tpos ? add(plan, { a: xt, b: tpos, out: s.get('x_temporal_pos', [B * S, F, D]), layer: 'temp_pos_embed' }) : xt;
    // the temporal block works in place on xin; copy it back to x in spatial order afterwards
    block(`temporal_transformer_blocks.${i}`, xin, B * S, F, false);
    plan.layer = `temporal_transformer_blocks.${i}`;
    permute(plan, { x: xin, out: x, shape: [B, S, F, D], layer: 'to_spatial' });
  }

  // 3. head: shift, scale = scale_shift_table[2, D] + embedded_timestep; LN → modulate → proj_out
  plan.layer = 'head';
  const headMod = adaln(plan, { table: w.get('scale_shift_table'), emb, out: s.get('head_mod', [B, 2 * D]), batch: B, perItem: true, layer: 'modulation' });
  norm(plan, { x, out: view(n, [B * F, S, D]), eps: 1e-6, modulate: { mod: headMod, stride: 2 * D, shiftOffset: 0, scaleOffset: D }, tokens: T, layer: 'norm_out' });
  const Kout = p * p * c.outChannels;
  const o = linear(plan, view(n, [B * F, S, D]), w.linear('proj_out'), s.get('proj_out', [B * F, S, Kout]), 'proj_out');

  // 4. unpatchify per frame ('nhwpqc->nchpwq') and back to [B, C, F, H, W]
  const out = plan.alloc.tensor([B, c.outChannels, F, H, W], w.dtype, 'sample');
  unpatchify(plan, { x: view(o, [B, T, Kout]), out, patch: [1, p, p], grid: [F, gh, gw], channels: c.outChannels, order: 'c-last', layer: 'unpatchify' });
  plan.layer = '';
  return out;
}
