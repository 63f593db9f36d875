// DiTTransformer2DModel (class-conditional DiT with adaLN-Zero), as diffusers computes it:
// patch embed + 2D sincos → N × [adaLN-Zero self-attn, adaLN-Zero MLP] → modulated head →
// unpatchify. Traps (RESEARCH.md §1.2): the sinusoid divides by half−1 (downscale_freq_shift=1),
// the MLP LayerNorm uses config.norm_eps (1e-5) while the attention LN and head use 1e-6, each
// block has its own copy of the timestep MLP and class table, and the head uses block 0's.
import type { Plan } from '../gpu/plan.js';
import type { Tensor } from '../gpu/tensor.js';
import { add, gather, silu } from '../ops/elementwise.js';
import { norm } from '../ops/norm.js';
import { patchify, unpatchify } from '../ops/patchify.js';
import { timestepEmbedding } from '../ops/timestep.js';
import { adaLnZeroBlock } from './block.js';
import type { DitConfig } from './config.js';
import { linear, Scratch, view } from './layers.js';
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
  const patches = patchify(plan, { x: io.latents, out: s.get('patches', [B, N, K]), patch: [1, p, p], layer: 'patchify' });
  const x0 = linear(plan, patches, { w: view(w.get('pos_embed.proj.weight'), [D, K]), b: w.get('pos_embed.proj.bias'), key: 'pos_embed.proj' }, s.get('x0', [B, N, D]));
  // a dry run (memory planning) sizes the table without building it: it is [N, D] floats on the host
  const pos = plan.alloc.upload(plan.alloc.dry ? [] : sincos2d(D, gh, gw, Math.floor(c.sampleSize / p), 1), [N, D], w.dtype, 'pos_embed');
  const x = add(plan, { a: x0, b: pos, out: s.get('x', [B, N, D]), layer: 'add' }); // [B, N, D]

  plan.layer = '';
  const tfreq = timestepEmbedding(plan, { t: io.timestep, out: s.get('t_freq', [B, 256]), flipSinToCos: true, downscaleFreqShift: 1, layer: 'time_proj' });
  const th = s.get('t_hidden', [B, D]);
  const temb = s.get('temb', [B, D]);
  const yemb = s.get('class_emb', [B, D]);
  const cond = s.get('cond', [B, D]);
  const condAct = s.get('cond_silu', [B, D]);
  const mod = s.get('mod', [B, 6 * D]); // shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp
  let cond0: Tensor | null = null;

  for (let i = 0; i < c.layers; i++) {
    const b = `transformer_blocks.${i}`;
    plan.layer = b;
    // AdaLayerNormZero's conditioning c = MLP(sinusoid(t)) + class_table[y], with this block's own
    // copies; mod = norm1.linear(SiLU(c))
    linear(plan, tfreq, w.linear(`${b}.norm1.emb.timestep_embedder.linear_1`), th, 'silu');
    linear(plan, th, w.linear(`${b}.norm1.emb.timestep_embedder.linear_2`), temb);
    gather(plan, { table: w.get(`${b}.norm1.emb.class_embedder.embedding_table.weight`), ids: io.labels, out: yemb, layer: 'norm1.emb.class_embedder' });
    const ci = i === 0 ? s.get('cond0', [B, D]) : cond;
    add(plan, { a: temb, b: yemb, out: ci, layer: 'norm1.emb' });
    if (i === 0) cond0 = ci;
    silu(plan, { x: ci, out: condAct, layer: 'norm1.silu' });
    linear(plan, condAct, w.linear(`${b}.norm1.linear`), mod); // [B, 6D]

    // self-attention LN eps 1e-6, MLP LN (norm3) eps config.norm_eps; no q/k norm, no RoPE, no cross-attention
    adaLnZeroBlock(plan, s, w, {
      prefix: b,
      x,
      tokens: N,
      modulation: mod,
      heads: c.heads,
      headDim: c.headDim,
      eps: { attn: 1e-6, ffn: c.normEps },
      names: { ffn: 'ff', ffnNorm: 'norm3' },
    });
  }

  // 2. head: shift, scale = proj_out_1(SiLU(c of block 0)); LN(x, 1e-6)·(1+scale)+shift → proj_out_2
  plan.layer = '';
  const n = s.get('n', [B, N, D]);
  silu(plan, { x: cond0!, out: condAct, layer: 'proj_out_1.silu' });
  const headMod = linear(plan, condAct, w.linear('proj_out_1'), s.get('head_mod', [B, 2 * D]));
  norm(plan, { x, out: n, eps: 1e-6, modulate: { mod: headMod, stride: 2 * D, shiftOffset: 0, scaleOffset: D }, tokens: N, layer: 'norm_out' });
  const Kout = p * p * c.outChannels;
  const o = linear(plan, n, w.linear('proj_out_2'), s.get('proj_out', [B, N, Kout]));

  // 3. unpatchify 'nhwpqc->nchpwq': per-token outputs ordered (p, q, c), c fastest
  const out = plan.alloc.tensor([B, c.outChannels, H, W], w.dtype, 'sample');
  unpatchify(plan, { x: o, out, patch: [1, p, p], grid: [1, gh, gw], channels: c.outChannels, order: 'c-last', layer: 'unpatchify' });
  return out;
}
