// WanTransformer3DModel (Wan2.1 T2V), as diffusers' transformer_wan.py computes it:
// patch embed → time/text embedders → N × [self-attn (q/k RMSNorm across heads, 3D RoPE) →
// cross-attn to text → FFN], each adaLN-modulated and gated → modulated head → unpatchify.
import { offsetAlignment, type Plan } from '../gpu/plan.js';
import { bytesPer, subTensor, type Tensor } from '../gpu/tensor.js';
import { adaln } from '../ops/adaln.js';
import { silu } from '../ops/elementwise.js';
import { norm } from '../ops/norm.js';
import { patchify, unpatchify } from '../ops/patchify.js';
import { ropeTable } from '../ops/rope.js';
import { timestepEmbedding } from '../ops/timestep.js';
import { adaLnZeroBlock, crossKVTensors, recordCrossKV, type CrossKVTensors } from './block.js';
import type { WanConfig } from './config.js';
import { itemwise } from './ffn.js';
import { linear, Scratch, view } from './layers.js';
import { RopeLimitError, type RopeAxis } from './model.js';
import type { Weights } from './weights.js';

export interface WanInputs {
  latents: Tensor; // [B, C, F, H, W]
  timestep: Tensor; // f32 [B]
  text: Tensor; // [B, L, text_dim]
}

/**
 * Where the host writes the cross-attention key fold of the text (AttentionArgs.keyFold): u32,
 * item b's entry at element b·stride (stride 1, or the binding offset alignment in u32s when the
 * blocks run item by item and bind each entry alone). Holds L (nothing folded) until written.
 */
export interface KeyFoldTable {
  tensor: Tensor;
  stride: number;
}

/** What recordWan records: the output latents, the text's key-fold table and the text-only part's recorder. */
export interface WanRecording {
  out: Tensor; // [B, Cout, F, H, W]
  textKeyFold: KeyFoldTable;
  /**
   * Records the text-only work (text embedder, every block's to_k/norm_k/to_v) over the first `rows`
   * (1..L) rows of each item into `prepare`, writing the same tensors as the recorded prepare plan
   * (which is `recordText(prepare, L)`); the rows after are left as they are. Enough for the
   * forward when rows ≥ every item's keyFold entry + 1 (the cross-attention reads no key after it).
   */
  recordText: (prepare: Plan, rows: number) => void;
}

/**
 * Wan latents' grid after patching (`fhw`: latent frames, height, width) and the axes on which it is longer
 * than rope_max_seq_len: what checkRopeGrid and Pipeline.generate's refusal (in pixels) both test.
 */
export function ropeGrid(c: WanConfig, fhw: readonly number[]): { grid: number[]; over: RopeAxis[] } {
  const grid = fhw.map((n, i) => n / c.patch[i]!);
  return { grid, over: (['frames', 'height', 'width'] as const).filter((_, i) => grid[i]! > c.ropeMaxSeqLen) };
}

/**
 * Refuses latents whose grid after patching is longer than rope_max_seq_len on any axis: diffusers'
 * WanRotaryPosEmbed builds rope_max_seq_len positions per axis and slices frames, height and width
 * from them, so a longer axis fails there; tessera computes its table per grid and would otherwise
 * run what diffusers cannot. `name` is the tensor's name in the message and the error's `option`; `fhw` the latent frames,
 * height and width (each divisible by the patch).
 * @throws RopeLimitError (an InputError) `NAME: [shape] gives a grid of F×H×W …, beyond config.json's rope_max_seq_len R in AXIS: …`.
 */
export function checkRopeGrid(c: WanConfig, name: string, shape: readonly number[], fhw: readonly [number, number, number]): void {
  const R = c.ropeMaxSeqLen;
  const { grid, over } = ropeGrid(c, fhw);
  if (!over.length) return;
  throw new RopeLimitError(
    `${name}: [${shape.join(',')}] gives a grid of ${grid.join('×')} (frames×height×width after patch_size ${c.patch.join('×')}), beyond config.json's ` +
      `rope_max_seq_len ${R} in ${over.join(' and ')}: the 3-D RoPE has ${R} positions per axis (diffusers' WanRotaryPosEmbed); ` +
      `use latents of at most ${c.patch.map((p) => p * R).join('×')} frames×height×width, or raise rope_max_seq_len in config.json`,
    over,
    name,
  );
}

