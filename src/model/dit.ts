// DiTTransformer2DModel (class-conditional DiT with adaLN-Zero), as diffusers computes it:
// patch embed + 2D sincos → N × [adaLN-Zero self-attn, adaLN-Zero MLP] → modulated head →
// unpatchify. Traps (RESEARCH.md §1.2): the sinusoid divides by half−1 (downscale_freq_shift=1),
// the MLP LayerNorm uses config.norm_eps (1e-5) while the attention LN and head use 1e-6, each
// block has its own copy of the timestep MLP and class table, and the head uses block 0's.
import type { Plan } from '../gpu/plan.js';
import type { Tensor } from '../gpu/tensor.js';
import { attention } from '../ops/attention.js';
import { add, gather, silu } from '../ops/elementwise.js';
import { norm } from '../ops/norm.js';
import { patchify, unpatchify } from '../ops/patchify.js';
import { timestepEmbedding } from '../ops/timestep.js';
import type { DitConfig } from './config.js';
import { linear, linearGatedResidual, Scratch, view } from './layers.js';
import { sincos2d } from './posembed.js';
import type { Weights } from './weights.js';

export interface DitInputs {
  latents: Tensor; // [B, C, H, W]
  timestep: Tensor; // f32 [B]
  labels: Tensor; // u32 [B]
}

export function recordDit(plan: Plan, c: DitConfig, w: Weights, io: DitInputs): Tensor {
  const s = new Scratch(plan, w.dtype);
  const [B, , H, W] = io.latents.shape as [number, number, number, number];
  const p = c.patch;
  const gh = H / p;
  const gw = W / p;
  const N = gh * gw;
  const D = c.dim;
  const K = c.inChannels * p * p;

  // 1. patch embedding + fixed 2D sincos position embedding (computed, not stored)
  plan.layer = 'pos_embed';
  const patches = patchify(plan, { x: io.latents, out: s.get('patches', [B, N, K]), patch: [1, p, p] });
  const x0 = linear(plan, patches, { w: view(w.get('pos_embed.proj.weight'), [D, K]), b: w.get('pos_embed.proj.bias') }, s.get('x0', [B, N, D]), 'proj');
  const pos = plan.alloc.upload(sincos2d(D, gh, gw, c.sampleSize / p, 1), [N, D], w.dtype, 'pos_embed');
  const x = add(plan, { a: x0, b: pos, out: s.get('x', [B, N, D]), layer: 'add' }); // [B, N, D]

  const tfreq = timestepEmbedding(plan, { t: io.timestep, out: s.get('t_freq', [B, 256]), flipSinToCos: true, downscaleFreqShift: 1, layer: 'time_proj' });
  const th = s.get('t_hidden', [B, D]);
  const temb = s.get('temb', [B, D]);
  const yemb = s.get('class_emb', [B, D]);
  const cond = s.get('cond', [B, D]);
  const condAct = s.get('cond_silu', [B, D]);
  const mod = s.get('mod', [B, 6 * D]); // shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp
  const n = s.get('n', [B, N, D]);
  const q = s.get('q', [B, N, D]);
  const k = s.get('k', [B, N, D]);
  const v = s.get('v', [B, N, D]);
  const a = s.get('attn', [B, N, D]);
  const hidden = s.get('mlp_hidden', [B, N, c.ffnDim]);
  const gate = (j: number) => ({ mod, stride: 6 * D, offset: j * D, tokens: N });
  let cond0: Tensor | null = null;

  for (let i = 0; i < c.layers; i++) {
    const b = `transformer_blocks.${i}`;
    plan.layer = b;
    // conditioning c = MLP(sinusoid(t)) + class_table[y], with this block's own copies
    linear(plan, tfreq, w.linear(`${b}.norm1.emb.timestep_embedder.linear_1`), th, 'timestep_embedder.linear_1', 'silu');
    linear(plan, th, w.linear(`${b}.norm1.emb.timestep_embedder.linear_2`), temb, 'timestep_embedder.linear_2');
    gather(plan, { table: w.get(`${b}.norm1.emb.class_embedder.embedding_table.weight`), ids: io.labels, out: yemb, layer: 'class_embedder' });
    const ci = i === 0 ? s.get('cond0', [B, D]) : cond;
    add(plan, { a: temb, b: yemb, out: ci, layer: 'cond' });
    if (i === 0) cond0 = ci;
    silu(plan, { x: ci, out: condAct, layer: 'norm1.silu' });
    linear(plan, condAct, w.linear(`${b}.norm1.linear`), mod, 'norm1.linear'); // [B, 6D]

    // x += gate_msa ⊙ attn(LN(x)·(1+scale_msa)+shift_msa)    (LN eps 1e-6)
    norm(plan, { x, out: n, eps: 1e-6, modulate: { mod, stride: 6 * D, shiftOffset: 0, scaleOffset: D }, tokens: N, layer: 'norm1' });
    linear(plan, n, w.linear(`${b}.attn1.to_q`), q, 'attn1.to_q');
    linear(plan, n, w.linear(`${b}.attn1.to_k`), k, 'attn1.to_k');
    linear(plan, n, w.linear(`${b}.attn1.to_v`), v, 'attn1.to_v');
    attention(plan, { q, k, v, out: a, heads: c.heads, headDim: c.headDim, layer: 'attn1' });
    linearGatedResidual(plan, a, w.linear(`${b}.attn1.to_out.0`), x, gate(2), 'attn1.to_out');

    // x += gate_mlp ⊙ MLP(LN(x)·(1+scale_mlp)+shift_mlp)    (norm3: eps = config.norm_eps)
    norm(plan, { x, out: n, eps: c.normEps, modulate: { mod, stride: 6 * D, shiftOffset: 3 * D, scaleOffset: 4 * D }, tokens: N, layer: 'norm3' });
    linear(plan, n, w.linear(`${b}.ff.net.0.proj`), hidden, 'ff.net.0', 'gelu');
    linearGatedResidual(plan, hidden, w.linear(`${b}.ff.net.2`), x, gate(5), 'ff.net.2');
  }

  // 2. head: shift, scale = proj_out_1(SiLU(c of block 0)); LN(x, 1e-6)·(1+scale)+shift → proj_out_2
  plan.layer = 'head';
  silu(plan, { x: cond0!, out: condAct, layer: 'silu' });
  const headMod = linear(plan, condAct, w.linear('proj_out_1'), s.get('head_mod', [B, 2 * D]), 'proj_out_1');
  norm(plan, { x, out: n, eps: 1e-6, modulate: { mod: headMod, stride: 2 * D, shiftOffset: 0, scaleOffset: D }, tokens: N, layer: 'norm_out' });
  const Kout = p * p * c.outChannels;
  const o = linear(plan, n, w.linear('proj_out_2'), s.get('proj_out', [B, N, Kout]), 'proj_out_2');

  // 3. unpatchify 'nhwpqc->nchpwq': per-token outputs ordered (p, q, c), c fastest
  const out = plan.alloc.tensor([B, c.outChannels, H, W], w.dtype, 'sample');
  unpatchify(plan, { x: o, out, patch: [1, p, p], grid: [1, gh, gw], channels: c.outChannels, order: 'c-last', layer: 'unpatchify' });
  plan.layer = '';
  return out;
}
