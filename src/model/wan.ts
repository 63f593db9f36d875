// WanTransformer3DModel (Wan2.1 T2V), as diffusers' transformer_wan.py computes it:
// patch embed → time/text embedders → N × [self-attn (q/k RMSNorm across heads, 3D RoPE) →
// cross-attn to text → FFN], each adaLN-modulated and gated → modulated head → unpatchify.
import type { Plan } from '../gpu/plan.js';
import type { Tensor } from '../gpu/tensor.js';
import { adaln } from '../ops/adaln.js';
import { attention } from '../ops/attention.js';
import { silu } from '../ops/elementwise.js';
import { norm } from '../ops/norm.js';
import { patchify, unpatchify } from '../ops/patchify.js';
import { rope, ropeTable } from '../ops/rope.js';
import { timestepEmbedding } from '../ops/timestep.js';
import type { WanConfig } from './config.js';
import { linear, linearGatedResidual, Scratch, view } from './layers.js';
import type { Weights } from './weights.js';

export interface WanInputs {
  latents: Tensor; // [B, C, F, H, W]
  timestep: Tensor; // f32 [B]
  text: Tensor; // [B, L, text_dim]
}

/** Records one forward pass; returns the output latent tensor [B, Cout, F, H, W]. */
export function recordWan(plan: Plan, c: WanConfig, w: Weights, io: WanInputs): Tensor {
  const s = new Scratch(plan, w.dtype);
  const [B, , F, H, W] = io.latents.shape as [number, number, number, number, number];
  const [pt, ph, pw] = c.patch;
  const grid: [number, number, number] = [F / pt, H / ph, W / pw];
  const N = grid[0] * grid[1] * grid[2]; // tokens, frame-major then row, column
  const L = io.text.shape[1]!;
  const D = c.dim;
  const K = c.inChannels * pt * ph * pw;

  // 1. patch embedding: Conv3d(k = s = patch) = patchify + GEMM with the weight as [D, C·pt·ph·pw]
  plan.layer = 'patch_embedding';
  const patches = patchify(plan, { x: io.latents, out: s.get('patches', [B, N, K]), patch: c.patch });
  const x = linear(plan, patches, { w: view(w.get('patch_embedding.weight'), [D, K]), b: w.get('patch_embedding.bias') }, s.get('x', [B, N, D]), ''); // [B, N, D]

  // 2. condition embedder: temb = MLP(sinusoid(t)); timestep_proj = Linear(SiLU(temb)) → [B, 6, D]
  plan.layer = 'condition_embedder';
  const tfreq = timestepEmbedding(plan, { t: io.timestep, out: s.get('t_freq', [B, c.freqDim]), flipSinToCos: true, downscaleFreqShift: 0, layer: 'time_proj' });
  const t1 = linear(plan, tfreq, w.linear('condition_embedder.time_embedder.linear_1'), s.get('t_hidden', [B, D]), 'time_embedder.linear_1', 'silu');
  const temb = linear(plan, t1, w.linear('condition_embedder.time_embedder.linear_2'), s.get('temb', [B, D]), 'time_embedder.linear_2'); // [B, D]
  const tembAct = silu(plan, { x: temb, out: s.get('temb_silu', [B, D]), layer: 'act' });
  const tproj = linear(plan, tembAct, w.linear('condition_embedder.time_proj'), s.get('timestep_proj', [B, 6 * D]), 'time_proj'); // [B, 6D]
  // text: Linear → GELU(tanh) → Linear over all L tokens (padding included, as diffusers does)
  const c1 = linear(plan, io.text, w.linear('condition_embedder.text_embedder.linear_1'), s.get('text_hidden', [B, L, D]), 'text_embedder.linear_1', 'gelu');
  const ctx = linear(plan, c1, w.linear('condition_embedder.text_embedder.linear_2'), s.get('context', [B, L, D]), 'text_embedder.linear_2'); // [B, L, D]

  // RoPE cos/sin table for this grid, float64 on the host like diffusers, uploaded once
  const table = plan.alloc.upload(ropeTable(grid, c.headDim), [N, c.headDim / 2, 2], 'f32', 'rope_table');

  const mod = s.get('mod', [B, 6 * D]); // shift, scale, gate, c_shift, c_scale, c_gate
  const gate = (j: number) => ({ mod, stride: 6 * D, offset: j * D, tokens: N });
  const n = s.get('n', [B, N, D]);
  const q = s.get('q', [B, N, D]);
  const k = s.get('k', [B, N, D]);
  const v = s.get('v', [B, N, D]);
  const qn = s.get('q_norm', [B, N, D]);
  const kn = s.get('k_norm', [B, N, D]);
  const a = s.get('attn', [B, N, D]);
  const kc = s.get('k_text', [B, L, D]);
  const kcn = s.get('k_text_norm', [B, L, D]);
  const vc = s.get('v_text', [B, L, D]);
  const hidden = s.get('ffn_hidden', [B, N, c.ffnDim]);
  const attnArgs = { heads: c.heads, headDim: c.headDim };

  for (let i = 0; i < c.layers; i++) {
    const p = `blocks.${i}`;
    plan.layer = p;
    adaln(plan, { table: w.get(`${p}.scale_shift_table`), emb: tproj, out: mod, batch: B, layer: 'modulation' });

    // self-attention: x += gate ⊙ to_out(attn(rope(rms(q)), rope(rms(k)), v)) of LN(x)·(1+scale)+shift
    norm(plan, { x, out: n, eps: c.eps, modulate: { mod, stride: 6 * D, shiftOffset: 0, scaleOffset: D }, tokens: N, layer: 'norm1' });
    linear(plan, n, w.linear(`${p}.attn1.to_q`), q, 'attn1.to_q');
    linear(plan, n, w.linear(`${p}.attn1.to_k`), k, 'attn1.to_k');
    linear(plan, n, w.linear(`${p}.attn1.to_v`), v, 'attn1.to_v');
    norm(plan, { x: q, out: qn, eps: c.eps, rms: true, weight: w.get(`${p}.attn1.norm_q.weight`), layer: 'attn1.norm_q' });
    norm(plan, { x: k, out: kn, eps: c.eps, rms: true, weight: w.get(`${p}.attn1.norm_k.weight`), layer: 'attn1.norm_k' });
    rope(plan, { x: qn, table, ...attnArgs, layer: 'attn1.rope_q' });
    rope(plan, { x: kn, table, ...attnArgs, layer: 'attn1.rope_k' });
    attention(plan, { q: qn, k: kn, v, out: a, ...attnArgs, layer: 'attn1' });
    linearGatedResidual(plan, a, w.linear(`${p}.attn1.to_out.0`), x, gate(2), 'attn1.to_out');

    // cross-attention to the text: x += to_out(attn(rms(q), rms(k_text), v_text)) of norm2(x); no gate, no RoPE
    if (c.crossAttnNorm) norm(plan, { x, out: n, eps: c.eps, weight: w.get(`${p}.norm2.weight`), bias: w.get(`${p}.norm2.bias`), layer: 'norm2' });
    const xin = c.crossAttnNorm ? n : x;
    linear(plan, xin, w.linear(`${p}.attn2.to_q`), q, 'attn2.to_q');
    linear(plan, ctx, w.linear(`${p}.attn2.to_k`), kc, 'attn2.to_k');
    linear(plan, ctx, w.linear(`${p}.attn2.to_v`), vc, 'attn2.to_v');
    norm(plan, { x: q, out: qn, eps: c.eps, rms: true, weight: w.get(`${p}.attn2.norm_q.weight`), layer: 'attn2.norm_q' });
    norm(plan, { x: kc, out: kcn, eps: c.eps, rms: true, weight: w.get(`${p}.attn2.norm_k.weight`), layer: 'attn2.norm_k' });
    attention(plan, { q: qn, k: kcn, v: vc, out: a, ...attnArgs, layer: 'attn2' });
    linearGatedResidual(plan, a, w.linear(`${p}.attn2.to_out.0`), x, undefined, 'attn2.to_out');

    // feed-forward: x += c_gate ⊙ W2·GELU(W1·(LN(x)·(1+c_scale)+c_shift))
    norm(plan, { x, out: n, eps: c.eps, modulate: { mod, stride: 6 * D, shiftOffset: 3 * D, scaleOffset: 4 * D }, tokens: N, layer: 'norm3' });
    linear(plan, n, w.linear(`${p}.ffn.net.0.proj`), hidden, 'ffn.net.0', 'gelu');
    linearGatedResidual(plan, hidden, w.linear(`${p}.ffn.net.2`), x, gate(5), 'ffn.net.2');
  }

  // 3. output head: shift, scale = scale_shift_table[1,2,D] + temb (not the 6·D projection)
  plan.layer = 'head';
  const headMod = adaln(plan, { table: w.get('scale_shift_table'), emb: temb, out: s.get('head_mod', [B, 2 * D]), batch: B, perItem: true, layer: 'modulation' });
  norm(plan, { x, out: n, eps: c.eps, modulate: { mod: headMod, stride: 2 * D, shiftOffset: 0, scaleOffset: D }, tokens: N, layer: 'norm_out' });
  const Kout = c.outChannels * pt * ph * pw;
  const o = linear(plan, n, w.linear('proj_out'), s.get('proj_out', [B, N, Kout]), 'proj_out');

  // 4. unpatchify: each token's outputs ordered (pt, ph, pw, c), c fastest
  const out = plan.alloc.tensor([B, c.outChannels, F, H, W], w.dtype, 'sample');
  unpatchify(plan, { x: o, out, patch: c.patch, grid, channels: c.outChannels, order: 'c-last', layer: 'unpatchify' });
  plan.layer = '';
  return out;
}