/**
 * Records one forward pass into `plan`, and what depends on the text alone (the text embedder and
 * every block's cross-attention K/V) into `prepare`, which must run before `plan` whenever the
 * text changes (once per generation). Returns the output latent tensor [B, Cout, F, H, W] and the
 * table of the text's key fold, which the host writes with the text (model.ts: keyFoldLengths of
 * encoder_hidden_states): WanPipeline (diffusers pipeline_wan.py) zero-pads the prompt embeddings to
 * max_sequence_length rows and WanTransformer3DModel (transformer_wan.py) attends to all of them
 * unmasked; the padded rows give equal keys and values (the text embedder, to_k/to_v and norm_k
 * act row by row), which the cross-attention takes as one key (+ ln of their count): same output,
 * and a 10-token prompt in 512 rows visits 11 keys instead of 512.
 */
export function recordWan(plan: Plan, c: WanConfig, w: Weights, io: WanInputs, prepare: Plan): WanRecording {
  const s = new Scratch(plan, w.dtype);
  const [B, , F, H, W] = io.latents.shape as [number, number, number, number, number];
  const [pt, ph, pw] = c.patch;
  const grid: [number, number, number] = [F / pt, H / ph, W / pw];
  const N = grid[0] * grid[1] * grid[2]; // tokens, frame-major then row, column
  const L = io.text.shape[1]!;
  const D = c.dim;
  const K = c.inChannels * pt * ph * pw;
  // forward() refuses this first, naming hidden_states; this catches the memory estimate's dry run
  checkRopeGrid(c, 'latent', io.latents.shape, [F, H, W]);

  // 1. patch embedding: Conv3d(k = s = patch) = patchify + GEMM with the weight as [D, C·pt·ph·pw]
  plan.layer = 'patch_embedding';
  const patches = patchify(plan, { x: io.latents, out: s.get('patches', [B, N, K]), patch: c.patch, layer: 'patchify' });
  const x = s.get('x', [B, N, D]); // [B, N, D]
  const Kout = c.outChannels * pt * ph * pw;
  // token-wise layers item by item when [B, N, D] would exceed one binding (ffn.ts itemwise)
  const items = itemwise(plan, { batch: B, tokens: N, dim: D, bytes: bytesPer(w.dtype), rowElems: [N * D, N * K, N * Kout, 6 * D, 2 * D, L * D] })
    ? Array.from({ length: B }, (_, b) => b)
    : null;
  /** Item b of a [B, rows, cols] tensor as [1, rows, cols] (its rows bound at their offset). */
  const item = (t: Tensor, b: number) => subTensor(t, (b * t.size) / B, [1, ...t.shape.slice(1)]);
  // the text's key fold, u32 per item (KeyFoldTable); item by item each entry is bound alone, at an aligned offset
  const foldStride = items ? offsetAlignment(plan.gpu) / 4 : 1;
  const keyFold = plan.alloc.uploadU32(new Uint32Array(B * foldStride).fill(L), 'text_key_fold');
  const foldOf = (b: number) => subTensor(keyFold, b * foldStride, [1]);
  const patchEmbed = { w: view(w.get('patch_embedding.weight'), [D, K]), b: w.get('patch_embedding.bias'), key: 'patch_embedding' };
  if (items) for (const b of items) linear(plan, item(patches, b), patchEmbed, item(x, b));
  else linear(plan, patches, patchEmbed, x);

  // 2. condition embedder: temb = MLP(sinusoid(t)); timestep_proj = Linear(SiLU(temb)) → [B, 6, D]
  plan.layer = 'condition_embedder';
  const tfreq = timestepEmbedding(plan, { t: io.timestep, out: s.get('t_freq', [B, c.freqDim]), flipSinToCos: true, downscaleFreqShift: 0, layer: 'timesteps_proj' });
  const t1 = linear(plan, tfreq, w.linear('condition_embedder.time_embedder.linear_1'), s.get('t_hidden', [B, D]), 'silu');
  const temb = linear(plan, t1, w.linear('condition_embedder.time_embedder.linear_2'), s.get('temb', [B, D])); // [B, D]
  const tembAct = silu(plan, { x: temb, out: s.get('temb_silu', [B, D]), layer: 'act_fn' });
  const tproj = linear(plan, tembAct, w.linear('condition_embedder.time_proj'), s.get('timestep_proj', [B, 6 * D])); // [B, 6D]
  // text (prepare plan): Linear → GELU(tanh) → Linear, then every block's K/V (recordText, below)
  const textHidden = s.get('text_hidden', [B, L, D]);
  const ctx = s.get('context', [B, L, D]); // [B, L, D]
  const kvs: CrossKVTensors[] = [];

  // RoPE cos/sin table for this grid, float64 on the host like diffusers, uploaded once
  plan.layer = '';
  // (a memory-planning dry run uploads nothing: no need to compute it)
  const table = plan.alloc.upload(plan.alloc.dry ? [] : ropeTable(grid, c.headDim), [N, c.headDim / 2, 2], 'f32', 'rope_table');

  // blocks: adaLN-Zero with q/k RMSNorm across heads, 3D RoPE, cross-attention to the text
  // (affine norm2 when cross_attn_norm), one eps for every norm; modulation = scale_shift_table + timestep_proj
  for (let i = 0; i < c.layers; i++) {
    const kv = crossKVTensors(plan, s, `blocks.${i}`, ctx, true); // [B, L, D] each
    kvs.push(kv);
    const block = (xs: Tensor, emb: Tensor, k: Tensor, v: Tensor, fold: Tensor) => adaLnZeroBlock(plan, s, w, {
      prefix: `blocks.${i}`,
      x: xs,
      tokens: N,
      modulation: { table: 'scale_shift_table', emb },
      heads: c.heads,
      headDim: c.headDim,
      eps: { attn: c.eps, ffn: c.eps },
      names: { ffn: 'ffn', ffnNorm: 'norm3' },
      qkNormEps: c.eps,
      rope: table,
      cross: { kv: { k, v }, normEps: c.crossAttnNorm ? c.eps : undefined, keyFold: fold },
    });
    if (items) for (const b of items) block(item(x, b), item(tproj, b), item(kv.k, b), item(kv.v, b), foldOf(b));
    else block(x, tproj, kv.k, kv.v, keyFold);
  }

  // 3. output head: shift, scale = scale_shift_table[1,2,D] + temb (not the 6·D projection)
  plan.layer = '';
  const headMod = adaln(plan, { table: w.get('scale_shift_table'), emb: temb, out: s.get('head_mod', [B, 2 * D]), batch: B, perItem: true, layer: 'scale_shift_table' });
  const o = s.get('proj_out', [B, N, Kout]);
  const head = (xs: Tensor, os: Tensor, b: number) => {
    const n = s.get('n', xs.shape);
    norm(plan, { x: xs, out: n, eps: c.eps, modulate: { mod: headMod, stride: 2 * D, shiftOffset: b * 2 * D, scaleOffset: b * 2 * D + D }, tokens: N, layer: 'norm_out' });
    linear(plan, n, w.linear('proj_out'), os);
  };
  if (items) for (const b of items) head(item(x, b), item(o, b), b);
  else head(x, o, 0);

  // 4. unpatchify: each token's outputs ordered (pt, ph, pw, c), c fastest
  const out = plan.alloc.tensor([B, c.outChannels, F, H, W], w.dtype, 'sample');
  unpatchify(plan, { x: o, out, patch: c.patch, grid, channels: c.outChannels, order: 'c-last', layer: 'unpatchify' });

  // the text-only work over the first `rows` rows of each item, into the same tensors: all L rows here
  // (what the memory plan's dry run sees: the largest case); the model records smaller row counts on
  // demand, each op one dispatch over the B items (gemm/norm itemRows: item b's rows at b·L)
  const recordText = (p: Plan, rows: number) => {
    if (!Number.isInteger(rows) || rows < 1 || rows > L) throw new Error(`recordText: ${rows} rows of ${L}, expected 1..${L}`);
    const itemRows = rows < L ? rows : undefined;
    p.layer = 'condition_embedder';
    linear(p, io.text, w.linear('condition_embedder.text_embedder.linear_1'), textHidden, 'gelu', itemRows);
    linear(p, textHidden, w.linear('condition_embedder.text_embedder.linear_2'), ctx, 'none', itemRows);
    kvs.forEach((kv, i) => recordCrossKV(p, w, { prefix: `blocks.${i}`, context: ctx, out: kv, qkNormEps: c.eps, itemRows }));
  };
  recordText(prepare, L);
  return { out, textKeyFold: { tensor: keyFold, stride: foldStride }, recordText };
}

/**
 * The rows of each text item the prepare plan computes for `need` rows read (max over items of
 * keyFold table + 1: the attention reads keys 0..klen[b], the last one standing for the fold):
 * the smallest power of two ≥ 16 that holds them, at most L. A few buckets, so that a plan
 * recorded for one prompt serves the next prompts of similar length.
 */
export function textRowBucket(need: number, L: number): number {
  if (!Number.isInteger(need) || need < 1) throw new Error(`textRowBucket: need ${need} rows, expected an integer ≥ 1`);
  let r = 16;
  while (r < need) r *= 2;
  return Math.min(r, L);
}
